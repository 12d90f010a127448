"""The option table: every setting declared once, with its parser, its default and its
help. Pytest-free: ``Settings`` takes its defaults from here and ``sources`` reads
the command line, ini file and environment against it."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import JudgeConfigError
from ..judging.policy import (
    REASONS,
    STRATEGIES,
    UNSTABLE_MODES,
    parse_confidence,
    parse_polls,
    parse_reasons,
    parse_strategy,
    parse_unstable,
)
from .thresholds import parse_threshold

BACKENDS = ("llamacpp", "litellm")
# vcrpy's record modes. They govern the judge cache (storage/record_modes.py) and
# judge-written files kept for review (generated checklists): none replays only, once
# records only what a test has never recorded, new_episodes also records what is new,
# all re-records everything, off neither reads nor writes.
RECORD_MODES = ("none", "once", "new_episodes", "all", "off")
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def _one_of(raw: str, allowed: tuple[str, ...], refusal: str) -> str:
    """``raw`` as one of ``allowed`` (case and spaces aside); else ``refusal`` raised."""
    value = raw.strip().lower()
    if value not in allowed:
        raise JudgeConfigError(refusal)
    return value


def _parse_backend(raw: str) -> str:
    return _one_of(raw, BACKENDS,
                   f"unknown backend {raw!r}; valid backends: {', '.join(BACKENDS)}")


def _parse_model(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise JudgeConfigError(
            "the model is empty; give a .gguf path, a packaged model name or hf:REPO/FILE.gguf"
        )
    return value


def _int_parser(minimum: int, what: str, maximum: int | None = None,
                above: str = "") -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise JudgeConfigError(f"{raw!r} is not an integer; {what}") from None
        if value < minimum:
            raise JudgeConfigError(f"{raw!r} is below {minimum}; {what}")
        if maximum is not None and value > maximum:
            raise JudgeConfigError(f"{raw!r} is above {maximum}; {above or what}")
        return value

    return parse


# Bounds that keep a typo from reaching llama.cpp, which aborts the process on an
# absurd thread count and allocates the whole context window up front. The model's
# trained context is checked again before it loads (backends/llamacpp.py).
THREADS_PER_CPU = 4
MAX_THREADS = (os.cpu_count() or 1) * THREADS_PER_CPU
MAX_N_CTX = 1 << 20  # 1,048,576 tokens
# A judge that fails ten times in a row will not answer on the eleventh; unbounded
# retries against a misbehaving server ran on for as long as the user waited.
MAX_RETRIES = 10
RETRIES_ABOVE = "a judge that failed 10 times will not answer on the 11th; fix the judge"


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
    return _int_parser(1, "use a thread count of at least 1, or 'auto'", MAX_THREADS,
                       f"this machine has {os.cpu_count()} CPUs; use 'auto', or at most "
                       f"{THREADS_PER_CPU} threads per CPU")(raw)


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
    return _one_of(raw, RECORD_MODES,
                   f"unknown record mode {raw!r}; valid modes: {', '.join(RECORD_MODES)}")


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


def _significance(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise JudgeConfigError(f"{raw!r} is not a significance level; use a number between "
                               "0 and 1, e.g. 0.05") from None
    if not 0.0 < value < 1.0:
        raise JudgeConfigError(f"{raw!r} is outside (0, 1); use a significance level such "
                               "as 0.05 (a drop this unlikely by chance fails the test)")
    return value


def _optional_flips(raw: str) -> int | None:
    if not raw.strip():
        return None
    return _int_parser(0, "use a whole number of flipped verdicts, 0 or more")(raw)


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
    return _one_of(raw, ("none", "platt", "isotonic"),
                   f"unknown rescaling {raw!r}; use none, platt or isotonic")


def _panel(raw: str) -> str:
    from ..judging.roles import parse_panel

    parse_panel(raw)  # checked here, so a bad member stops the run before any test
    return raw.strip()


def _panel_aggregate(raw: str) -> str:
    from ..judging.roles import parse_aggregate

    return parse_aggregate(raw)


def _quorum(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise JudgeConfigError(
            f"llmjudge_panel_quorum={raw!r} is not a whole number of members") from None
    if value < 1:
        raise JudgeConfigError(f"llmjudge_panel_quorum={raw!r}: at least 1 member must judge")
    return value


HEAD_SOURCES = ("packaged", "file", "off")
PAIRWISE_MODES = ("signals", "orders")


def _pairwise(raw: str) -> str:
    return _one_of(raw, PAIRWISE_MODES, (
        f"llmjudge_pairwise={raw!r} is not a way to compare; use signals (both orders plus "
        "each output judged alone, combined by the fitted pairwise head where one matches) "
        "or orders (both orders only: 2 calls, and most pairs tie on a small judge)"))


def _heads(raw: str) -> str:
    return _one_of(raw, HEAD_SOURCES, (
        f"llmjudge_heads={raw!r} is not a source of heads; use packaged (the calibration "
        "file's heads, then those shipped for the default judge), file (the calibration "
        "file's only) or off (score by P(YES))"))


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
    Option("n_ctx", _int_parser(256, "use a context window of at least 256 tokens", MAX_N_CTX,
                                "no judge model needs a larger window (it is also checked "
                                "against the model's trained context)"), "4096",
           "context window of the local model in tokens (default 4096)"),
    Option("n_threads", _optional_threads, "auto",
           "CPU threads for the local model (default auto)"),
    Option("max_tokens", _int_parser(1, "allow the judge at least 1 reply token"), "160",
           "most tokens the judge may write in one reply (default 160)"),
    Option("retries", _int_parser(0, "use 0 or more retries", MAX_RETRIES, RETRIES_ABOVE),
           "2",
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
    Option("api_retries", _int_parser(0, "use 0 or more retries", MAX_RETRIES, RETRIES_ABOVE),
           "3",
           "litellm backend: retries for rate limits, 5xx and connection errors (default 3)"),
    Option("api_logprobs", _boolean, "true",
           "litellm backend: ask for logprobs to score P(YES); false makes strategy auto "
           "poll votes (chainpoll) and refuses logprob/weighted (default true)"),
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
    Option("reasons", parse_reasons, "failures",
           f"which one-pass verdicts get the judge's written reason: {', '.join(REASONS)} "
           "(default failures: failing, UNSTABLE and borderline verdicts; the score never "
           "depends on it, and a polled verdict always reasons)"),
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
           "write the judgments this run replayed or recorded to this file, to commit; "
           "judgments already in the file are kept (see cache_export_prune)"),
    Option("cache_export_prune", _boolean, "false",
           "drop from the export the judgments this run shows are stale: those of tests "
           "that passed without using them, and, when the whole suite ran, those of tests "
           "that no longer exist", switch=True),
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
           "fitted thresholds, relative to the rootdir, applied where neither the test nor "
           "the command line gives one (default llmjudge-calibration.json; used when it "
           "exists)"),
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
    Option("fit_head", _boolean, "false",
           "in a calibration run, also fit a head per kind over the judge's hidden state "
           "and logit P(YES), cross-validated against P(YES) (pairwise labels: weights "
           "over a comparison's signals and a tie margin); written with "
           "--llmjudge-update-calibration only where it beats P(YES)", switch=True),
    Option("fit_head_force", _boolean, "false",
           "write a fitted head even where it does not beat P(YES) under "
           "cross-validation", switch=True),
    Option("heads", _heads, "packaged",
           "which fitted heads score logprob verdicts: packaged (the calibration file's, "
           "then those shipped for the default judge), file (the calibration file's "
           "only) or off (P(YES))"),
    Option("pairwise", _pairwise, "signals",
           "what a comparison (assert_better, assert_not_worse, judge.compare, rank) reads: "
           "signals (both orders of the pairwise prompt, and each output judged alone "
           "against the criteria, combined by the fitted pairwise head where one matches) "
           "or orders (both orders only)"),
    Option("panel", _panel, "",
           "judge every request with a panel: members separated by commas, each MODEL, "
           "@ROLE or MODEL@ROLE (roles: strict, lenient, expert), e.g. "
           "qwen2.5-coder-0.5b,qwen2.5-coder-1.5b or @strict,@lenient"),
    Option("panel_aggregate", _panel_aggregate, "mean",
           "how a panel's verdicts combine: mean (of the scores), majority (the share of "
           "members that passed) or learned (weights fitted on labels: calibrate LABELS "
           "--llmjudge-fit-head with the panel configured)"),
    Option("panel_quorum", _quorum, "",
           "members of a panel that must judge; fewer is an ERROR naming who failed "
           "(default: every member)"),
    Option("min_agreement", _unit, "",
           "fail the run when the judge agrees with fewer than this share of the "
           "calibration labels, at the thresholds in effect (e.g. 0.8)"),
    Option("update_checklists", _boolean, "false",
           "rewrite every generated checklist file this run uses, whatever the record mode",
           switch=True),
    Option("update_baselines", _boolean, "false",
           "record (or refresh) every baseline the run's tests name, from the output "
           "they pass to baseline(name, output), and every sampled test's pass rate",
           switch=True),
    Option("significance", _significance, "0.05",
           "a sampled test whose pass rate dropped against its stored baseline fails when "
           "Fisher's exact test puts the drop below this p-value (default 0.05)"),
    Option("drift", _optional_path, "",
           "re-judge every judgment recorded in this exported judgments file with the "
           "judge configured now, and report agreement, kappa and flips as one more test"),
    Option("max_flips", _optional_flips, "",
           "with --llmjudge-drift, fail when more recorded verdicts than this flip (PASS "
           "to FAIL or FAIL to PASS) under the judge configured now"),
)
