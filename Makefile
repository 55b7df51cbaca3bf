# Two commands on a fresh machine with only Python and pip:
#   make run   - create .venv, install, build the store from data/, serve on http://127.0.0.1:8000
#   make test  - create .venv, install, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install build run test test-fast bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

build: $(STAMP)
	$(BIN)/econplan build

run: build
	$(BIN)/econplan serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	bash tests/setup-system.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: build
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build .pytest_cache tests/output
