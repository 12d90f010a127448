"""pytest entry point (``-p no:llmjudge`` disables it). Hooks and fixtures only.

Nothing heavy is imported here: the judge backend, llama_cpp, tenacity and
jsonschema load on the first judged assertion, so a run that judges nothing
pays nothing.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from . import hookspecs
from .baseline import BaselineFixture
from .checklist import CHECKLIST_MARKER, ChecklistFixture, marker_checklist
from .errors import JudgeConfigError, JudgeError
from .fixture import JudgeFixture
from .report import ERROR_PROPERTY, SessionRecord
from .session import JudgeSession, session_key, set_running
from .settings import Settings, add_options, resolve


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


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
    settings = resolve(config)

    def make_backend(s: Settings) -> Any:
        return config.hook.pytest_llmjudge_make_backend(settings=s)

    config.stash[session_key] = JudgeSession(settings, make_backend)
    config.pluginmanager.register(_Recorder(config), "llmjudge-recorder")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(session_key, None)
    if session is not None:
        session.close()
        del config.stash[session_key]
    recorder = config.pluginmanager.get_plugin("llmjudge-recorder")
    if recorder is not None:
        config.pluginmanager.unregister(recorder)


@pytest.hookimpl(trylast=True)
def pytest_llmjudge_make_backend(settings: Settings) -> Any:
    from .backends import create_backend

    return create_backend(settings)


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[session_key].settings
    where = s.sources.get("model", "default")
    gpu = "all layers on GPU" if s.n_gpu_layers < 0 else (
        f"{s.n_gpu_layers} layers on GPU" if s.n_gpu_layers else "CPU")
    return (f"llmjudge: backend {s.backend}, model {s.model} (from {where}), "
            f"threshold {s.threshold}, {gpu}; loads on first judged assertion")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    previous = set_running((item.config.stash[session_key], item))
    try:
        return (yield)
    finally:
        set_running(previous)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A checklist marker is checked before the test runs: its items, and that the test
    requests the fixture that hands the output over (else nothing would be judged)."""
    try:
        marked = marker_checklist(item) is not None
    except JudgeError as err:
        problem: JudgeError | None = err
    else:
        problem = None if not marked or "judge_checklist" in getattr(
            item, "fixturenames", ()) else JudgeConfigError(
            f"{item.nodeid} is marked @pytest.mark.{CHECKLIST_MARKER} but does not "
            "request the judge_checklist fixture, so nothing hands its output to the "
            "checklist: add a judge_checklist argument and call judge_checklist(reply), "
            "or drop the marker and call assert_checklist(reply, items=[...])")
    if problem is not None:
        _fail_outside_the_test(item, problem)


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
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    # Judging that could not happen graded nothing: report ERROR, not FAILED.
    if report.failed and getattr(report, "llmjudge_error", None):
        return "error", "E", ("ERROR", {"red": True})
    return None


class _Recorder:
    """Collects judged results from every test report (on the xdist controller too)
    and writes the terminal summary and the JSON report. Registered per session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.record = SessionRecord()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        config = self.config
        if hasattr(config, "workerinput") or config.option.verbose < 0:
            return
        lines = list(self.record.summary_lines(config.option.verbose > 0))
        if lines:
            terminalreporter.section("llmjudge")
            for line in lines:
                terminalreporter.write_line(line)

    def pytest_sessionfinish(self) -> None:
        config = self.config
        settings = config.stash[session_key].settings
        if not settings.report or hasattr(config, "workerinput"):
            return
        try:
            path = self.record.write(settings.report, settings)
        except OSError as err:
            config.issue_config_time_warning(
                pytest.PytestWarning(f"llmjudge: could not write report {settings.report}: {err}"),
                stacklevel=2,
            )
            return
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and config.option.verbose >= 0:
            reporter.write_line(f"llmjudge: report written to {path}")


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
