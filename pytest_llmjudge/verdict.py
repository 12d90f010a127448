"""The two values that cross the judge boundary: what was asked, and what was decided."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

EXCERPT_CHARS = 300


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A single-line-friendly excerpt that says how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


@dataclass(frozen=True)
class JudgeRequest:
    """One question to the judge: does ``output`` meet ``criterion``?"""

    output: str
    criterion: str
    threshold: float


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on one request, with everything needed to explain it."""

    passed: bool
    score: float  # P(YES) renormalised over YES/NO at the answer position, 0..1
    threshold: float
    answer: str  # the judge's written answer, "YES" or "NO"
    reasoning: str
    criterion: str
    output: str
    judge_id: str  # backend, model name and model-file hash (or remote model name)
    prompt_version: str  # template name and content hash
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int = 1
    cost_usd: float | None = None
    strategy: str = "single"
    cached: bool = False

    @property
    def output_excerpt(self) -> str:
        return excerpt(self.output)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["output"] = self.output_excerpt
        return data
