"""Where a judged assertion's pass threshold comes from: every source meets here.

The order, highest first (``ORDER``):

1. ``call``: the assertion's own ``threshold=``;
2. ``marker``: the closest ``@pytest.mark.llmjudge(threshold=...)``;
3. ``cli``: ``--llmjudge-threshold`` on the command line;
4. ``calibration``: the calibration file's threshold, fitted for this judge, prompt
   and kind of judgment (applied once the judge is known);
5. ``ini``: ``llmjudge_threshold`` in the ini file;
6. ``env``: the ``LLMJUDGE_THRESHOLD`` environment variable;
7. ``default``: 0.5.

Why this order: a threshold written in the test (call, marker) is part of what the
test means. The command line is what the person running pytest asked for just now, so
it beats a committed file. A fitted threshold was measured for this judge and prompt,
so it beats a project-wide number in the ini file or the environment that was not.
Pytest-free: the plugin hands in the marker's value and the settings' own source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import JudgeConfigError

ORDER = ("call", "marker", "cli", "calibration", "ini", "env", "default")


def parse_threshold(raw: object, source: str = "threshold") -> float:
    """A pass threshold on the judge's 0..1 score."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JudgeConfigError(
            f"{source}={raw!r} is not a number; use a value between 0 and 1, e.g. 0.5"
        ) from None
    if isinstance(raw, bool) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise JudgeConfigError(
            f"{source}={raw!r} is outside the score range; use a value between 0 and 1, e.g. 0.5"
        )
    return value


@dataclass(frozen=True)
class Threshold:
    """A threshold and the source (one of ``ORDER``) it was taken from."""

    value: float
    source: str

    def __post_init__(self) -> None:
        if self.source not in ORDER:
            raise ValueError(f"unknown threshold source {self.source!r}; one of {ORDER}")

    @property
    def yields_to_calibration(self) -> bool:
        """Whether a fitted threshold from the calibration file outranks this one."""
        return ORDER.index(self.source) > ORDER.index("calibration")


def resolve(call: object | None, marker: object | None, setting: float,
            setting_source: str = "default") -> Threshold:
    """The threshold before calibration: the call's, else the marker's, else the
    setting (whose ``setting_source`` is cli, ini, env or default). The calibration
    file's place in the order is kept by ``Threshold.yields_to_calibration``."""
    if call is not None:
        return Threshold(parse_threshold(call), "call")
    if marker is not None:
        return Threshold(parse_threshold(marker, "@pytest.mark.llmjudge threshold"), "marker")
    return Threshold(setting, setting_source if setting_source in ORDER else "default")
