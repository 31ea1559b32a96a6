"""Fuzzed invariants (tests/properties.py) under the ``edge-fuzz-ci`` hypothesis profile: 40 cases each, a few
hundred in all; ``python -m benchmarks.fuzz --examples 10000`` runs the same ones at length."""

import pytest
from hypothesis import given, settings

from tests.properties import PROPERTIES


@pytest.mark.parametrize("name", PROPERTIES)
def test_property_holds(name: str) -> None:
    prop = PROPERTIES[name]
    reason = prop.missing()
    if reason:
        pytest.skip(reason)
    settings(settings.get_profile("edge-fuzz-ci"))(given(prop.strategy)(prop.check))()
