"""``@pytest.mark.llmjudge_sample(n=10, min_pass_rate=0.8)``: the test body run up to
n times, each run one sample of the app's behaviour, the test decided on the pass rate.

A run is a passing sample when its body returns, so every judged assertion in it
passed; a failing one when it raises AssertionError (a judged assertion that failed,
or a plain ``assert``). A JudgeError (the judge could not judge) stops the test as an
ERROR: it graded nothing. A run that returns without any judged assertion is an error
naming the run: it sampled nothing. The rule that decides is in judging/pass_rates.py.

Fixtures are set up once for all the runs; the app is called again in each, so its own
variation is what is sampled. An ``async def`` test, or one marked
``concurrent=True``, runs its samples in waves of up to ``llmjudge_concurrency``.

With a pass rate stored in the test's baseline file, every sample is taken (unless the
test has already failed) and the rate now is compared with the stored one by Fisher's
exact test: a drop significant at ``llmjudge_significance`` fails the test; one that is
not is a watch item in the summary. ``--llmjudge-update-baselines`` stores the rate.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from ..errors import JudgeConfigError, JudgeError, UnstableVerdictError, UnstableVerdictWarning
from ..judging.pass_rates import (
    SampleDecision,
    decide,
    fisher_drop,
    parse_min_pass_rate,
    parse_samples,
)
from ..judging.policy import make_policy, parse_confidence
from ..masking import mask
from ..reporting.failure import printable
from ..reporting.run_record import SAMPLE_PROPERTY, Sample, sampling
from ..session import session_key
from ..storage import baselines
from ._shared import marked

SAMPLE_MARKER = "llmjudge_sample"
SAMPLE_MARKER_KEYWORDS = ("n", "min_pass_rate", "confidence", "concurrent")
SHOWN_LINES = 25  # of each failing sample's message, in the test's failure
SHOWN_FAILURES = 3  # failing samples shown in full; the rest by number
T = TypeVar("T")


class SampledTestFailure(AssertionError):
    """A sampled test whose pass rate is below its bar, or dropped significantly."""


SampledTestFailure.__module__ = "pytest_llmjudge"


@dataclass(frozen=True)
class SamplePlan:
    samples: int
    min_pass_rate: float
    confidence: float
    concurrent: bool


def marker_plan(item: pytest.Item) -> SamplePlan | None:
    """The test's sampling marker, checked; None when it has none."""
    marker = item.get_closest_marker(SAMPLE_MARKER)
    if marker is None:
        return None
    where = f"@pytest.mark.{SAMPLE_MARKER}"
    keywords = dict(marker.kwargs)
    if len(marker.args) > 1 or (marker.args and "n" in keywords):
        raise JudgeConfigError(f"{where} takes n once, then keywords, e.g. "
                               f"@pytest.mark.{SAMPLE_MARKER}(n=10, min_pass_rate=0.8)")
    if marker.args:
        keywords["n"] = marker.args[0]
    unknown = sorted(set(keywords) - set(SAMPLE_MARKER_KEYWORDS))
    if unknown:
        raise JudgeConfigError(f"{where}: unknown keyword(s) {', '.join(unknown)}; it takes "
                               "n, min_pass_rate, confidence and concurrent")
    if "n" not in keywords or "min_pass_rate" not in keywords:
        raise JudgeConfigError(f"{where} needs n (runs) and min_pass_rate (the share that "
                               "must pass), e.g. n=10, min_pass_rate=0.8")
    concurrent = keywords.get("concurrent", False)
    if not isinstance(concurrent, bool):
        raise JudgeConfigError(f"{where}: concurrent={concurrent!r} is not True or False")
    try:
        confidence = parse_confidence(keywords.get("confidence", 0.95))
    except JudgeConfigError as err:
        raise JudgeConfigError(f"{where}: {err}") from None
    return SamplePlan(parse_samples(keywords["n"], where),
                      parse_min_pass_rate(keywords["min_pass_rate"], where), confidence,
                      concurrent)


@dataclass
class Outcome:
    """One run of the body: passed, or the failure it raised; its verdicts."""

    index: int
    sample: Sample
    failure: AssertionError | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


def run_sampled(item: pytest.Function, plan: SamplePlan) -> None:
    """Run ``item``'s body as the plan says and decide it; raises what the test fails
    or errors with."""
    __tracebackhide__ = True
    session = item.config.stash[session_key]
    settings = session.settings
    body = _body(item)
    path = baselines.migrate(Path(item.path), item.nodeid, item.name)
    stored = None if settings.update_baselines else baselines.read_pass_rate(path)
    # Every sample is taken where the rate is stored (a stored rate is over all n, even
    # a failing one) or compared (an early PASS would cut the power of the comparison),
    # and in a dry run (the most calls it could make).
    stop_on_fail = not settings.update_baselines
    stop_on_pass = stored is None and stop_on_fail and not settings.dry_run
    parallel = max(1, settings.concurrency) if (
        plan.concurrent or _async_function(item)) else 1
    outcomes: list[Outcome] = []
    decision = decide([], plan.samples, plan.min_pass_rate, plan.confidence)
    while len(outcomes) < plan.samples:
        wave = range(len(outcomes), min(plan.samples, len(outcomes) + parallel))
        outcomes += _run_wave(item, body, wave)
        decision = decide([o.passed for o in outcomes], plan.samples, plan.min_pass_rate,
                          plan.confidence)
        if (decision.outcome == "FAIL" and stop_on_fail) or (
                decision.outcome == "PASS" and stop_on_pass):
            break
    comparison = _compare(decision, stored)
    if settings.update_baselines:
        baselines.write_pass_rate(path, item.nodeid, decision.passes, decision.samples)
    item.user_properties.append((SAMPLE_PROPERTY, json.dumps({
        **_summary(decision, outcomes), **comparison,
        "stored": settings.update_baselines})))
    _conclude(item, decision, comparison, outcomes, settings.significance)


def _body(item: pytest.Function) -> Callable[[], object]:
    """The test function called with its fixtures, as pytest calls it; an ``async def``
    test's own coroutine function, under any wrapper an asyncio plugin put around it,
    so its runs can be tasks of one event loop."""
    arguments = {name: item.funcargs[name] for name in item._fixtureinfo.argnames}
    function = _async_function(item) or item.obj
    return lambda: function(**arguments)


def _async_function(item: pytest.Function) -> Callable[..., object] | None:
    function = inspect.unwrap(item.obj)
    return function if inspect.iscoroutinefunction(function) else None


def _run_wave(item: pytest.Function, body: Callable[[], object],
              wave: range) -> list[Outcome]:
    # Loaded here: most runs sample nothing, and the plugin module stays light.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    if len(wave) == 1:
        return [_run_one(item, body, wave[0])]
    if _async_function(item):
        async def together() -> list[Outcome]:
            return list(await asyncio.gather(*(_run_async(item, body, i) for i in wave)))
        return _run_on_the_tests_loop(item, together())
    with ThreadPoolExecutor(max_workers=len(wave)) as pool:
        # Each run in its own copy of the context: its verdicts are tagged with its index.
        futures = [pool.submit(contextvars.copy_context().run, _run_one, item, body, i)
                   for i in wave]
        return [f.result() for f in futures]


@contextmanager
def _one_run(index: int) -> Iterator[Outcome]:
    """One run of the body: its verdicts counted to it, an AssertionError its failure."""
    with sampling(index) as sample:
        outcome = Outcome(index, sample)
        try:
            yield outcome
        except AssertionError as failure:
            outcome.failure = failure


def _run_one(item: pytest.Function, body: Callable[[], object], index: int) -> Outcome:
    __tracebackhide__ = True
    with _one_run(index) as outcome:
        result = body()
        if inspect.iscoroutine(result):
            _run_on_the_tests_loop(item, result)
    return _checked(item, outcome)


def _run_on_the_tests_loop(item: pytest.Function, coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the event loop the asyncio plugin gave the test, where its
    async fixtures (an open connection, a client) live: on another loop they fail with
    "attached to a different loop". pytest-asyncio 1.x keeps a runner per loop scope
    among the test's fixtures; 0.2x an ``event_loop`` fixture. Without either (anyio,
    or no plugin at all) the samples get a loop of their own."""
    for name, value in item.funcargs.items():
        if name.startswith("_") and name.endswith("_scoped_runner") and hasattr(value, "run"):
            # In this context, not the runner's own: the run's sample is counted in it.
            return cast(T, value.run(coroutine, context=contextvars.copy_context()))
    loop = item.funcargs.get("event_loop")
    if loop is not None and hasattr(loop, "run_until_complete"):
        return cast(T, loop.run_until_complete(coroutine))
    import asyncio

    return asyncio.run(coroutine)


async def _run_async(item: pytest.Function, body: Callable[[], object], index: int) -> Outcome:
    __tracebackhide__ = True
    with _one_run(index) as outcome:
        result = body()
        assert inspect.iscoroutine(result)
        await result
    return _checked(item, outcome)


def _checked(item: pytest.Function, outcome: Outcome) -> Outcome:
    if outcome.passed and not outcome.sample.verdicts:
        raise JudgeConfigError(
            f"{item.nodeid} is marked @pytest.mark.{SAMPLE_MARKER} but its run "
            f"{outcome.index + 1} made no judged assertion, so it sampled nothing: every run "
            "must judge the app's output (assert_judged, assert_grounded, ...), or drop the "
            "marker")
    return outcome


def _compare(decision: SampleDecision, stored: tuple[int, int] | None) -> dict[str, Any]:
    if stored is None or decision.samples == 0:
        return {}
    then_passes, then_samples = stored
    change = decision.rate - then_passes / then_samples
    p = fisher_drop(decision.passes, decision.samples, then_passes, then_samples) \
        if change < 0 else 1.0
    return {"baseline": {"passes": then_passes, "samples": then_samples},
            "change": change, "p_value": p}


def _summary(decision: SampleDecision, outcomes: list[Outcome]) -> dict[str, Any]:
    return {"passes": decision.passes, "samples": decision.samples,
            "max_samples": decision.max_samples, "min_pass_rate": decision.min_pass_rate,
            "confidence": decision.confidence, "interval": [decision.low, decision.high],
            "outcome": decision.outcome,
            "failed": [o.index + 1 for o in outcomes if not o.passed]}


def _conclude(item: pytest.Function, decision: SampleDecision, comparison: dict[str, Any],
              outcomes: list[Outcome], significance: float) -> None:
    __tracebackhide__ = True
    header = f"sampled test: {decision.describe()}: {decision.outcome}"
    if decision.outcome == "FAIL":
        raise SampledTestFailure(_explain(
            f"{header} (the bar is out of reach, and the interval lies below "
            f"{decision.min_pass_rate:g})", decision,
            comparison, outcomes))
    if comparison and comparison["p_value"] < significance:
        raise SampledTestFailure(_explain(
            f"{_against(decision, comparison)}: a significant drop (at "
            f"{significance:g}, llmjudge_significance)", decision, comparison, outcomes))
    if decision.outcome == "UNSTABLE":
        unstable = make_policy(item.config.stash[session_key].settings.policy,
                               marked(item)[0], "@pytest.mark.llmjudge").unstable
        text = _explain(f"{header} (below the bar, but its interval still reaches it: "
                        "more samples, n=, would settle it)", decision, comparison, outcomes)
        if unstable == "error":
            raise UnstableVerdictError(text)
        if unstable == "warn":
            warnings.warn(UnstableVerdictWarning(text), stacklevel=2)
            return
        raise SampledTestFailure(text)


def _against(decision: SampleDecision, comparison: dict[str, Any]) -> str:
    """``pass rate 6/10 against 9/10 in the baseline, p = 0.03``."""
    then = comparison["baseline"]
    return (f"pass rate {decision.passes}/{decision.samples} against "
            f"{then['passes']}/{then['samples']} in the baseline, "
            f"p = {comparison['p_value']:.3g}")


def _explain(header: str, decision: SampleDecision, comparison: dict[str, Any],
             outcomes: list[Outcome]) -> str:
    failed = [o for o in outcomes if not o.passed]
    lines = [header,
             f"samples: {decision.samples} taken of at most {decision.max_samples}; "
             f"{decision.passes} passed, {len(failed)} failed"
             + (f" (runs {', '.join(str(o.index + 1) for o in failed)})" if failed else "")]
    if comparison:
        lines.append(_against(decision, comparison))
    for o in failed[:SHOWN_FAILURES]:
        text = str(o.failure).splitlines() or [type(o.failure).__name__]
        cut = len(text) - SHOWN_LINES
        lines += [f"--- run {o.index + 1} failed ---", *text[:SHOWN_LINES],
                  *([f"... [{cut} more lines]"] if cut > 0 else [])]
    if len(failed) > SHOWN_FAILURES:
        lines.append(f"... and {len(failed) - SHOWN_FAILURES} more failing run(s): every "
                     "sample's verdicts are in the JSON and HTML reports")
    return printable(mask("\n".join(lines)))


def pyfunc_call(item: pytest.Function) -> bool | None:
    """The pytest_pyfunc_call of a sampled test: True once it ran; None for others."""
    __tracebackhide__ = True
    plan = marker_plan(item)
    if plan is None:
        return None
    try:
        run_sampled(item, plan)
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return True


__all__ = ["SAMPLE_MARKER", "SampledTestFailure", "marker_plan", "pyfunc_call"]
