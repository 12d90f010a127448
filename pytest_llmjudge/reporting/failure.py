"""What a judged verdict says about itself: the lines of a failure message."""

from __future__ import annotations

import re
import textwrap

from ..judging.reply_formats import choice_value
from ..judging.verdict import Verdict, excerpt, shown_turns

# A comparison's verdict: both orders (and each output alone), or each output alone
# only (a fitted head that gives the orders no weight).
COMPARISONS = ("order", "alone")
_WRAP = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ")
# Control characters a terminal acts on (ESC starts ANSI colour and OSC sequences, CR
# overwrites a line); tab and newline stay.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """A failure text safe to print: each control character shown as its escape
    (``\\x1b``), so an output holding terminal escapes is seen, not obeyed."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group(0)):02x}", text)


def headline(verdict: Verdict) -> str:
    if verdict.part_kind:
        return _combined_headline(verdict)
    if verdict.unstable:
        low, high = verdict.interval or (0.0, 1.0)
        return (
            f"judged assertion UNSTABLE: score {verdict.score:.3f}, but its "
            f"{_pct(verdict.confidence)} interval {low:.2f}-{high:.2f} still straddles the "
            f"threshold {verdict.threshold:.2f} after {verdict.polls} polls (the maximum)"
        )
    outcome = "passed" if verdict.passed else "failed"
    relation = ">=" if verdict.passed else "<"
    line = (f"judged assertion {outcome}: score {verdict.score:.3f} {relation} "
            f"threshold {verdict.threshold:.2f}")
    if verdict.interval is not None:
        low, high = verdict.interval
        line += f" ({_pct(verdict.confidence)} interval {low:.2f}-{high:.2f})"
    return line


def explain(verdict: Verdict) -> list[str]:
    """Criterion, output, score against threshold, the votes and their reasons, judge."""
    lines = [
        headline(verdict),
        *([f"  threshold {verdict.threshold:.4g}: {verdict.threshold_source}"]
          if verdict.threshold_source else []),
        *([f"  score {verdict.score:.3f} from {verdict.score_source}"]
          if verdict.score_source else []),
        f"  criterion: {verdict.criterion}",
        *_output(verdict.output),
    ]
    if verdict.part_kind in COMPARISONS:
        lines += ["  reference:", *(_WRAP.fill(line) if line.strip() else "" for line in
                                  excerpt(verdict.reference).splitlines())]
    if verdict.part_kind:
        lines += _parts(verdict)
    elif verdict.polls <= 1:
        p_yes = verdict.votes[0].p_yes if verdict.votes else None
        if verdict.scale is None:
            shown = f" (P(YES) = {p_yes:.3f})" if p_yes is not None else ""
            lines.append(f"  judge answered {verdict.answer}{shown}; reason:")
        else:
            shown = f" (expected rating {p_yes:.3f} on 0..1)" if p_yes is not None else ""
            lines.append(f"  judge rated {verdict.answer} of {verdict.scale}{shown}; reason:")
        lines.append(_WRAP.fill(verdict.reasoning))
    else:
        lines += _votes(verdict)
    lines.append(
        f"  judge: {verdict.judge_id}, strategy {verdict.strategy}, prompt "
        f"{verdict.prompt_version}, {'from cache' if verdict.cached else 'not cached'}, "
        f"{verdict.prompt_tokens}+{verdict.completion_tokens} tokens, "
        f"{verdict.latency_s:.2f}s, {verdict.attempts} call(s)"
    )
    return lines


def _output(output: str) -> list[str]:
    """The judged output; a conversation turn by turn, as it was held."""
    turns = shown_turns(output)
    if turns is None:
        return ["  output:", *(_WRAP.fill(line) if line.strip() else "" for line in
                               excerpt(output).splitlines())]
    lines = [f"  conversation ({len(turns)} turns):"]
    for index, turn in enumerate(turns):
        lines.append(_WRAP.fill(f"[{turn_number(turn, index)}] {turn['role']}: "
                                f"{turn['content']}") if turn["content"] else
                     f"    [{turn_number(turn, index)}] {turn['role']}:")
        lines += [f"        calls {call}" for call in turn["calls"]]
    return lines


def turn_number(turn: dict[str, object], index: int) -> object:
    """A judged turn carries its number in the conversation; else its place here."""
    return turn.get("turn", index)


def _votes(verdict: Verdict) -> list[str]:
    if verdict.scale is None:
        side = "YES" if verdict.passed else "NO"
        tally = f"  votes: {verdict.yes_votes}/{verdict.polls} YES ({verdict.strategy}"
        dissent = [(i, v) for i, v in enumerate(verdict.votes, 1) if v.answer != side]
    else:
        side = "passing" if verdict.passed else "failing"
        ratings = ", ".join(v.answer for v in verdict.votes)
        tally = f"  ratings of {verdict.scale}: {ratings} ({verdict.strategy}"
        dissent = [(i, v) for i, v in enumerate(verdict.votes, 1)
                   if (choice_value(v.answer, verdict.scale) >= verdict.threshold)
                   != verdict.passed]
    if verdict.strategy == "weighted":
        tally += ", each scored by its probabilities"
    lines = [tally + f"); a reason for {side}:", _WRAP.fill(verdict.reasoning)]
    if dissent:
        lines.append(f"  dissenting votes ({len(dissent)}):")
        for index, vote in dissent:
            label = "P(YES)" if verdict.scale is None else "expected"
            p = f", {label} = {vote.p_yes:.2f}" if vote.p_yes is not None else ""
            lines.append(_WRAP.fill(f"poll {index}: {vote.answer}{p}: {vote.reason}"))
    return lines


def _combined_headline(verdict: Verdict) -> str:
    firm = [p.passed and not p.unstable for p in verdict.parts]
    count = len(verdict.parts)
    if verdict.part_kind in COMPARISONS:
        outcome = "UNSTABLE" if verdict.unstable else "passed" if verdict.passed else "failed"
        judged = {"BETTER": "better than", "WORSE": "worse than", "TIE": "tied with"}
        # A comparison that accepts a tie (assert_not_worse, allow_tie) is decided by
        # the answer alone and carries threshold 0, which is no bar worth printing.
        bar = (f", threshold {verdict.threshold:.2f}" if verdict.threshold > 0
               else " (no threshold: a win or a tie passes)")
        return (f"pairwise comparison {outcome}: the candidate is judged "
                f"{judged.get(verdict.answer, verdict.answer)} the reference; "
                f"P(candidate better) {verdict.score:.3f}{bar}")
    if verdict.part_kind == "polarity":
        outcome = "UNSTABLE" if verdict.unstable else "passed" if verdict.passed else "failed"
        relation = ">=" if verdict.passed else "<"
        return (f"judged assertion {outcome}: score {verdict.score:.3f} {relation} threshold "
                f"{verdict.threshold:.2f} (the mean of YES to the question and NO to its "
                "opposite)")
    if verdict.part_kind == "claim":
        what = f"grounded assertion: {count - sum(firm)} of {count} claims not supported"
        score = f"lowest claim score {verdict.score:.3f}"
    elif verdict.part_kind == "turn":
        what = f"conversation: {count - sum(firm)} of {count} turns failed"
        score = f"lowest turn score {verdict.score:.3f}"
    elif verdict.part_kind == "argument":
        what = f"tool-call arguments: {count - sum(firm)} of {count} differ in meaning"
        score = f"lowest argument score {verdict.score:.3f}"
    elif verdict.part_kind == "member":
        what = f"judge panel: {sum(firm)} of {count} members passed it"
        score = f"panel score {verdict.score:.3f}"
    else:
        weighted = " (weighted)" if len(set(verdict.weights)) > 1 else ""
        what = f"checklist: {sum(firm)} of {count} items passed"
        score = f"pass rate{weighted} {verdict.score:.3f}"
    if verdict.unstable:
        return (f"{what}; UNSTABLE: {score} < threshold {verdict.threshold:.2f}, and the "
                "unsettled ones decide it")
    outcome = "passed" if verdict.passed else "failed"
    relation = ">=" if verdict.passed else "<"
    return f"{what}; {outcome}: {score} {relation} threshold {verdict.threshold:.2f}"


def _parts(verdict: Verdict) -> list[str]:
    """One row per item or claim: its outcome, its vote split, the text, its reason.
    Claims that failed come first: they are what the reader is looking for."""
    kind = verdict.part_kind or "part"
    rows = list(enumerate(verdict.parts, 1))
    if kind in ("claim", "turn", "argument"):
        rows.sort(key=lambda row: row[1].passed and not row[1].unstable)
    if kind in COMPARISONS:
        return _orders(verdict)
    lines = ["  asked both ways:" if kind == "polarity" else f"  {kind}s:"]
    for number, part in rows:
        weight = (f" weight {verdict.weights[number - 1]:g}"
                  if len(set(verdict.weights)) > 1 else "")
        lines.append(f"  {number:>3}. {part.outcome:<8} {_split(part):<14}{weight} "
                     f"{_part_text(part, kind)}")
        lines.append(_REASON.fill(f"reason: {part.reasoning}"))
        if kind == "turn" and part.part_kind == "claim" and not part.passed:
            lines += [_REASON.fill(f"unsupported: {claim.output}") for claim in part.parts
                      if not claim.passed]
    lines += [_WRAP.fill(note) for note in verdict.notes]
    return lines


def _part_text(part: Verdict, kind: str) -> str:
    if kind == "claim":
        return part.output
    if kind == "turn":
        turns = shown_turns(part.output)
        if turns:
            turn = turns[-1]
            calls = "; ".join(turn["calls"])
            return (f"turn {turn_number(turn, 0)} ({turn['role']}): "
                    f"{excerpt(turn['content'] or calls, 200)}")
    if kind == "argument":
        return f"{part.criterion}: got {excerpt(part.output, 120)}"
    return part.criterion


def _orders(verdict: Verdict) -> list[str]:
    """Both orders of a pairwise comparison, so position bias is in plain sight, and
    each output judged alone where the comparison asked."""
    lines = [_WRAP.fill(note) for note in verdict.notes]
    orders = verdict.parts[:2] if verdict.part_kind == "order" else ()
    alone = verdict.parts[2:] if verdict.part_kind == "order" else verdict.parts
    for part, shown in zip(orders, ("first (as A)", "second (as B)"), strict=False):
        lines.append(f"  candidate shown {shown}: judge chose {part.answer}, "
                     f"{_split(part, 'A')}")
        lines.append(_REASON.fill(f"reason: {part.reasoning}"))
    for part, which in zip(alone, ("candidate", "reference"), strict=False):
        lines.append(f"  {which} judged alone: {part.answer}, {_split(part)}")
        lines.append(_REASON.fill(f"reason: {part.reasoning}"))
    return lines


def _split(part: Verdict, choice: str = "YES") -> str:
    if part.polls > 1:
        return f"{sum(v.answer == choice for v in part.votes)}/{part.polls} {choice}"
    p_yes = part.votes[0].p_yes if part.votes else None
    return f"P({choice})={p_yes:.2f}" if p_yes is not None else part.answer


_REASON = textwrap.TextWrapper(width=96, initial_indent=" " * 9, subsequent_indent=" " * 9)


def _pct(confidence: float | None) -> str:
    return f"{(confidence or 0.0) * 100:g}%"
