"""Recipe overrides from the command line, shared by every training command (``--set key=value``)."""

import json


def parse_overrides(pairs: list[str], recipe: dict) -> dict:
    """``key=value`` strings (values as JSON, else text) checked against the recipe's keys."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in recipe:
            raise SystemExit(f"--set {pair!r}: expected key=value with key in {sorted(recipe)}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
