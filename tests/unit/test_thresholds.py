"""The threshold resolver: one order for every source, the calibration file's place in it."""

from __future__ import annotations

import re

import pytest

from pytest_llmjudge.config.thresholds import ORDER, Threshold, resolve
from pytest_llmjudge.errors import JudgeConfigError


def test_the_call_beats_the_marker_which_beats_the_setting() -> None:
    assert resolve(0.8, 0.7, 0.5, "cli") == Threshold(0.8, "call")
    assert resolve(None, 0.7, 0.5, "cli") == Threshold(0.7, "marker")
    assert resolve(None, None, 0.6, "ini") == Threshold(0.6, "ini")
    assert resolve(None, None, 0.5) == Threshold(0.5, "default")


@pytest.mark.parametrize(("source", "calibrated"), [
    ("call", False), ("marker", False), ("cli", False),
    ("ini", True), ("env", True), ("default", True),
])
def test_a_calibration_file_outranks_only_ini_env_and_default(source: str,
                                                               calibrated: bool) -> None:
    assert Threshold(0.5, source).yields_to_calibration is calibrated


def test_the_order_is_written_down_once() -> None:
    assert ORDER == ("call", "marker", "cli", "calibration", "ini", "env", "default")


@pytest.mark.parametrize("bad", ["high", 1.5, -0.1, float("nan"), True])
def test_a_bad_call_or_marker_threshold_is_an_error(bad: object) -> None:
    with pytest.raises(JudgeConfigError, match="threshold"):
        resolve(bad, None, 0.5)
    with pytest.raises(JudgeConfigError, match=re.escape("@pytest.mark.llmjudge threshold")):
        resolve(None, bad, 0.5)


def test_an_unknown_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown threshold source"):
        Threshold(0.5, "somewhere")
