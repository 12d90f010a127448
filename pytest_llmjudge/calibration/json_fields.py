"""The field check that every entry of a calibration file gets before it is used: a
hand edit ("0.7" for 0.7, a missing key) must stop the run, not pass every test."""

from __future__ import annotations

from collections.abc import Mapping


def field_problem(raw: object, fields: Mapping[str, tuple[type, ...]],
                  also: frozenset[str] = frozenset()) -> str | None:
    """What is wrong with ``raw`` as an object of exactly ``fields`` (plus ``also``, checked
    by the caller), each of its listed types; None when nothing is."""
    if not isinstance(raw, dict):
        return "is not an object"
    missing = sorted((set(fields) | also) - set(raw))
    unknown = sorted(set(raw) - set(fields) - also)
    if missing or unknown:
        return f"has missing fields {missing} or unknown fields {unknown}"
    for name, kinds in fields.items():
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"has {name}={value!r}, not a {kinds[-1].__name__}"
    return None
