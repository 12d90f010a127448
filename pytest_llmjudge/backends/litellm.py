"""Remote judges through litellm: any provider, or any OpenAI-compatible server.

litellm is imported only when this backend is created (it takes seconds). Retries
are ours, with tenacity: rate limits, 5xx and connection errors are retried with
exponential backoff and jitter inside one overall deadline (the call timeout), so a
judged assertion never waits past ``llmjudge_timeout``; authentication errors and
bad requests are not retried. Several ``api_base`` values spread calls over
servers: each call goes to the one with the fewest calls in flight.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
from typing import Any

from ..errors import (
    BackendUnavailableError,
    ContextOverflowError,
    JudgeConfigError,
    JudgeError,
    JudgeTimeoutError,
)
from ..masking import mask, register, shown_url, url_credentials
from .base import BackendConfig, Completion, CompletionRequest
from .logprobs import completion_from

# Structured-output dialects, most precise first. OpenAI and most providers take
# "json_schema"; llama.cpp's Python server takes "json_object" with a "schema".
_FORMATS = ("json_schema", "json_object", "none")
_PLACEHOLDER_KEY = "sk-no-key-needed"  # sent to self-hosted servers that ask for none

# litellm's errors worth another try: rate limits, 5xx answers, connections.
RETRYABLE = ("RateLimitError", "InternalServerError", "ServiceUnavailableError",
             "BadGatewayError", "APIConnectionError")


class LiteLLMBackend:
    def __init__(self, config: BackendConfig) -> None:
        # litellm fetches a price list from the internet at import unless told not to;
        # judges run offline, and its bundled copy is what we want.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        try:
            import litellm
        except ImportError as err:
            raise JudgeConfigError(
                f"the litellm backend needs litellm ({err}); pip install 'pytest-llmjudge[remote]'"
            ) from None
        self._litellm: Any = litellm  # loosely typed: its exports are re-exports
        litellm.suppress_debug_info = True  # its help banner goes to stdout on every error
        self._model = config.model
        self._bases = config.api_base
        for base in self._bases:  # http://user:pass@host: never printed or stored
            for credential in url_credentials(base):
                register(credential)
        self._router_file = config.router_config
        self._retries = config.api_retries
        self._logprobs = config.api_logprobs
        self._router: Any = None
        if self._router_file:
            self._router = self._router_from_file(self._router_file)
            self._key = None
        else:
            self._key = self._check_model_and_key()
        if self._key and self._key != _PLACEHOLDER_KEY:
            register(self._key)
        self._format: str | None = None  # learnt on the first call
        # Set when a call ran out of retries without ever reaching a server: later calls
        # try once instead of sleeping through backoff again, so a dead server errors the
        # rest of the session quickly. Cleared by the next success.
        self._unreachable = False
        self._lock = threading.Lock()
        self._negotiating = threading.Lock()
        # Calls in flight per server, for spreading calls over several api_base values.
        self._in_flight = dict.fromkeys(self._bases, 0)

    # -- identity ---------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self._model

    @property
    def supports_logprobs(self) -> bool:
        # Whether this server really returns them is only known from a reply; a
        # strategy that needs them errors on the first reply without them.
        return self._logprobs

    @property
    def judge_id(self) -> str:
        return f"litellm:{self._model}"

    @property
    def servers(self) -> str:
        if self._router_file:
            return f"the servers in {self._router_file}"
        return ", ".join(shown_url(b) for b in self._bases) or "the provider's API"

    def _router_from_file(self, path: str) -> Any:
        """A litellm Router from a model_list file; entries for other model_names are kept
        too (litellm routes by name), but ours must be there."""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as err:
            raise JudgeConfigError(f"cannot read llmjudge_router_config {path!r}: {err}") from None
        try:
            if path.endswith((".yaml", ".yml")):
                import yaml  # type: ignore[import-untyped]  # comes with litellm

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
            entries = data["model_list"] if isinstance(data, dict) else data
            names = {e["model_name"] for e in entries}
            if not all(isinstance(e["litellm_params"]["model"], str) for e in entries):
                raise TypeError("every litellm_params needs a model string")
        except Exception as err:  # yaml, json, key and type errors all mean one thing here
            raise JudgeConfigError(
                f"llmjudge_router_config {path!r} is not a litellm model_list ({err!r}); write "
                '{"model_list": [{"model_name": "judge", "litellm_params": {"model": '
                '"openai/judge", "api_base": "http://127.0.0.1:8080/v1"}}]}'
            ) from None
        if self._model not in names:
            raise JudgeConfigError(
                f"llmjudge_model {self._model!r} is not a model_name in {path!r} "
                f"(it has: {', '.join(sorted(names))})"
            )
        for entry in entries:
            params = entry["litellm_params"]
            if params.get("api_base") and not params.get("api_key"):
                params["api_key"] = _PLACEHOLDER_KEY
        return self._litellm.Router(model_list=entries, num_retries=0,
                                    routing_strategy="simple-shuffle")

    def close(self) -> None:
        return None

    # -- checks before any call ---------------------------------------------------------
    def _check_model_and_key(self) -> str | None:
        litellm = self._litellm
        try:
            _, provider, _, _ = litellm.get_llm_provider(self._model)
        except Exception:  # litellm raises its BadRequestError with a long help text
            raise JudgeConfigError(
                f"litellm does not know the provider in model {self._model!r}; write "
                "PROVIDER/MODEL, e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, "
                "ollama/llama3, or openai/<name> with llmjudge_api_base for an "
                "OpenAI-compatible server"
            ) from None
        missing = litellm.validate_environment(self._model).get("missing_keys") or []
        if self._bases:
            # A self-hosted server: use the provider's key if one is set, else a placeholder.
            return _PLACEHOLDER_KEY if missing else None
        if missing:
            raise JudgeConfigError(
                f"model {self._model!r} ({provider}) needs an API key: set "
                f"{' and '.join(missing)} in the environment (never in pytest.ini), or point "
                "llmjudge_api_base at a self-hosted OpenAI-compatible server"
            )
        return None

    # -- one judge call ---------------------------------------------------------------
    def complete(self, request: CompletionRequest) -> Completion:
        deadline = time.monotonic() + request.timeout
        if self._format is None:
            # Concurrent first calls (polls of one verdict) wait for one of them to learn
            # the server's format, instead of each paying for the rejected ones.
            with self._negotiating:
                if self._format is None:
                    return self._negotiate(request, deadline)
        try:
            response = self._call_with_retries(request, self._format, deadline)
        except _FormatRejectedError as err:
            raise BackendUnavailableError(
                f"{self.servers} now rejects the structured-output format {self._format} it "
                f"accepted before: {_describe(err.cause, self._key)}"
            ) from None
        return _masked(completion_from(response, request.reply, self._cost(response)))

    def _negotiate(self, request: CompletionRequest, deadline: float) -> Completion:
        last: Exception | None = None
        for fmt in _FORMATS:
            try:
                response = self._call_with_retries(request, fmt, deadline)
            except _FormatRejectedError as err:
                last = err.cause
                continue
            with self._lock:
                self._format = fmt
            return _masked(completion_from(response, request.reply, self._cost(response)))
        raise BackendUnavailableError(
            f"{self.servers} rejected every structured-output format "
            f"({', '.join(_FORMATS)}); last error: {_describe(last, self._key)}"
        )

    def _call_with_retries(self, request: CompletionRequest, fmt: str, deadline: float) -> Any:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            stop_after_delay,
            wait_random_exponential,
        )

        litellm = self._litellm
        # BadGatewayError is newer than litellm 1.53 (our floor); there a 502 arrives
        # as one of the others.
        retryable = tuple(getattr(litellm, name) for name in RETRYABLE if hasattr(litellm, name))
        remaining = max(0.001, deadline - time.monotonic())
        tries = 1 if self._unreachable else 1 + self._retries
        backoff = wait_random_exponential(multiplier=0.25, max=4.0)
        retrying = Retrying(
            stop=stop_after_attempt(tries) | stop_after_delay(remaining),
            # Backoff never sleeps past the deadline: the last try gets what time is left.
            wait=lambda state: min(backoff(state), max(0.0, deadline - time.monotonic())),
            retry=retry_if_exception(lambda e: isinstance(e, retryable)
                                     and not _rejects_format(e)),
            reraise=False,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise litellm.Timeout(message="deadline reached", model=self._model,
                                              llm_provider="")
                    try:
                        response = self._call_within(request, fmt, left)
                        self._unreachable = False
                        return response
                    except (litellm.BadRequestError, litellm.InternalServerError) as err:
                        if fmt != "none" and _rejects_format(err):
                            raise _FormatRejectedError(err) from None
                        raise
        except RetryError as err:
            cause = err.last_attempt.exception()
            raise self._unavailable(cause, attempts, deadline) from None
        except _FormatRejectedError:
            raise
        except litellm.Timeout as err:
            raise self._timeout(err) from None
        except (litellm.AuthenticationError, litellm.PermissionDeniedError) as err:
            raise JudgeConfigError(
                f"{self.servers} refused the credentials for {self._model!r}: "
                f"{_describe(err, self._key)}; check the API key in the environment"
            ) from None
        except litellm.ContextWindowExceededError as err:
            raise ContextOverflowError(
                f"the judge prompt does not fit {self._model!r}'s context window "
                f"({_describe(err, self._key)}); shorten the output or context, or use a "
                "longer-context model (nothing is truncated silently)"
            ) from None
        except (litellm.BadRequestError, litellm.NotFoundError,
                litellm.UnprocessableEntityError) as err:
            raise JudgeConfigError(
                f"{self.servers} rejected the request for {self._model!r} (not retried): "
                f"{_describe(err, self._key)}"
            ) from None
        except retryable as err:
            raise self._unavailable(err, attempts, deadline) from None
        except litellm.APIError as err:
            raise BackendUnavailableError(
                f"{self.servers} sent a reply that is not a chat completion "
                f"({_describe(err, self._key)}); check that llmjudge_api_base points at an "
                "OpenAI-compatible /v1 endpoint"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _call_within(self, request: CompletionRequest, fmt: str, seconds: float) -> Any:
        """``_call`` bounded by the wall clock. The HTTP client's timeout bounds each
        read, not the whole reply: a server that trickles one byte a second never trips
        it. The call runs in a daemon thread; past the deadline it is abandoned (its
        connection ends when the server closes it) and the judge call times out."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["response"] = self._call(request, fmt, timeout=seconds)
            except BaseException as err:  # handed to the waiting thread
                outcome["error"] = err
            finally:
                done.set()

        threading.Thread(target=run, name="llmjudge-remote-call", daemon=True).start()
        if not done.wait(seconds):
            raise self._litellm.Timeout(
                message=f"no complete reply within {seconds:.1f} s (the server was still "
                        "sending, or silent)", model=self._model, llm_provider="")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _call(self, request: CompletionRequest, fmt: str, timeout: float) -> Any:
        kwargs: dict[str, Any] = dict(
            messages=[{"role": m.role, "content": m.content} for m in request.messages],
            temperature=request.temperature,
            seed=request.seed,
            max_tokens=request.max_tokens,
            timeout=timeout,
            num_retries=0,  # litellm's retries: ours replace them
            max_retries=0,  # the OpenAI SDK's own retries, likewise
        )
        if self._logprobs and request.logprobs:
            kwargs.update(logprobs=True, top_logprobs=20)
        schema = _wire_schema(request.reply.json_schema())
        if fmt == "json_schema":
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "verdict", "schema": schema, "strict": True}}
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        if self._router is not None:
            return self._router.completion(model=self._model, **kwargs)
        if self._key:
            kwargs["api_key"] = self._key
        if not self._bases:
            return self._litellm.completion(model=self._model, **kwargs)
        base = self._take_server()
        try:
            return self._litellm.completion(model=self._model, api_base=base, **kwargs)
        finally:
            with self._lock:
                self._in_flight[base] -= 1

    def _take_server(self) -> str:
        """The server with the fewest calls in flight, ties drawn at random. Measured with
        two one-slot servers (benchmarks/checklist_throughput.py), litellm's Router
        spread concurrent calls worse: random choice ("simple-shuffle") often sent two
        to one server, and "least-busy" breaks ties by list order, so separate
        processes (pytest-xdist workers) would all pick the first server."""
        with self._lock:
            fewest = min(self._in_flight.values())
            base = random.choice([b for b, n in self._in_flight.items() if n == fewest])
            self._in_flight[base] += 1
            return base

    def _cost(self, response: Any) -> float | None:
        try:
            return float(self._litellm.completion_cost(completion_response=response))
        except Exception:  # no price for this model (self-hosted servers): cost unknown
            return None

    def _unavailable(self, cause: BaseException | None, attempts: int,
                     deadline: float) -> JudgeError:
        down = ""
        never_connected = _never_connected(cause)
        if never_connected:
            down = " (retries skipped: it was unreachable on the previous call)" \
                if self._unreachable else ""
            self._unreachable = True
        status = _http_status(cause)  # litellm reports breakdowns as a made-up 500
        what = (f"last status {status}" if status else
                "no HTTP status (connection failed)" if never_connected else
                "no HTTP error status: the reply broke off or was not a chat completion")
        # litellm reports a read timeout as a 500 "timed out": the clock is the judge.
        if (isinstance(cause, self._litellm.Timeout) or "timed out" in str(cause)
                or time.monotonic() >= deadline):
            return self._timeout(cause)
        return BackendUnavailableError(
            f"judge server {self.servers} failed {attempts} attempt(s){down} ({what}): "
            f"{_describe(cause, self._key)}; check that the server is up, or raise "
            "llmjudge_api_retries / llmjudge_timeout"
        )

    def _timeout(self, cause: BaseException | None) -> JudgeTimeoutError:
        return JudgeTimeoutError(
            f"judge server {self.servers} did not answer within llmjudge_timeout "
            f"({_describe(cause, self._key)}); raise llmjudge_timeout or check the server"
        )


class _FormatRejectedError(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _wire_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as sent: without string length bounds, which OpenAI's strict mode
    rejects and llama-cpp-python's server spells out as a huge grammar. The reply is
    still validated against the full schema on our side."""
    properties = {
        name: {k: v for k, v in spec.items() if k not in ("minLength", "maxLength")}
        for name, spec in schema["properties"].items()
    }
    return {**schema, "properties": properties}


def _http_status(err: BaseException | None) -> int | None:
    """The HTTP status a server really sent, from the OpenAI SDK's or httpx's own
    exception in the chain; litellm's wrappers carry a 500 they made up for a reply
    that broke off or was not JSON."""
    while err is not None:
        if type(err).__module__.split(".")[0] in ("openai", "httpx"):
            status = getattr(err, "status_code", None) or getattr(
                getattr(err, "response", None), "status_code", None)
            if isinstance(status, int):
                return status
        err = err.__cause__ or err.__context__
    return None


def _never_connected(err: BaseException | None) -> bool:
    """Whether the call failed before reaching a server (refused, unknown host), as
    opposed to a server that took the request and then broke off its reply; litellm
    words both "Connection error.", so the exception chain decides."""
    import socket

    chain: list[BaseException] = []
    while err is not None and err not in chain:
        chain.append(err)
        err = err.__cause__ or err.__context__
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectError", "ConnectTimeout"} or any(
            isinstance(e, (ConnectionRefusedError, socket.gaierror)) for e in chain):
        return True
    text = " ".join(str(e) for e in chain)
    return "Connection refused" in text or "Name or service not known" in text


def _rejects_format(err: BaseException) -> bool:
    text = str(err).lower()
    return "response_format" in text or "json_schema" in text


def _masked(completion: Completion) -> Completion:
    """A reply with every secret masked: a server that echoes the request's headers
    must not put the key into the cache, the export or a report."""
    text = mask(completion.text)
    return completion if text == completion.text else dataclasses.replace(completion, text=text)


def _describe(err: BaseException | None, secret: str | None) -> str:
    """One line about an exception, with secrets masked and litellm's help banner cut;
    a generic "Connection error." is followed by what actually broke."""
    if err is None:
        return "no error recorded"
    text = " ".join(str(err).split())
    for marker in ("Give Feedback", "LiteLLM.Info", "Provider List"):
        text = text.split(marker)[0]
    root = _root_cause(err)
    if root is not err and text.rstrip(". ").endswith("Connection error"):
        text = f"{text.rstrip()} ({type(root).__name__}: {root})"
    if secret and secret != _PLACEHOLDER_KEY:
        text = text.replace(secret, "***")
    return f"{type(err).__name__}: {mask(text)[:300]}"


def _root_cause(err: BaseException) -> BaseException:
    seen = {id(err)}
    while True:
        nxt = err.__cause__ or err.__context__
        if nxt is None or id(nxt) in seen:
            return err
        seen.add(id(nxt))
        err = nxt
