"""pyshacl-turbo is the default engine while it gives pySHACL's report (the reference): on every
fixture of tests/shapes/ and on the whole shipped data.  (Apart from tests/test_validation.py so
that the two long pySHACL runs go to another test worker.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_shapes import fixture_files, fixture_id, fixture_report, shipped_report


def _keys(report) -> list:
    return sorted((r.key(), r.value) for r in report.results)


@pytest.mark.parametrize("path", fixture_files(), ids=fixture_id)
def test_engines_agree_on_fixture(path: Path):
    turbo = fixture_report(path, "turbo")
    reference = fixture_report(path, "pyshacl")
    assert _keys(turbo) == _keys(reference)
    assert turbo.as_text() == reference.as_text()
    # every result speaks both languages, a SPARQL constraint's too (its message reaches the
    # report without its language tag, one that quotes Chinese words in English included)
    for r in turbo.results + reference.results:
        assert set(r.message) == {"zh", "en"}, (r.source_shape, r.message)


def test_engines_agree_on_the_shipped_data(kg):
    turbo, reference = shipped_report(kg, "turbo"), shipped_report(kg, "pyshacl")
    assert turbo.conforms and reference.conforms
    assert _keys(turbo) == _keys(reference)
    assert turbo.as_text() == reference.as_text()
