"""A judge panel's members as configured (``llmjudge_panel``), and the role prompts.

Kept apart from panel.py so the option parser can check a panel without importing the
judge.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import JudgeConfigError

# Role prompts: one instruction added to the judge's system prompt.
ROLES = {
    "strict": ("You are a strict fact-checker. Answer YES only when every part of the "
               "response meets the criterion; any doubt is a NO."),
    "lenient": ("You are a fair, lenient reader. Answer YES when the response meets the "
                "criterion in substance, even if it is imperfect in wording."),
    "expert": ("You are a domain expert reviewing this for your team. Judge the substance "
               "against the criterion as an expert in the subject would."),
}
# mean: the members' scores averaged. majority: the share of members whose own verdict
# passed (each member at the request's threshold). learned: a panel head fitted on
# labels weighs the members' scores (judging/panel.py).
AGGREGATIONS = ("mean", "majority", "learned")


@dataclass(frozen=True)
class Member:
    model: str  # "" for the session's model
    role: str  # "" for the plain prompt

    @property
    def name(self) -> str:
        return f"{self.model or '(the session model)'}" + (f" as {self.role}" if self.role
                                                           else "")


def parse_panel(raw: str) -> tuple[Member, ...]:
    """``"qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"`` or ``"@strict, @lenient"``: members
    separated by commas, each ``MODEL``, ``@ROLE`` or ``MODEL@ROLE``. "" is no panel."""
    members = []
    for piece in (p.strip() for p in raw.split(",")):
        if not piece:
            continue
        model, _, role = piece.rpartition("@") if "@" in piece else (piece, "", "")
        role = role.strip().lower()
        if role and role not in ROLES:
            raise JudgeConfigError(
                f"llmjudge_panel member {piece!r}: unknown role {role!r}; roles: "
                f"{', '.join(ROLES)} (write MODEL, @ROLE or MODEL@ROLE)")
        members.append(Member(model.strip(), role))
    if len(members) == 1:
        raise JudgeConfigError(
            f"llmjudge_panel={raw!r} names one member; a panel needs at least two (leave it "
            "empty for a single judge)")
    if len(set(members)) != len(members):
        raise JudgeConfigError(f"llmjudge_panel={raw!r} names a member twice")
    return tuple(members)


def parse_aggregate(raw: str) -> str:
    value = raw.strip().lower()
    if value not in AGGREGATIONS:
        raise JudgeConfigError(
            f"llmjudge_panel_aggregate={raw!r} is not a way to combine a panel; use "
            f"{', '.join(AGGREGATIONS[:-1])} or {AGGREGATIONS[-1]}")
    return value


