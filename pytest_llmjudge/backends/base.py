"""The backend protocol: what every judge backend accepts and returns.

A backend knows nothing about pytest, thresholds or verdicts. It turns chat
messages into one JSON reply of a declared shape, plus the probabilities it saw
for each choice field, and says how many tokens that took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    """One chat message: what every backend receives."""

    role: str
    content: str


@dataclass(frozen=True)
class BackendConfig:
    """What the built-in backends need from the settings, and nothing else: a backend
    knows nothing about pytest, thresholds or record modes. No defaults here: they live
    in the option table, and ``Settings(...).backend_config()`` makes one."""

    backend: str
    model: str
    n_ctx: int
    n_gpu_layers: int
    n_threads: int | None  # None: the CPUs this process may use
    api_base: tuple[str, ...]
    router_config: str | None
    api_retries: int
    api_logprobs: bool


@dataclass(frozen=True)
class ChoiceField:
    """A JSON string field restricted to a few answers, e.g. YES/NO.

    ``spellings`` maps each canonical answer to the spellings whose probability counts
    for it (a judge that wants to say "Yes" still votes YES); the reply always carries
    the canonical form.
    """

    name: str
    spellings: Mapping[str, tuple[str, ...]]

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.spellings)


@dataclass(frozen=True)
class TextField:
    """A free JSON field, generated under a grammar built from its JSON schema."""

    name: str
    schema: Mapping[str, Any]


ReplyField = ChoiceField | TextField


@dataclass(frozen=True)
class ReplySpec:
    """The reply's fields, in the order the judge must write them."""

    fields: tuple[ReplyField, ...]

    def json_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for f in self.fields:
            if isinstance(f, ChoiceField):
                properties[f.name] = {"type": "string", "enum": list(f.choices)}
            else:
                properties[f.name] = dict(f.schema)
        return {
            "type": "object",
            "properties": properties,
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class CompletionRequest:
    messages: Sequence[Message]
    reply: ReplySpec
    # Texts inside the messages that are untrusted data (the output under test). A
    # backend that tokenizes itself must never read special tokens out of them.
    untrusted: tuple[str, ...] = ()
    temperature: float = 0.0  # for generated text fields
    # For choice fields: 0 takes the most probable answer; above 0 draws one (seeded).
    choice_temperature: float = 0.0
    seed: int = 0
    # Whether the caller needs choice probabilities. A backend where they cost extra
    # (a remote server computing top_logprobs) skips them when False.
    logprobs: bool = True
    max_tokens: int = 160
    timeout: float = 120.0
    # Whether the caller needs the judge's last hidden state at the first choice field's
    # answer position (a fitted head scores it). Only an in-process model can show it.
    hidden_state: bool = False


@dataclass(frozen=True)
class Completion:
    text: str  # the whole JSON reply, exactly as the judge produced it
    # field name -> canonical choice -> probability, renormalised over the choices.
    choice_probs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # where the provider's price is known
    # The last hidden state at the first choice field's answer position, as float16
    # little-endian bytes (compact enough to record; the same bytes fresh or replayed),
    # when the request asked for it and the backend can show it.
    hidden_state: bytes | None = None
    # Prompt tokens a local model found already evaluated in its KV cache (the part
    # this call shared with the one before): not recorded, not part of the reply, a
    # run's own measure.
    reused_prompt_tokens: int = field(default=0, compare=False)


@runtime_checkable
class Backend(Protocol):
    """A judge backend. Optional attribute: ``max_parallel_calls`` (an int), for a backend
    that serves fewer calls at once than ``llmjudge_concurrency`` (a local model: 1)."""

    @property
    def judge_id(self) -> str:
        """Backend, model name and model identity (file hash or remote model name)."""

    @property
    def model_name(self) -> str: ...

    @property
    def supports_logprobs(self) -> bool:
        """Whether replies can carry choice probabilities (decides strategy 'auto'; a
        backend without this attribute is treated as having none)."""

    def complete(self, request: CompletionRequest) -> Completion: ...

    def close(self) -> None: ...
