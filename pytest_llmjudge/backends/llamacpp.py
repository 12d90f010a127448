"""In-process judge on a GGUF model through llama-cpp-python (CPU, or GPU with n_gpu_layers).

The reply is written on a fixed JSON scaffold, field by field:
- a choice field (YES/NO) is read from the logits at its position: one forward pass
  gives P(YES) renormalised over the allowed answers, and the answer is the argmax
  (or a seeded draw when temperature > 0);
- a text field is generated under a GBNF grammar built from its JSON schema.
The assembled reply is then validated against the full schema by the caller.

The output under test is tokenized with special tokens disabled, so text such as
"<|im_end|>" inside it stays text and cannot close the chat turn.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import (
    ContextOverflowError,
    JudgeConfigError,
    JudgeTimeoutError,
    ModelLoadError,
    ModelNotFoundError,
)
from .base import ChoiceField, Completion, CompletionRequest, Message, TextField
from .models import HubModel, LocalModel, local_file

# Prompt tokens are evaluated, and reused from the KV cache, in chunks of this many at
# fixed positions (see LlamaCppBackend._eval). Chunks of 32 to 512 gave the same logits
# to the bit on both packaged judges, and 64 took 11.9 s against 11.2 s for one batch of
# 600 tokens on the 1.5B (2 cores).
EVAL_CHUNK = 64
# llama.cpp decodes a batch of fewer tokens than this another way (see _eval).
SHORTEST_BATCH = 8
_SENTINEL = re.compile("\ue000(\\d+)\ue001")
# ChatML, for models whose GGUF carries no chat template.
_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def trained_context(lib: Any, path: Path) -> int | None:
    """The context length a GGUF model was trained on, read from its metadata with a
    vocabulary-only load (a fraction of a second, no weights); None if not stated."""
    import ctypes
    import logging

    # llama-cpp-python prints the loader's log unless its logger is quiet.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    lib.llama_backend_init()
    params = lib.llama_model_default_params()
    params.vocab_only = True
    handle = lib.llama_model_load_from_file(str(path).encode(), params)
    if not handle:
        return None  # the full load then reports what is wrong with the file
    try:
        buffer = ctypes.create_string_buffer(256)
        for index in range(lib.llama_model_meta_count(handle)):
            lib.llama_model_meta_key_by_index(handle, index, buffer, len(buffer))
            if buffer.value.endswith(b".context_length"):
                lib.llama_model_meta_val_str_by_index(handle, index, buffer, len(buffer))
                return int(buffer.value)
    except ValueError:
        return None
    finally:
        lib.llama_model_free(handle)
    return None


class LlamaCppBackend:
    """One loaded model, reused for every judge call of the session."""

    def __init__(
        self,
        model: LocalModel | HubModel,
        *,
        n_ctx: int = 4096,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
    ) -> None:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as err:
            raise ModelLoadError(
                f"the llamacpp backend needs llama-cpp-python ({err}); install it with "
                "pip install 'pytest-llmjudge[local]'"
            ) from None
        self._lib = llama_cpp
        self._kwargs: dict[str, Any] = dict(
            n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads, verbose=False,
            # Per-token hidden states, read when a fitted head asks (llama_set_embeddings
            # turns them on for that one token; pooling would average the whole prompt).
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_NONE,
        )
        self._model = model
        self._formatter_class = Jinja2ChatFormatter
        self._llm: Any = None
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        # First tokens of each answer's spellings, per choice field: tokenized once.
        self._choice_ids: dict[tuple[str, ...], dict[str, set[int]]] = {}
        if isinstance(model, HubModel):
            # A hub model's identity is the hash of the downloaded file: fetch it now.
            llm = _load_from_hub(llama_cpp.Llama, model, self._kwargs)
            self._attach(llm)
            self._sha256 = local_file(Path(llm.model_path)).sha256
        else:
            # A local file's identity is known without loading it, so a run whose judge
            # calls all replay from the cache never pays for the load (load on first call).
            self._sha256 = model.sha256

    def _ensure_loaded(self) -> None:
        if self._llm is not None:
            return
        model = self._model
        assert isinstance(model, LocalModel)
        trained = trained_context(self._lib, model.path)
        if trained is not None and self._kwargs["n_ctx"] > trained:
            # llama.cpp would allocate the whole window up front: 10**20 tokens grew the
            # process to 23 GB before the kernel killed it.
            raise JudgeConfigError(
                f"llmjudge_n_ctx {self._kwargs['n_ctx']} is more than {model.path.name} "
                f"was trained on ({trained} tokens); set llmjudge_n_ctx to {trained} or less")
        try:
            with _load_chatter() as chatter:
                llm = self._lib.Llama(model_path=str(model.path), **self._kwargs)
        except (ValueError, RuntimeError, OSError) as err:
            said = "; llama.cpp said: " + " | ".join(chatter[-5:]) if chatter else ""
            raise ModelLoadError(
                f"llama.cpp could not load {model.path} ({err}{said}); check that the file "
                "is a complete GGUF model this llama-cpp-python version supports, or lower "
                "llmjudge_n_ctx / llmjudge_n_gpu_layers if memory ran out"
            ) from None
        self._attach(llm)

    def _attach(self, llm: Any) -> None:
        self._llm = llm
        self._vocab = self._lib.llama_model_get_vocab(llm.model)
        self._n_vocab = llm.n_vocab()
        self._n_ctx = llm.n_ctx()
        template = llm.metadata.get("tokenizer.chat_template") or _CHATML
        eos, bos = llm.token_eos(), llm.token_bos()
        self._formatter = self._formatter_class(
            template=template,
            eos_token=self._token_text(eos),
            bos_token=self._token_text(bos),
            add_generation_prompt=True,
        )

    # -- identity ---------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self._model.name

    @property
    def supports_logprobs(self) -> bool:
        return True  # read straight from the logits

    @property
    def max_parallel_calls(self) -> int:
        return 1  # one llama.cpp context holds one sequence

    @property
    def judge_id(self) -> str:
        return f"llamacpp:{self._model.name}@sha256:{self._sha256[:12]}"

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()

    # -- one judge call ---------------------------------------------------------------
    def complete(self, request: CompletionRequest) -> Completion:
        # One llama.cpp context holds one sequence: calls from several threads of a
        # test take turns instead of corrupting each other's KV cache.
        with self._lock:
            self._ensure_loaded()
            return self._complete(request)

    def _complete(self, request: CompletionRequest) -> Completion:
        deadline = time.monotonic() + request.timeout
        tokens = self._prompt_tokens(request.messages, request.untrusted)
        prompt_tokens = len(tokens)
        needed = prompt_tokens + request.max_tokens + 16
        if needed > self._n_ctx:
            raise ContextOverflowError(
                f"the judge prompt needs {prompt_tokens} tokens plus up to "
                f"{request.max_tokens} reply tokens, more than the model's context window "
                f"of {self._n_ctx}; shorten the output or criterion, or raise llmjudge_n_ctx "
                "(nothing is truncated silently)"
            )
        rng = random.Random(request.seed)
        text = ""
        choice_probs: dict[str, dict[str, float]] = {}
        hidden: bytes | None = None
        generated = 0
        reused: int | None = None
        for index, spec in enumerate(request.reply.fields):
            scaffold = ("{" if index == 0 else ", ") + json.dumps(spec.name) + ": "
            if isinstance(spec, ChoiceField):
                scaffold += '"'
                tokens += self._tokenize(scaffold, special=False)
                wanted = request.hidden_state and hidden is None
                common = self._eval(tokens, deadline, hidden=wanted)
                reused = min(common, prompt_tokens) if reused is None else reused
                if wanted:
                    hidden = self._hidden_state()
                probs = self._choice_probs(spec)
                choice_probs[spec.name] = probs
                answer = _pick(probs, request.choice_temperature, rng)
                text += scaffold + answer + '"'
                tokens += self._tokenize(answer + '"', special=False)
            else:
                tokens += self._tokenize(scaffold, special=False)
                if reused is None:
                    reused = min(self._cached_prefix(tokens), prompt_tokens)
                value, written = self._generate(
                    tokens, spec, request, deadline, budget=request.max_tokens - generated
                )
                generated += len(written)
                text += scaffold + value
                tokens += written
        text += "}"
        return Completion(
            text=text,
            choice_probs=choice_probs,
            prompt_tokens=prompt_tokens,
            # Scaffold and answer tokens count too: they are part of what the judge wrote.
            completion_tokens=len(tokens) - prompt_tokens + 1,
            hidden_state=hidden,
            reused_prompt_tokens=reused or 0,
        )

    # -- helpers ----------------------------------------------------------------------
    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        raw: bytes = self._llm.detokenize([token], special=True)
        return raw.decode("utf-8", errors="replace")

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def _prompt_tokens(self, messages: Sequence[Message], untrusted: Iterable[str]) -> list[int]:
        marks = {text: f"\ue000{i}\ue001" for i, text in enumerate(untrusted) if text}
        originals = {mark: text for text, mark in marks.items()}
        chat: list[Any] = []
        for message in messages:
            content = message.content
            for text, mark in marks.items():
                content = content.replace(text, mark)
            chat.append({"role": message.role, "content": content})
        rendered = self._formatter(messages=chat).prompt
        tokens: list[int] = []
        position = 0
        for match in _SENTINEL.finditer(rendered):
            if match.group(0) not in originals:
                continue  # a look-alike in trusted text: tokenized with its surroundings
            tokens += self._tokenize(rendered[position : match.start()], special=True)
            tokens += self._tokenize(originals[match.group(0)], special=False)
            position = match.end()
        tokens += self._tokenize(rendered[position:], special=True)
        return tokens

    def _cached_prefix(self, tokens: list[int]) -> int:
        """How many leading ``tokens`` the KV cache already holds."""
        llm = self._llm
        if getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False):
            return 0  # their state cannot be cut back to a prefix
        cached = llm.input_ids[: llm.n_tokens]
        limit = min(len(cached), len(tokens))
        common = 0
        while common < limit and cached[common] == tokens[common]:
            common += 1
        return common

    def _eval(self, tokens: list[int], deadline: float, *, hidden: bool = False) -> int:
        """Bring the model's state to ``tokens``, reusing the cached prefix (the system
        prompt, and the context of calls that share one), checking the deadline between
        chunks; returns how many tokens were reused.

        Tokens are evaluated in chunks of EVAL_CHUNK at fixed positions (0, 64, 128,
        ...), and only whole chunks are reused: every chunk is then computed from the
        same tokens in the same batch whatever came before, so a verdict does not depend
        on the call before it, and its P(YES) is the one the prompt decoded in a single
        batch gives, to the bit (checked on HaluEval prompts with the 1.5B model). It
        would not be otherwise: llama.cpp computes a batch of fewer than 8 tokens another
        way (the logits of a prompt whose last 1 to 6 tokens were decoded apart differed
        by up to 0.46), and reusing the cache up to where the prompt's pieces start (the
        system message, the context), at offsets off the 64-token grid, moved P(YES) by
        up to 0.014 on the same prompts, so that was not kept.

        With ``hidden``, the last token is decoded alone with hidden states on: the same
        forward pass gives the logits and the hidden state, and turning them on for the
        whole prompt would make llama.cpp compute an output row for every token."""
        llm = self._llm
        end = len(tokens) - 1 if hidden else len(tokens)
        starts = list(range(0, end, EVAL_CHUNK)) or [0]
        if len(starts) > 1 and end - starts[-1] < SHORTEST_BATCH:
            starts.pop()  # a short last chunk would be computed the other way
        # At least one token is decoded, so the logits belong to this sequence.
        cached = min(self._cached_prefix(tokens), len(tokens) - 1)
        common: int = max(start for start in starts if start <= cached)
        if common == 0:
            llm.reset()
        llm.n_tokens = common
        for start, stop in zip(starts, [*starts[1:], end], strict=True):
            if start >= common:
                _check(deadline, "evaluating the prompt")
                llm.eval(tokens[start:stop])
        if hidden:
            _check(deadline, "evaluating the prompt")
            self._lib.llama_set_embeddings(llm.ctx, True)
            try:
                llm.eval(tokens[-1:])
            finally:
                self._lib.llama_set_embeddings(llm.ctx, False)
        return common

    def _hidden_state(self) -> bytes:
        import numpy as np

        pointer = self._lib.llama_get_embeddings_ith(self._llm.ctx, -1)
        if not pointer:
            raise ModelLoadError(
                f"llama.cpp showed no hidden state for {self._model.name}; a fitted head "
                "cannot score with it: set llmjudge_heads=off")
        size = self._lib.llama_model_n_embd(self._llm.model)
        state = np.ctypeslib.as_array(pointer, shape=(size,)).astype("<f2")
        return state.tobytes()

    def _logits(self) -> Any:
        import numpy as np

        pointer = self._lib.llama_get_logits_ith(self._llm.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).astype(np.float64)

    def _choice_probs(self, spec: ChoiceField) -> dict[str, float]:
        logits = self._logits()
        ids = self._answer_tokens(spec)
        peak = max(float(logits[t]) for own in ids.values() for t in own)
        mass = {c: sum(math.exp(float(logits[t]) - peak) for t in own) for c, own in ids.items()}
        total = sum(mass.values())
        return {c: m / total for c, m in mass.items()}

    def _answer_tokens(self, spec: ChoiceField) -> dict[str, set[int]]:
        key = (spec.name, *(f"{c}={'|'.join(s)}" for c, s in spec.spellings.items()))
        if key in self._choice_ids:
            return self._choice_ids[key]
        ids = {c: {self._tokenize(s, special=False)[0] for s in spellings}
               for c, spellings in spec.spellings.items()}
        # A first token shared by two answers says nothing about either: drop it.
        for choice, own in ids.items():
            others = set().union(*(v for c, v in ids.items() if c != choice))
            ids[choice] = own - others
            if not ids[choice]:
                raise ModelLoadError(
                    f"this model's tokenizer cannot tell the answer {choice!r} apart from the "
                    "others by their first token; use another judge model"
                )
        self._choice_ids[key] = ids
        return ids

    def _grammar(self, schema: Any) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammars[key] = LlamaGrammar.from_string(schema_grammar(schema), verbose=False)
        return self._grammars[key]

    def _generate(
        self,
        tokens: list[int],
        spec: TextField,
        request: CompletionRequest,
        deadline: float,
        budget: int,
    ) -> tuple[str, list[int]]:
        _check(deadline, "starting the reply")
        llm = self._llm
        llm.set_seed(request.seed)
        out: list[int] = []
        for token in llm.generate(
            tokens,
            temp=request.temperature,
            top_k=0 if request.temperature == 0 else 40,
            repeat_penalty=1.0,
            grammar=self._grammar(spec.schema),
        ):
            if self._lib.llama_vocab_is_eog(self._vocab, token):
                break
            out.append(token)
            if len(out) >= budget:
                break  # the caller's schema check reports the cut-off reply
            _check(deadline, "writing the reply")
        value = llm.detokenize(out).decode("utf-8", errors="replace")
        return value, out


# JSON string characters: no raw control characters, escapes spelled out.
_JSON_CHAR = r'char ::= [^"\\\x00-\x1F\x7F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'


def schema_grammar(schema: Any) -> str:
    """GBNF for one JSON value of ``schema``.

    Strings get a grammar of our own: llama-cpp-python's converter admits raw control
    characters inside strings (invalid JSON) and spells maxLength out as hundreds of
    nested groups. llama.cpp's own repetition operator ``{m,n}`` does both right.
    Other schemas go through llama-cpp-python's converter.
    """
    if _plain_string(schema):
        return f"root ::= {_string_rule(schema)}\n{_JSON_CHAR}\n"
    items = schema.get("items")
    if (schema.get("type") == "array" and isinstance(items, dict) and _plain_string(items)
            and set(schema) <= {"type", "items", "minItems", "maxItems"}):
        # A list of strings (checklist items, claims): one per line, as JSON allows.
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        more = f"{{{max(low - 1, 0)},{int(high) - 1}}}" if high is not None else "*"
        body = f'item ("," "\\n  " item){more}'
        if low == 0:
            body = f"({body})?"
        return (f'root ::= "[\\n  " {body} "\\n]"\n'
                f"item ::= {_string_rule(items)}\n{_JSON_CHAR}\n")
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(json.dumps(schema)))


def _plain_string(schema: Any) -> bool:
    return schema.get("type") == "string" and set(schema) <= {"type", "minLength", "maxLength"}


def _string_rule(schema: Any) -> str:
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    count = f"{{{low},{int(high)}}}" if high is not None else f"{{{low},}}"
    return f'"\\"" char{count} "\\""'


def _check(deadline: float, doing: str) -> None:
    if time.monotonic() > deadline:
        raise JudgeTimeoutError(
            f"the judge ran past llmjudge_timeout while {doing}; raise llmjudge_timeout, "
            "use a smaller model, or offload layers to a GPU with llmjudge_n_gpu_layers"
        )


def _pick(probs: dict[str, float], temperature: float, rng: random.Random) -> str:
    if temperature <= 0:
        return max(probs, key=lambda c: probs[c])
    weights = [p ** (1.0 / temperature) for p in probs.values()]
    return rng.choices(list(probs), weights=weights)[0]


def _load_from_hub(llama: Any, model: HubModel, kwargs: dict[str, Any]) -> Any:
    try:
        return llama.from_pretrained(repo_id=model.repo_id, filename=model.filename, **kwargs)
    except ImportError as err:
        raise ModelNotFoundError(
            f"{model.name} needs huggingface-hub to download ({err}); pip install huggingface-hub, "
            "or download the .gguf file yourself and set llmjudge_model to its path"
        ) from None
    except Exception as err:  # the hub client raises many types; all mean "not fetched"
        raise ModelNotFoundError(
            f"could not fetch {model.name} from the Hugging Face hub "
            f"({type(err).__name__}: {str(err)[:200]}); with no network, download the .gguf "
            "file elsewhere and set llmjudge_model to its path"
        ) from None



@contextlib.contextmanager
def _load_chatter() -> Iterator[list[str]]:
    """Hold what llama.cpp writes to stderr while a model loads (its "pooling_type ...
    was specified" and "control-looking token" notes), so it does not land in the first
    test's captured output; the lines are handed back, for an error that needs them. A
    user who sets the "llama-cpp-python" logger to INFO or below sees them as before."""
    import logging
    import tempfile

    held: list[str] = []
    level = logging.getLogger("llama-cpp-python").level
    if logging.NOTSET < level <= logging.INFO:
        yield held
        return
    import io

    sys.stderr.flush()
    saved = os.dup(2)
    # Both: llama.cpp writes to file descriptor 2, llama-cpp-python's log callback to
    # sys.stderr (which pytest's capture has replaced with an object of its own).
    python_side = io.StringIO()
    with tempfile.TemporaryFile() as sink, contextlib.redirect_stderr(python_side):
        os.dup2(sink.fileno(), 2)
        try:
            yield held
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            held += sink.read().decode("utf-8", "replace").splitlines()
            held += python_side.getvalue().splitlines()
