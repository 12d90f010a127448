"""Human labels for measuring a judge: a JSON Lines file, one labelled example a line.

Each line: ``kind`` (judged, grounded, correct, checklist, pairwise), ``output``,
``criteria``, and ``label``: 1 or 0 (the output meets the criteria or not), or an
integer rating with ``scale`` (its top point, e.g. 5) for a Likert label of a judged
output. By kind:
- ``grounded`` needs ``context`` (``question`` optional);
- ``correct`` needs ``question``, ``reference`` optional;
- ``checklist``: ``criteria`` is one checklist item, a yes/no question;
  ``instruction`` optional (what the output was written for);
- ``pairwise``: ``other_output`` is what ``output`` is compared with; label 1 means
  ``output`` is the better one; ``instruction`` optional;
- ``trajectory``: an agent's path, as ``conversation`` (a list of chat messages) or
  ``tool_calls`` (a list of calls), judged against ``criteria``; ``reference``
  optional, one good path in either form.
``judged`` and ``checklist`` lines may give ``conversation`` in place of ``output``: the
criteria are then asked of the whole conversation, as assert_judged and
assert_checklist ask them of one.
Every error names the file and the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from ..judging.reply_formats import SCALE_POINTS
from ..judging.texts import surrogate_problem, visible
from ..judging.tool_calls import trajectory_of
from ..judging.transcripts import Transcript, parse_transcript

KINDS = ("judged", "grounded", "correct", "checklist", "pairwise", "trajectory")
# The kinds whose output may be a conversation, and the fields that give one.
CONVERSATION_KINDS = ("judged", "checklist", "trajectory")
TRANSCRIPT_FIELDS = ("conversation", "tool_calls")
NEEDS = {"grounded": ("context",), "correct": ("question",), "pairwise": ("other_output",)}
OPTIONAL = {"grounded": ("question",), "correct": ("reference",),
            "checklist": ("instruction",), "pairwise": ("instruction",)}
FEW = 10  # below this many examples, every interval is wide


class LabelsFileError(JudgeConfigError):
    """A labels file that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Example:
    line: int
    kind: str
    output: str
    criteria: str
    label: int
    scale: int | None = None  # a Likert label's top point; None for a 0/1 label
    context: str | None = None
    question: str | None = None
    reference: str | None = None
    other_output: str | None = None
    instruction: str | None = None
    # A conversation or trajectory in place of ``output`` (which then holds its
    # canonical JSON), and a trajectory's reference path.
    transcript: Transcript | None = None
    reference_path: Transcript | None = None

    @property
    def positive(self) -> int:
        """The label as 0/1: a Likert label counts as meeting the criteria above the
        middle of its scale."""
        if self.scale is None:
            return self.label
        return int(self.label > (1 + self.scale) / 2)


def load(path: Path) -> list[Example]:
    try:
        # utf-8-sig: a byte-order mark (an editor's) is read past, as the judgments
        # import does.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise LabelsFileError(f"cannot read labels file {path}: {err}") from None
    examples = [_example(path, number, line)
                # Lines end at "\n" only: str.splitlines would also cut a JSON string
                # at a U+2028 or U+0085 written raw inside it.
                for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    if not examples:
        raise LabelsFileError(f"{path} holds no labelled examples; write one JSON object a "
                              'line, e.g. {"kind": "judged", "output": "...", '
                              '"criteria": "...", "label": 1}')
    _warn_of_contradictions(path, examples)
    return examples


class ContradictoryLabelsWarning(UserWarning):
    """One example labelled two ways in one labels file."""


def _warn_of_contradictions(path: Path, examples: list[Example]) -> None:
    """The same example (every field but the label) labelled differently on two lines:
    a fit cannot agree with both, so the reviewer is told which lines to settle."""
    import dataclasses
    import warnings

    first: dict[tuple[Any, ...], Example] = {}
    for example in examples:
        same = tuple(getattr(example, f.name) for f in dataclasses.fields(example)
                     if f.name not in ("line", "label", "transcript", "reference_path"))
        seen = first.setdefault(same, example)
        if seen.label != example.label:
            warnings.warn(ContradictoryLabelsWarning(
                f"{path}:{seen.line} and {path}:{example.line} label the same example "
                f"{seen.label} and {example.label} ({example.kind}, output "
                f"{example.output[:60]!r}); both are kept, and no fit can agree with "
                "both: settle it in the file"), stacklevel=3)


def _example(path: Path, number: int, line: str) -> Example:
    where = f"{path}:{number}"
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as err:
        raise LabelsFileError(f"{where}: not a JSON object ({err.msg})") from None
    if not isinstance(data, dict):
        raise LabelsFileError(f"{where}: not a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise LabelsFileError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    transcript, reference_path = _transcripts(where, kind, data)
    if transcript is not None:
        data = {**data, "output": transcript.canonical}
        data.pop("reference", None)
    required = ("output", "criteria", "label", *NEEDS.get(kind, ()))
    missing = [name for name in required if name not in data]
    if missing:
        raise LabelsFileError(f"{where}: missing field(s) {', '.join(missing)} for kind "
                              f"{kind!r}; each line needs {', '.join(required)}")
    texts = {}
    for name in ("output", "criteria", *NEEDS.get(kind, ()), *OPTIONAL.get(kind, ())):
        value = data.get(name)
        if value is None and name not in required:
            continue
        if not isinstance(value, str) or not visible(value):
            raise LabelsFileError(f"{where}: {name} must be a non-empty string, got {value!r}")
        problem = surrogate_problem(value, name)
        if problem is not None:
            raise LabelsFileError(f"{where}: {problem}")
        texts[name] = value
    scale = data.get("scale")
    if scale is not None and (kind != "judged" or isinstance(scale, bool) or
                              not isinstance(scale, int) or scale not in SCALE_POINTS):
        raise LabelsFileError(
            f"{where}: scale {scale!r} is not usable; a Likert scale is a whole number of "
            f"points from {SCALE_POINTS.start} to {SCALE_POINTS.stop - 1}, on kind 'judged'")
    label = data["label"]
    valid = range(1, scale + 1) if scale is not None else range(2)
    if isinstance(label, bool) or not isinstance(label, int) or label not in valid:
        hint = (f"a rating from 1 to {scale}" if scale is not None else
                '1 (meets the criteria) or 0 (does not); for a Likert rating add "scale"')
        raise LabelsFileError(f"{where}: label {label!r} is not {hint}")
    return Example(number, kind, texts["output"], texts["criteria"], label, scale,
                   texts.get("context"), texts.get("question"), texts.get("reference"),
                   texts.get("other_output"), texts.get("instruction"), transcript,
                   reference_path)


def _transcripts(where: str, kind: str,
                 data: dict[str, Any]) -> tuple[Transcript | None, Transcript | None]:
    """The line's conversation or tool calls, and a trajectory's reference, checked."""
    given = [name for name in TRANSCRIPT_FIELDS if data.get(name) is not None]
    if not given:
        if kind == "trajectory":
            raise LabelsFileError(f"{where}: a trajectory line needs conversation (a list "
                                  "of chat messages) or tool_calls (a list of calls)")
        return None, None
    if kind not in CONVERSATION_KINDS:
        raise LabelsFileError(f"{where}: {given[0]} is for kinds "
                              f"{', '.join(CONVERSATION_KINDS)}, not {kind!r}")
    if len(given) > 1 or "output" in data:
        raise LabelsFileError(f"{where}: give one of output, conversation and tool_calls, "
                              f"not {', '.join(n for n in ('output', *given) if n in data)}")
    if given[0] == "tool_calls" and kind != "trajectory":
        raise LabelsFileError(f"{where}: tool_calls is a trajectory's; for kind {kind!r} "
                              "give the conversation")
    try:
        transcript = (parse_transcript(data[given[0]], f"{where}: conversation")
                      if given[0] == "conversation" else
                      trajectory_of(data[given[0]], f"{where}: tool_calls"))
        reference = data.get("reference")
        path = (trajectory_of(reference, f"{where}: reference")
                if kind == "trajectory" and reference is not None else None)
    except JudgeConfigError as err:
        raise LabelsFileError(str(err)) from None
    if kind != "trajectory" and data.get("reference") is not None:
        raise LabelsFileError(f"{where}: reference is not a field of a {kind} conversation")
    return transcript, path
