"""The request each kind of judgment makes: its prompt task, its criterion and the
texts it shows the judge. The assertions and the calibration run both build their
requests here, so what is calibrated is exactly what is asserted."""

from __future__ import annotations

from collections.abc import Sequence

from ..config.thresholds import Threshold, parse_threshold
from ..errors import JudgeConfigError
from .policy import Policy
from .reply_formats import SCALE_POINTS
from .texts import surrogate_problem, visible
from .transcripts import Transcript, canonical_json, is_conversation, parse_transcript
from .verdict import JudgeRequest

GROUNDED_CRITERION = "Every claim in the response is supported by the context"
CORRECT_REFERENCE = "The answer states the same facts as the reference answer"
CORRECT_KNOWLEDGE = "The answer is factually correct"
# The question the abstention prompt asks, one per direction (each judged on its own).
ABSTAINS = "Does the answer abstain?"
ANSWERS = "Does the answer give the information asked for, or a guess at it?"
# The ready-made conversation checks: what the report calls them (their prompts,
# retention.v1, role.v1 and goal.v1, ask the question).
RETENTION = "The assistant remembers what the user already said and never asks for it again"
ROLE = "Every assistant turn keeps to the role and rules of the system prompt"
GOAL = "The conversation achieves the goal"


def make_request(output: object, criterion: object, threshold: Threshold | object | None,
                 default_threshold: float = 0.5, *, task: str = "criterion",
                 inputs: Sequence[tuple[str, str | None]] = (),
                 policy: Policy | None = None, scale: object = None,
                 shown: Sequence[tuple[str, str]] = ()) -> JudgeRequest:
    """Check the arguments of a judged assertion; bad ones are errors, never verdicts.

    ``threshold`` is a resolved Threshold (config/thresholds.py), or a plain value
    given by the caller, or None for ``default_threshold``."""
    if not isinstance(output, str):
        raise JudgeConfigError(
            f"the output to judge must be a str, got {type(output).__name__}; "
            "convert it (or pick the text field) before judging"
        )
    _check_encodable(output, "the output to judge")
    if not visible(output):
        raise JudgeConfigError(
            "the output to judge is empty (nothing but whitespace, control or zero-width "
            f"characters: {output[:20]!r}); an empty reply cannot be graded. If an empty "
            "reply is the bug you want to catch, assert it is non-empty first"
        )
    if not isinstance(criterion, str) or not visible(criterion):
        raise JudgeConfigError(
            f"the criterion must be a non-empty str, got {criterion!r}; "
            "write what the output should do, e.g. 'The reply is polite'"
        )
    _check_encodable(criterion, "the criterion")
    for name, value in inputs:
        if value is not None:
            _check_encodable(value, f"the {name}")
    if not isinstance(threshold, Threshold):
        threshold = (Threshold(default_threshold, "default") if threshold is None else
                     Threshold(parse_threshold(threshold), "call"))
    return JudgeRequest(output=output, criterion=criterion.strip(), threshold=threshold.value,
                        task=task, inputs=tuple(inputs), policy=policy or Policy(),
                        scale=_scale(scale, task),
                        threshold_given=not threshold.yields_to_calibration,
                        shown=tuple(shown))


def _check_encodable(text: str, what: str) -> None:
    problem = surrogate_problem(text, what)
    if problem is not None:
        raise JudgeConfigError(problem)


def _scale(raw: object, task: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in SCALE_POINTS:
        raise JudgeConfigError(
            f"scale={raw!r} is not a rating scale; use a whole number of points from "
            f"{SCALE_POINTS.start} to {SCALE_POINTS.stop - 1}, e.g. scale=5, or leave it out "
            "for a YES/NO judgment"
        )
    if task not in ("criterion", "conversation"):
        raise JudgeConfigError(
            f"scale= applies to assert_judged; {task} judgments are YES/NO questions")
    return raw




def judged(output: object, criterion: object, threshold: Threshold, policy: Policy,
           scale: object = None) -> JudgeRequest:
    """``assert_judged``: does the output meet the criterion (or rate it on a scale)?
    A conversation (a list of messages) is judged whole, turn by turn on one page."""
    if is_conversation(output):
        return conversation(parse_transcript(output, "the conversation judged"), criterion,
                            threshold, policy, scale=scale)
    return make_request(output, criterion, threshold, policy=policy, scale=scale)


def conversation(transcript: Transcript, criterion: object, threshold: Threshold | object,
                 policy: Policy | None, *, task: str = "conversation",
                 inputs: Sequence[tuple[str, str | None]] = (),
                 shown: Sequence[tuple[str, str]] = (), scale: object = None) -> JudgeRequest:
    """A judgment of a whole conversation (``task``: conversation, retention, role, goal,
    trajectory): its canonical JSON is the judged text, its turns what the judge reads."""
    return make_request(transcript.canonical, criterion, threshold, task=task, inputs=inputs,
                        policy=policy, scale=scale,
                        shown=[("output", transcript.shown()), *shown])


def turn(transcript: Transcript, index: int, criterion: object, threshold: Threshold,
         policy: Policy) -> JudgeRequest:
    """``assert_each_turn``: turn ``index`` judged, the turns before it shown as its
    context. Every turn of one conversation shares the prompt up to its own text."""
    judged_turn = transcript.turns[index]
    before = transcript.shown(index) or "(no earlier turns)"
    return make_request(
        canonical_json([{**judged_turn.canonical(), "turn": index}]), criterion, threshold,
        task="turn",
        inputs=[("conversation", Transcript(transcript.turns[:index]).canonical),
                ("transcript", transcript.canonical)],
        policy=policy, shown=[("output", judged_turn.shown()), ("conversation", before)])


def grounded(answer: object, context: str, question: str | None, threshold: Threshold,
             policy: Policy) -> JudgeRequest:
    """``assert_grounded``, whole answer: is every claim supported by the context?"""
    return make_request(answer, GROUNDED_CRITERION, threshold, task="grounded",
                        inputs=[("context", context), ("question_text", question)],
                        policy=policy)


def correct(answer: object, question: str, reference: str | None, threshold: Threshold,
            policy: Policy) -> JudgeRequest:
    """``assert_correct``: against the reference when given, else world knowledge."""
    return make_request(answer, CORRECT_REFERENCE if reference else CORRECT_KNOWLEDGE,
                        threshold, task="correct",
                        inputs=[("question_text", question), ("reference", reference)],
                        policy=policy)


def abstention(answer: object, question: str, context: str | None, criterion: str,
               threshold: Threshold, policy: Policy) -> JudgeRequest:
    """One side of ``assert_abstains``/``assert_not_abstains`` (``ABSTAINS`` or ``ANSWERS``)."""
    return make_request(answer, criterion, threshold, task="abstention",
                        inputs=[("question_text", question), ("context", context)],
                        policy=policy)


def checklist_item(output: object, item: object, instruction: str | None,
                   threshold: Threshold, policy: Policy) -> JudgeRequest:
    """One checklist item, asked of the output (with the instruction it answers). Asked
    of a conversation, the item is a criterion of the whole conversation (the
    conversation holds what the user asked; the instruction only wrote the items)."""
    if is_conversation(output):
        return conversation(parse_transcript(output, "the conversation judged"), item,
                            threshold, policy, task="conversation_checklist")
    return make_request(output, item, threshold, task="checklist",
                        inputs=[("instruction", instruction)], policy=policy)


def pairwise(candidate: object, criteria: object, instruction: str | None,
             threshold: Threshold, policy: Policy) -> JudgeRequest:
    """The candidate's side of a comparison; pairwise.compare adds the reference and
    asks both orders."""
    return make_request(candidate, criteria, threshold, task="pairwise",
                        inputs=[("instruction", instruction)], policy=policy)


def retention(transcript: Transcript, threshold: Threshold, policy: Policy) -> JudgeRequest:
    """``assert_retains_knowledge``: no turn asks again for what the user already said."""
    return conversation(transcript, RETENTION, threshold, policy, task="retention")


def role(transcript: Transcript, system_prompt: str, threshold: Threshold,
         policy: Policy) -> JudgeRequest:
    """``assert_follows_role``: every assistant turn keeps to the system prompt."""
    return conversation(transcript, ROLE, threshold, policy, task="role",
                        inputs=[("system_prompt", system_prompt)])


def goal(transcript: Transcript, goal_text: str, threshold: Threshold,
         policy: Policy) -> JudgeRequest:
    """``assert_goal_met``: the conversation achieves ``goal_text``."""
    return conversation(transcript, f"{GOAL}: {goal_text}", threshold, policy, task="goal",
                        inputs=[("goal", goal_text)])


def trajectory(transcript: Transcript, criteria: object, reference: Transcript | None,
               threshold: Threshold, policy: Policy) -> JudgeRequest:
    """``assert_trajectory_judged``: the agent's path against the criteria, and against
    a reference path when given (one good way, not the only one)."""
    return conversation(
        transcript, criteria, threshold, policy, task="trajectory",
        inputs=[("reference", reference.canonical if reference else None)],
        shown=[("reference", reference.shown())] if reference else ())


def argument(tool: str, name: str, expected: object, actual: object, threshold: Threshold,
             policy: Policy) -> JudgeRequest:
    """One argument of a tool call, its value compared by meaning with the expected one
    (``assert_tool_calls(args="judged")``). Both values are shown as JSON."""
    shown_actual, shown_expected = canonical_json(actual), canonical_json(expected)
    return make_request(shown_actual, f"{tool}.{name} means {shown_expected}",
                        threshold, task="argument",
                        inputs=[("tool", tool), ("argument", name),
                                ("expected", shown_expected)],
                        policy=policy, shown=[("output", shown_actual),
                                              ("expected", shown_expected)])
