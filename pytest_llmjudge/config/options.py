"""Settings: every option declared once, resolved once per session into a frozen object.

Precedence, highest first: command line, ini file, environment variable, default.
Command-line defaults are ``None`` so that "not given" is distinguishable and the
ini value or the environment can apply (the pytest-xdist convention).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from ..errors import JudgeConfigError
from ..judging.policy import (
    STRATEGIES,
    UNSTABLE_MODES,
    Policy,
    parse_confidence,
    parse_polls,
    parse_strategy,
    parse_unstable,
    reconcile_polls,
)

BACKENDS = ("llamacpp", "litellm")
# vcrpy's record modes. They govern the judge cache (replay.py) and judge-written files
# kept for review (generated checklists): none replays only, once records only what a
# test has never recorded, new_episodes also records what is new, all re-records
# everything, off neither reads nor writes.
RECORD_MODES = ("none", "once", "new_episodes", "all", "off")
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def parse_threshold(raw: object, source: str = "threshold") -> float:
    """A pass threshold on the judge's 0..1 score."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JudgeConfigError(
            f"{source}={raw!r} is not a number; use a value between 0 and 1, e.g. 0.5"
        ) from None
    if isinstance(raw, bool) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise JudgeConfigError(
            f"{source}={raw!r} is outside the score range; use a value between 0 and 1, e.g. 0.5"
        )
    return value


def _parse_backend(raw: str) -> str:
    value = raw.strip().lower()
    if value not in BACKENDS:
        raise JudgeConfigError(
            f"unknown backend {raw!r}; valid backends: {', '.join(BACKENDS)}"
        )
    return value


def _parse_model(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise JudgeConfigError(
            "the model is empty; give a .gguf path, a packaged model name or hf:REPO/FILE.gguf"
        )
    return value


def _int_parser(minimum: int, what: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise JudgeConfigError(f"{raw!r} is not an integer; {what}") from None
        if value < minimum:
            raise JudgeConfigError(f"{raw!r} is below {minimum}; {what}")
        return value

    return parse


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise JudgeConfigError(f"{raw!r} is not a number of seconds") from None
    if not value > 0 or math.isinf(value):
        raise JudgeConfigError(f"{raw!r} must be a positive, finite number of seconds")
    return value


def _optional_threads(raw: str) -> int | None:
    if raw.strip().lower() in ("", "auto"):
        return None
    return _int_parser(1, "use a thread count of at least 1, or 'auto'")(raw)


def _optional_path(raw: str) -> str | None:
    return raw.strip() or None


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise JudgeConfigError(f"{raw!r} is not a boolean; use true or false")


def _record_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value not in RECORD_MODES:
        raise JudgeConfigError(
            f"unknown record mode {raw!r}; valid modes: {', '.join(RECORD_MODES)}")
    return value


def _optional_count(raw: str) -> int | None:
    if not raw.strip():
        return None
    return _int_parser(0, "use a whole number of judge calls, 0 or more")(raw)


def _optional_usd(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise JudgeConfigError(f"{raw!r} is not an amount in US dollars, e.g. 0.50") from None
    if not value >= 0 or math.isinf(value):
        raise JudgeConfigError(f"{raw!r} must be a finite amount of 0 or more US dollars")
    return value


def _unit(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise JudgeConfigError(f"{raw!r} is not a number between 0 and 1, e.g. 0.8") from None
    if not 0.0 <= value <= 1.0:
        raise JudgeConfigError(f"{raw!r} is outside 0..1; use a share, e.g. 0.8")
    return value


CALIBRATE_TARGETS = ("balanced_accuracy", "tpr", "tnr")


def _calibrate_target(raw: str) -> tuple[str, float | None]:
    """balanced_accuracy, or tpr=0.9 / tnr=0.9: the rate the fitted threshold must meet."""
    name, _, value = raw.strip().lower().partition("=")
    if name == "balanced_accuracy" and not value:
        return name, None
    if name in ("tpr", "tnr") and value:
        share = _unit(value)
        if share is not None:
            return name, share
    raise JudgeConfigError(
        f"{raw!r} is not a calibration target; use balanced_accuracy, tpr=0.9 (catch at "
        "least 90% of outputs labelled 1) or tnr=0.9 (reject at least 90% labelled 0)")


def _rescale(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("none", "platt", "isotonic"):
        raise JudgeConfigError(f"unknown rescaling {raw!r}; use none, platt or isotonic")
    return value


def _api_bases(raw: str) -> tuple[str, ...]:
    bases = tuple(b.strip().rstrip("/") for b in raw.split(",") if b.strip())
    for base in bases:
        if not base.startswith(("http://", "https://")):
            raise JudgeConfigError(
                f"api_base {base!r} is not an http(s) URL; write e.g. http://127.0.0.1:8080/v1"
            )
    return bases


@dataclass(frozen=True)
class Option:
    """One setting, with its spellings on the command line, in ini files and in the environment."""

    name: str
    parse: Callable[[str], Any]
    default: str
    help: str
    switch: bool = False  # a command-line flag that takes no value (sets "true")

    @property
    def flag(self) -> str:
        return "--llmjudge-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "llmjudge_" + self.name

    @property
    def env(self) -> str:
        return "LLMJUDGE_" + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("backend", _parse_backend, "llamacpp",
           f"judge backend: {', '.join(BACKENDS)} (default llamacpp)"),
    Option("model", _parse_model, DEFAULT_MODEL,
           "judge model: a .gguf path, a packaged model name (smollm2-135m, qwen2.5-coder-0.5b, "
           f"qwen2.5-coder-1.5b) or hf:REPO/FILE.gguf (default {DEFAULT_MODEL})"),
    Option("threshold", parse_threshold, "0.5",
           "default pass threshold on the 0..1 judge score (default 0.5)"),
    Option("n_gpu_layers", _int_parser(-1, "use -1 for all layers, 0 for CPU only"), "0",
           "model layers to offload to the GPU; -1 offloads all (default 0, CPU)"),
    Option("n_ctx", _int_parser(256, "use a context window of at least 256 tokens"), "4096",
           "context window of the local model in tokens (default 4096)"),
    Option("n_threads", _optional_threads, "auto",
           "CPU threads for the local model (default auto)"),
    Option("max_tokens", _int_parser(1, "allow the judge at least 1 reply token"), "160",
           "most tokens the judge may write in one reply (default 160)"),
    Option("retries", _int_parser(0, "use 0 or more retries"), "2",
           "extra attempts when a judge reply fails the verdict schema (default 2)"),
    Option("timeout", _positive_float, "120",
           "seconds one judge call may take before it errors (default 120)"),
    Option("seed", _int_parser(0, "use a seed of 0 or more"), "0",
           "sampling seed for judge calls (default 0)"),
    Option("api_base", _api_bases, "",
           "litellm backend: server URL(s), comma-separated to spread calls over several "
           "servers, e.g. http://127.0.0.1:8080/v1"),
    Option("router_config", _optional_path, "",
           "litellm backend: a JSON or YAML file with a litellm Router model_list; "
           "llmjudge_model names the model_name to route to"),
    Option("api_retries", _int_parser(0, "use 0 or more retries"), "3",
           "litellm backend: retries for rate limits, 5xx and connection errors (default 3)"),
    Option("api_logprobs", _boolean, "true",
           "litellm backend: ask for logprobs to score P(YES); off scores the hard answer "
           "(default true)"),
    Option("concurrency", _int_parser(1, "allow at least 1 call at a time"), "4",
           "independent judge calls of one assertion or batch run at once, up to this "
           "many (default 4; a local model takes them in turn)"),
    Option("strategy", parse_strategy, "auto",
           f"how verdicts are scored: {', '.join(STRATEGIES)} (default auto: logprob where the "
           "judge shows probabilities, chainpoll where it does not)"),
    Option("polls", parse_polls, "5",
           "most polls one chainpoll/weighted verdict may draw (default 5)"),
    Option("min_polls", lambda raw: parse_polls(raw, "min_polls"), "3",
           "polls drawn before the stopping rule is consulted (default 3)"),
    Option("confidence", parse_confidence, "0.9",
           "confidence of the interval that settles a polled verdict, in (0, 1) (default 0.9)"),
    Option("unstable", parse_unstable, "fail",
           f"what an UNSTABLE verdict does: {', '.join(UNSTABLE_MODES)} (default fail)"),
    Option("report", _optional_path, "",
           "write every verdict of the run as JSON to this path"),
    Option("record_mode", _record_mode, "new_episodes",
           f"judge cache and generated checklists: {', '.join(RECORD_MODES)}; none replays "
           "only (a judge call not recorded is an error: use it in CI), off skips the cache "
           "(default new_episodes)"),
    Option("cache_dir", _optional_path, ".llmjudge",
           "directory of the judge cache, relative to the rootdir (default .llmjudge)"),
    Option("cache_import", _optional_path, "",
           "load recorded judgments from this exported file into the cache at the start"),
    Option("cache_export", _optional_path, "",
           "write the judgments this run replayed or recorded to this file, to commit"),
    Option("max_calls", _optional_count, "",
           "most judge calls the run may make (cache replays are free); judged assertions "
           "past it ERROR"),
    Option("max_cost", _optional_usd, "",
           "most US dollars the run may spend on a priced judge; judged assertions past "
           "it ERROR"),
    Option("dry_run", _boolean, "false",
           "count the judge calls the run would make without making them (replays still "
           "replay); judged tests are reported as skipped", switch=True),
    Option("html", _optional_path, "",
           "write a self-contained HTML report of every verdict to this path"),
    Option("calibration_file", _optional_path, "llmjudge-calibration.json",
           "fitted thresholds, relative to the rootdir, applied where a test gives none "
           "(default llmjudge-calibration.json; used when it exists)"),
    Option("calibrate", _optional_path, "",
           "labelled examples (JSON Lines) to measure the judge on: AUROC, accuracy, "
           "kappa, ECE and a fitted threshold, reported as one more test"),
    Option("calibrate_target", _calibrate_target, "balanced_accuracy",
           "what the fitted threshold maximises or meets: balanced_accuracy, tpr=0.9 or "
           "tnr=0.9 (default balanced_accuracy)"),
    Option("calibrate_rescale", _rescale, "none",
           "also fit and report a rescaling of scores: none, platt or isotonic"),
    Option("update_calibration", _boolean, "false",
           "write the thresholds fitted by --llmjudge-calibrate to the calibration file",
           switch=True),
    Option("min_agreement", _unit, "",
           "fail the run when the judge agrees with fewer than this share of the "
           "calibration labels, at the thresholds in effect (e.g. 0.8)"),
    Option("update_checklists", _boolean, "false",
           "rewrite every generated checklist file this run uses, whatever the record mode",
           switch=True),
    Option("update_baselines", _boolean, "false",
           "record (or refresh) every baseline the run's tests name, from the output "
           "they pass to baseline(name, output)", switch=True),
)


@dataclass(frozen=True)
class Settings:
    """The judge configuration in effect for one session."""

    backend: str = "llamacpp"
    model: str = DEFAULT_MODEL
    threshold: float = 0.5
    n_gpu_layers: int = 0
    n_ctx: int = 4096
    n_threads: int | None = None
    max_tokens: int = 160
    retries: int = 2
    timeout: float = 120.0
    seed: int = 0
    api_base: tuple[str, ...] = ()
    router_config: str | None = None
    api_retries: int = 3
    api_logprobs: bool = True
    concurrency: int = 4
    strategy: str = "auto"
    polls: int = 5
    min_polls: int = 3
    confidence: float = 0.9
    unstable: str = "fail"
    report: str | None = None
    record_mode: str = "new_episodes"
    cache_dir: str | None = ".llmjudge"
    cache_import: str | None = None
    cache_export: str | None = None
    max_calls: int | None = None
    max_cost: float | None = None
    dry_run: bool = False
    html: str | None = None
    calibration_file: str | None = "llmjudge-calibration.json"
    calibrate: str | None = None
    calibrate_target: tuple[str, float | None] = ("balanced_accuracy", None)
    calibrate_rescale: str = "none"
    update_calibration: bool = False
    min_agreement: float | None = None
    update_checklists: bool = False
    update_baselines: bool = False
    # Where each value came from ("cli", "ini", "env", "default"), for the report header.
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def with_record_mode(self, mode: str) -> Settings:
        return dataclasses.replace(self, record_mode=mode)

    @property
    def policy(self) -> Policy:
        return Policy(strategy=self.strategy, polls=self.polls, min_polls=self.min_polls,
                      confidence=self.confidence, unstable=self.unstable)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmjudge", "LLM judge (pytest-llmjudge)")
    for option in OPTIONS:
        switch: dict[str, Any] = dict(action="store_const", const="true") if option.switch else {}
        group.addoption(option.flag, dest=option.ini, default=None,
                        help=f"{option.help}; ini {option.ini}, env {option.env}", **switch)
        parser.addini(option.ini, help=option.help, default="")


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every option once. A bad value raises pytest.UsageError naming the valid ones."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        candidates = (
            ("cli", config.getoption(option.ini), option.flag),
            ("ini", config.getini(option.ini) or None, option.ini),
            ("env", env.get(option.env) or None, option.env),
            ("default", option.default, option.ini),
        )
        source, raw, spelled = next(c for c in candidates if c[1] is not None)
        try:
            values[option.name] = option.parse(str(raw))
        except JudgeConfigError as err:
            raise pytest.UsageError(f"pytest-llmjudge: {spelled}: {err}") from None
        sources[option.name] = source
    try:
        values["min_polls"] = reconcile_polls(values["polls"], values["min_polls"],
                                              sources["min_polls"] != "default")
    except JudgeConfigError as err:
        raise pytest.UsageError(f"pytest-llmjudge: llmjudge_min_polls: {err}") from None
    return Settings(**values, sources=sources)
