"""Versioned prompt templates, stored as text files inside the package.

A template's version is its file name plus a hash of its content, so an edited
prompt can never be mistaken for the old one (the version travels on every Verdict).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

_SECTION = re.compile(r"^### (system|user)\n", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    system: str
    user: str

    def render(self, **values: str) -> list[Message]:
        return [
            Message("system", _fill(self.system, values)),
            Message("user", _fill(self.user, values)),
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
def load(name: str) -> PromptTemplate:
    """Load ``prompts/<name>.txt`` from the package."""
    raw = resources.files(__package__).joinpath("prompts", f"{name}.txt").read_text("utf-8")
    parts = _SECTION.split(raw)
    # split() gives ["", "system", body, "user", body]
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
    return PromptTemplate(
        name=name,
        version=f"{name}@{digest}",
        system=sections["system"].strip(),
        user=sections["user"].strip(),
    )


def untrusted_tag(output: str) -> str:
    """A delimiter tag the output cannot close: it is derived from the output's own hash,
    which the output cannot contain. Deterministic, so identical requests stay identical."""
    return "output_" + hashlib.sha256(output.encode("utf-8")).hexdigest()[:8]
