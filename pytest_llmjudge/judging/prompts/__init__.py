"""Versioned prompt templates, stored as text files inside the package.

A template file has named sections (``### system``, ``### user``, ``### question``).
The reply-format instructions live in ``replies.v1.txt``, one section per reply
mode (``direct``: answer then a short reason; ``cot``: step-by-step reasoning, then
the answer). A rendered prompt's version is both files' names and content hashes
plus the mode, so an edited prompt can never be mistaken for the old one (the
version travels on every Verdict).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from ...backends.base import Message

_SECTION = re.compile(r"^### ([a-z ]+)\n", re.MULTILINE)  # e.g. "### scale question"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
REPLIES = "replies.v1"


@dataclass(frozen=True)
class PromptFile:
    name: str
    version: str
    sections: dict[str, str]

    def section(self, name: str) -> str:
        try:
            return self.sections[name]
        except KeyError:
            raise KeyError(f"prompt {self.name} has no '### {name}' section") from None


@dataclass(frozen=True)
class PromptTemplate:
    """A task template rendered in one reply mode."""

    task: PromptFile
    replies: PromptFile
    mode: str

    @property
    def version(self) -> str:
        return f"{self.task.version}+{self.replies.version}#{self.mode}"

    def render(self, **values: str) -> list[Message]:
        # A rating mode ("direct scale") asks the task's rating question instead.
        question = "scale question" if self.mode.endswith(" scale") else "question"
        values = {**values, "reply_format": _fill(self.replies.section(self.mode), values),
                  "question": _fill(self.task.section(question), values)}
        return [
            Message("system", _fill(self.task.section("system"), values)),
            Message("user", _fill(self.task.section("user"), values)),
        ]


def _fill(text: str, values: dict[str, str]) -> str:
    # One pass over the template only: a value that itself contains "{{criterion}}"
    # (the untrusted output, say) is inserted verbatim and never re-expanded.
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"prompt placeholder {{{{{key}}}}} has no value")
        return values[key]

    return _PLACEHOLDER.sub(substitute, text)


@functools.cache
def load_file(name: str) -> PromptFile:
    """Load ``<name>.txt`` from this package folder."""
    raw = resources.files(__package__).joinpath(f"{name}.txt").read_text("utf-8")
    parts = _SECTION.split(raw)
    # split() gives ["", name, body, name, body, ...]
    sections = {k: v.strip() for k, v in zip(parts[1::2], parts[2::2], strict=True)}
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
    return PromptFile(name=name, version=f"{name}@{digest}", sections=sections)


def load(task: str, mode: str = "direct") -> PromptTemplate:
    """The template for ``task`` (criterion, grounded, correct) in reply ``mode``."""
    return PromptTemplate(load_file(task), load_file(REPLIES), mode)


def untrusted_tag(output: str) -> str:
    """A delimiter tag the output cannot close: it is derived from the output's own hash,
    which the output cannot contain. Deterministic, so identical requests stay identical."""
    return "output_" + text_tag(output)


def text_tag(text: str) -> str:
    """The tag suffix of one section (``<context_1a2b3c4d>``): the hash of the text it
    wraps, which that text cannot contain, and which no other section's text changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
