"""Properties of every file the plugin reads (issue 15's fuzzing harness): judgments
exports, labels, calibration thresholds, baselines and checklists. Any content gives
the file's own error naming where it went wrong, or a sound result; never another
exception, and never a probability outside [0, 1]."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_llmjudge.backends.base import Completion
from pytest_llmjudge.calibration import labels, thresholds_file
from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.storage import baselines, checklist_files
from pytest_llmjudge.storage.cache import CallKey, Entry
from pytest_llmjudge.storage.judgments_file import (
    _LINE_SCHEMA,
    JudgmentsFileError,
    export,
    load,
    sound_line,
)

pytestmark = pytest.mark.unit
FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
# Writable text: no lone surrogates (the writers refuse those before any file).
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    yes = draw(st.floats(min_value=0.0, max_value=1.0))
    key = CallKey(draw(texts), draw(texts), draw(texts), draw(texts),
                  json.dumps(draw(st.dictionaries(texts, st.integers() | texts, max_size=3)),
                             sort_keys=True),
                  draw(st.integers(min_value=0, max_value=10**6)), draw(st.integers()),
                  tuple(draw(st.lists(texts, max_size=3))))
    probs = draw(st.just({"answer": {"YES": yes, "NO": 1.0 - yes}}) | st.just({}))
    completion = Completion(draw(texts), probs, draw(st.integers(min_value=0, max_value=10**6)),
                            draw(st.integers(min_value=0, max_value=10**6)),
                            draw(st.none() | st.floats(min_value=0.0, max_value=10.0)))
    return Entry(key, draw(texts), completion)


@FAST
@given(drawn=st.lists(entries(), min_size=1, max_size=4))
def test_an_exported_judgment_reads_back_as_itself(tmp_path: Path, drawn: list[Entry]) -> None:
    unique = list({e.key.digest: e for e in drawn}.values())
    path = tmp_path / "judgments.jsonl"
    export(unique, path)
    back = {e.key.digest: e for e in load(path)}
    assert back.keys() == {e.key.digest for e in unique}
    for entry in unique:
        assert back[entry.key.digest].completion == entry.completion
        assert back[entry.key.digest].test == entry.test


def _mutated(line: dict[str, Any], path: list[str], value: Any, delete: bool) -> dict[str, Any]:
    data = json.loads(json.dumps(line))
    target = data
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            return data
        target = target[part]
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return data


PATHS = [["key"], ["test"], ["judge"], ["poll"], ["seed"], ["sampling"], ["judged"],
         ["reply"], ["reply", "text"], ["reply", "choice_probs"],
         ["reply", "choice_probs", "answer"], ["reply", "choice_probs", "answer", "YES"],
         ["reply", "prompt_tokens"], ["reply", "cost_usd"], ["extra"]]


@FAST
@given(entry=entries(), path=st.sampled_from(PATHS), value=json_values,
       delete=st.booleans(), raw=st.none() | st.tuples(st.integers(min_value=0), texts))
def test_a_mutated_line_is_refused_naming_it_or_reads_as_a_sound_judgment(
    tmp_path: Path, entry: Entry, path: list[str], value: Any, delete: bool,
    raw: tuple[int, str] | None,
) -> None:
    file = tmp_path / "judgments.jsonl"
    export([entry], file)
    header, line = file.read_text().rstrip("\n").split("\n")
    if raw is None:
        text = json.dumps(_mutated(json.loads(line), path, value, delete), ensure_ascii=False)
    else:  # a hand edit of the raw text: a character inserted anywhere
        at = raw[0] % (len(line) + 1)
        text = line[:at] + raw[1] + line[at:]
    file.write_text(f"{header}\n{text}\n")
    try:
        loaded = load(file)
    except JudgmentsFileError as err:
        assert f"{file}:2:" in str(err)
        return
    assert len(loaded) == 1
    got = loaded[0]
    data = json.loads(text)
    assert got.key.digest == data["key"]  # the key parts are the ones the line names
    for field in got.completion.choice_probs.values():
        assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in field.values())
        assert abs(sum(field.values()) - 1.0) <= 1e-6


@FAST
@given(entry=entries(), path=st.sampled_from(PATHS), value=json_values,
       delete=st.booleans())
def test_the_quick_line_check_agrees_with_the_schema(
    tmp_path: Path, entry: Entry, path: list[str], value: Any, delete: bool,
) -> None:
    import jsonschema

    file = tmp_path / "judgments.jsonl"
    export([entry], file)
    data = _mutated(json.loads(file.read_text().split("\n")[1]), path, value, delete)
    assert sound_line(data) == jsonschema.Draft7Validator(_LINE_SCHEMA).is_valid(data)


any_text = st.text(max_size=300) | json_values.map(lambda v: json.dumps(v)) | st.builds(
    lambda lines: "\n".join(lines), st.lists(json_values.map(json.dumps), max_size=4))


@FAST
@given(content=any_text)
def test_any_labels_file_loads_or_names_its_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        examples = labels.load(path)
    except labels.LabelsFileError:
        return
    assert examples and all(e.output.strip() for e in examples)


@FAST
@given(content=any_text)
def test_any_calibration_file_reads_or_names_its_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "llmjudge-calibration.json"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        found = thresholds_file.read(path)
    except thresholds_file.CalibrationFileError:
        return
    assert all(0.0 <= e.threshold <= 1.0 for e in found)


@FAST
@given(content=any_text | st.builds(
    lambda b: json.dumps({"format": "pytest-llmjudge baselines", "version": 1,
                          "test": "t", "baselines": b}),
    st.dictionaries(texts, json_values, max_size=3)))
def test_any_baseline_file_reads_or_names_its_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "test_x.json"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        stored = baselines.read(path)
    except baselines.BaselineFileError:
        return
    assert all(isinstance(v, str) and v.strip() for v in stored.values())


@FAST
@given(content=any_text | st.builds(
    lambda lines: "\n".join([checklist_files.HEADER, *lines]),
    st.lists(st.sampled_from(["instruction: \"x\"", "instruction: 3", "- item", "- ",
                              "- item", "# note", "written-by: me", "junk"]) | texts,
             max_size=6)))
def test_any_checklist_file_reads_or_names_its_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "test_x.checklist"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        found = checklist_files.read(path)
    except JudgeConfigError as err:
        assert str(path) in str(err)
        return
    assume(found is not None)
    assert found is not None and found.items and found.instruction is not None
