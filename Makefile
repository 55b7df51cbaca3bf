# Two commands on a fresh machine with only Python and pip:
#   make run   - create .venv, install, build the store from data/, serve on http://127.0.0.1:8000
#   make test  - create .venv, install, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install build run test test-fast test-stores bench clean

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
	# three workers on two cores: many tests spend their time waiting on a server, a browser or a time limit
	$(BIN)/python -m pytest -n 3 --dist loadfile -q

# The backend-parametrised tests (endpoint, saved queries, validated loads, updates, entity pages,
# round trip, cut connections) against real external stores on 127.0.0.1 with throwaway databases.
# STORES=virtuoso where Fuseki's jar cannot be fetched (no Maven Central).
STORES ?= virtuoso fuseki
STORE_TESTS := tests/test_stores.py tests/test_store_cuts.py tests/test_endpoint.py tests/test_security.py tests/test_cities.py tests/test_loads.py
comma := ,
empty :=
space := $(empty) $(empty)
test-stores: $(STAMP)
	bash tests/setup-stores.sh $(STORES)
	ECONPLAN_TEST_BACKENDS=$(subst $(space),$(comma),$(strip $(STORES))) $(BIN)/python -m pytest -q \
	  $(STORE_TESTS) -k "$(subst $(space), or ,$(strip $(STORES)))"

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: build
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build .pytest_cache tests/output
