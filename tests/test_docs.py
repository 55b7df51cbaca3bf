"""The README keeps its promises: two commands, every setting documented, every CLI command shown."""
from __future__ import annotations

import re

from server.config import SETTINGS


def readme(root):
    return (root / "README.md").read_text(encoding="utf-8")


def test_two_commands_after_one_paragraph(root):
    text = readme(root)
    first_block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [l.split("#")[0].strip() for l in first_block.splitlines() if l.strip()]
    assert commands == ["make run", "make test"]


def test_every_setting_is_documented(root):
    text = readme(root)
    for s in SETTINGS:
        assert f"| `{s.name}` |" in text, f"setting {s.name} is not in the README's settings table"


def test_every_cli_command_is_documented(root):
    from server.cli import cli

    text = readme(root)
    for name in cli.commands:
        # `econplan NAME …`, possibly after global options (`econplan --store URL push`)
        assert re.search(rf"econplan (--[\w-]+ \S+ )*{re.escape(name)}\b", text), name


def test_ci_runs_make_test(root):
    assert "make test" in (root / ".ci/run").read_text()
