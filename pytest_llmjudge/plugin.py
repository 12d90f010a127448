"""pytest entry point (``-p no:llmjudge`` disables it). Hooks and fixtures only.

Nothing heavy is imported here: the judge backend, llama_cpp, tenacity and
jsonschema load on the first judged assertion (the model itself on the first judge
call the cache cannot replay), so a run that judges nothing pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs
from .assertions.agents import TOOLS_MARKER, ToolsFixture, marker_tools
from .assertions.checklist import CHECKLIST_MARKER, marker_checklist
from .assertions.fixtures import BaselineFixture, ChecklistFixture, JudgeFixture
from .assertions.sampled import SAMPLE_MARKER, marker_plan, pyfunc_call
from .config.settings import Settings
from .config.sources import add_options, resolve
from .errors import JudgeConfigError, JudgeError
from .reporting.collector import Collector, run_id
from .reporting.run_record import ERROR_PROPERTY
from .session import JudgeSession, session_key, set_running

COLLECTOR = "llmjudge-collector"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    hookspecs.declare(pluginmanager)  # unless the llmjudge_hooks entry point did


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llmjudge(strategy=, polls=, min_polls=, confidence=, unstable=, threshold=): "
        "judging policy for the judged assertions of a test, module (pytestmark) or class",
    )
    config.addinivalue_line(
        "markers",
        f"{CHECKLIST_MARKER}(*items, threshold=1.0, weights=None, instruction=None, name=None): "
        "the checklist the test's judge_checklist(reply) judges against",
    )
    config.addinivalue_line(
        "markers",
        f"{TOOLS_MARKER}(expected=[{{'name': ..., 'args': {{...}}}}], order='strict', "
        "args='exact', threshold=None): the tool calls the test's judge_tools(transcript) "
        "must match",
    )
    config.addinivalue_line(
        "markers",
        f"{SAMPLE_MARKER}(n, min_pass_rate, confidence=0.95, concurrent=False): run the "
        "test body up to n times and decide it on the share of runs whose judged "
        "assertions all passed")
    settings = resolve(config)
    _check_cache_files(settings)
    imported = None
    if settings.cache_import and not hasattr(config, "workerinput"):
        imported = _check_import(settings.cache_import)
    if settings.drift and not hasattr(config, "workerinput"):
        _check_drift_file(settings.drift)

    def make_backend(s: Settings) -> Any:
        return config.hook.pytest_llmjudge_make_backend(settings=s)

    root = config.rootpath
    config.stash[session_key] = JudgeSession(
        settings, make_backend, root / settings.cache_dir if settings.cache_dir else None,
        run_id(config), root / settings.calibration_file if settings.calibration_file else None,
        imported)
    config.pluginmanager.register(Collector(config), COLLECTOR)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    from .calibration.drift_item import add_drift_item
    from .calibration.item import add_calibration_item

    add_calibration_item(session, items)
    add_drift_item(session, items)


def _check_import(path: str) -> list[Any]:
    """A judgments file that cannot be imported stops the run before any test. The
    entries read are kept for the cache, so the file is parsed once."""
    from .storage.judgments_file import JudgmentsFileError, load

    try:
        return load(Path(path))
    except JudgmentsFileError as err:
        raise pytest.UsageError(f"pytest-llmjudge: --llmjudge-cache-import: {err}") from None


def _check_drift_file(path: str) -> None:
    """A drift file of another format or version stops the run before any test."""
    from .storage.judgments_file import JudgmentsFileError, check_header

    try:
        check_header(Path(path))
    except JudgmentsFileError as err:
        raise pytest.UsageError(f"pytest-llmjudge: --llmjudge-drift: {err}") from None


def _check_cache_files(settings: Settings) -> None:
    """Record mode off keeps no cache: an import would go unused and an export would be
    empty, so the combination is refused rather than silently ignored."""
    if settings.record_mode != "off":
        return
    for name, value in (("cache-import", settings.cache_import),
                        ("cache-export", settings.cache_export)):
        if value:
            raise pytest.UsageError(
                f"pytest-llmjudge: --llmjudge-{name}={value} needs the judge cache, and "
                "--llmjudge-record-mode=off turns it off; use record mode none to replay "
                "only, or drop the option")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(session_key, None)
    if session is not None:
        session.close()
        del config.stash[session_key]
    collector = config.pluginmanager.get_plugin(COLLECTOR)
    if collector is not None:
        config.pluginmanager.unregister(collector)


@pytest.hookimpl(trylast=True)
def pytest_llmjudge_make_backend(settings: Settings) -> Any:
    from .backends import create_backend

    return create_backend(settings.backend_config())


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[session_key].settings
    where = s.sources.get("model", "default")
    gpu = "all layers on GPU" if s.n_gpu_layers < 0 else (
        f"{s.n_gpu_layers} layers on GPU" if s.n_gpu_layers else "CPU")
    return (f"llmjudge: backend {s.backend}, model {s.model} (from {where}), "
            f"threshold {s.threshold}, {gpu}; record mode {s.record_mode}"
            f"{', dry run' if s.dry_run else ''}; loads on first judge call not replayed")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    session = item.config.stash[session_key]
    previous = set_running((session, item))
    item.stash[_dry_run_start] = session.replayer.totals.dry_run
    try:
        return (yield)
    finally:
        set_running(previous)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A checklist marker is checked before the test runs: its items, and that the test
    requests the fixture that hands the output over (else nothing would be judged)."""
    problem = (_marker_problem(item, marker_checklist, CHECKLIST_MARKER, "judge_checklist",
                               "judge_checklist(reply)", "assert_checklist(reply, items=[...])")
               or _marker_problem(item, marker_tools, TOOLS_MARKER, "judge_tools",
                                  "judge_tools(transcript)",
                                  "assert_tool_calls(transcript, expected=[...])"))
    if problem is None:
        try:
            marker_plan(item)
        except JudgeError as err:
            problem = err
    if problem is not None:
        _fail_outside_the_test(item, problem)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A sampled test's body runs up to n times (assertions/sampled.py); others as usual."""
    __tracebackhide__ = True
    return pyfunc_call(pyfuncitem)


def _marker_problem(item: pytest.Item, check: Callable[[pytest.Item], object], marker: str,
                    fixture: str, call: str, instead: str) -> JudgeError | None:
    """What is wrong with the test's ``marker``: its arguments, or a test that does not
    request the ``fixture`` that hands the output over (else nothing would be judged)."""
    try:
        marked = check(item) is not None
    except JudgeError as err:
        return err
    if not marked or fixture in getattr(item, "fixturenames", ()):
        return None
    return JudgeConfigError(
        f"{item.nodeid} is marked @pytest.mark.{marker} but does not request the {fixture} "
        f"fixture, so nothing hands its output over: add a {fixture} argument and call "
        f"{call}, or drop the marker and call {instead}")


def _fail_outside_the_test(item: pytest.Item, err: JudgeError) -> None:
    """An ERROR at setup or teardown with the message alone: the plugin's frames would
    only hide it."""
    message = f"{type(err).__name__}: {err}"
    item.user_properties.append((ERROR_PROPERTY, message))
    pytest.fail(message, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        item.stash[_call_report] = report
    if call.excinfo is not None and isinstance(call.excinfo.value, JudgeError):
        error = call.excinfo.value
        message = f"{type(error).__name__}: {error}"
        report.user_properties.append((ERROR_PROPERTY, message))
        # A plain attribute survives xdist's report serialisation to the controller.
        report.llmjudge_error = message  # type: ignore[attr-defined]
    if call.when == "call":
        _dry_run_outcome(item, report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    # Judging that could not happen graded nothing: report ERROR, not FAILED. A plain
    # word (pytest colours a failed report red): pytest 8.0 printed a (word, markup)
    # pair as a tuple in the short summary.
    if report.failed and getattr(report, "llmjudge_error", None):
        return "error", "E", "ERROR"
    return None


def _dry_run_outcome(item: pytest.Item, report: pytest.TestReport) -> None:
    """In a dry run, a test that stood placeholders in for judge calls graded nothing:
    it is reported as skipped, with the count, whatever its assertions did."""
    session = item.config.stash[session_key]
    counted = session.replayer.totals.dry_run - item.stash.get(_dry_run_start, 0)
    if session.settings.dry_run and counted > 0 and not getattr(report, "llmjudge_error", None):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1,
                           f"Skipped: llmjudge dry run: {counted} judge call(s) counted, "
                           "none made")


_dry_run_start = pytest.StashKey[int]()


@pytest.fixture
def judge(request: pytest.FixtureRequest) -> JudgeFixture:
    """The session's judge: ``judge.evaluate(output, criteria)`` returns a Verdict,
    ``judge.assert_judged(output, criteria)`` asserts."""
    return JudgeFixture(request.config.stash[session_key], request.node)


@pytest.fixture
def judge_checklist(request: pytest.FixtureRequest) -> Generator[ChecklistFixture, None, None]:
    """``judge_checklist(reply)`` judges the reply against the test's
    ``@pytest.mark.llmjudge_checklist(...)`` items and asserts the pass rate."""
    fixture = ChecklistFixture(request.config.stash[session_key], request.node)
    yield fixture
    if fixture.calls == 0 and not _failed(request.node):
        _fail_outside_the_test(request.node, JudgeConfigError(
            f"{request.node.nodeid} requests judge_checklist but never calls it, so its "
            "checklist judged nothing: call judge_checklist(reply) with the output to check"))


@pytest.fixture
def judge_tools(request: pytest.FixtureRequest) -> Generator[ToolsFixture, None, None]:
    """``judge_tools(transcript)`` matches the transcript's tool calls against the
    test's ``@pytest.mark.llmjudge_tools(expected=[...])``."""
    fixture = ToolsFixture(request.node)
    yield fixture
    if fixture.calls == 0 and not _failed(request.node):
        _fail_outside_the_test(request.node, JudgeConfigError(
            f"{request.node.nodeid} requests judge_tools but never calls it, so its tool "
            "calls were never checked: call judge_tools(transcript) with the agent's "
            "transcript"))


def _failed(item: pytest.Item) -> bool:
    report = item.stash.get(_call_report, None)
    return report is not None and report.failed


_call_report = pytest.StashKey[pytest.TestReport]()


@pytest.fixture
def baseline(request: pytest.FixtureRequest) -> BaselineFixture:
    """``baseline(name, output)``: the stored output named ``name`` for this test; with
    --llmjudge-update-baselines, stores ``output`` under that name instead."""
    settings = request.config.stash[session_key].settings
    return BaselineFixture(request.node, settings.update_baselines)
