"""The end of a run: gathers verdicts and judge totals (from pytest-xdist workers too)
and writes the terminal summary, the JSON and HTML reports and the judgments export.

Under xdist, each worker judges and counts its own work; the totals and the cache
keys it used travel to the controller in ``workeroutput`` when the worker ends, and
the controller, which judges nothing, prints the one summary and writes the files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ..session import JudgeSession, session_key
from .run_record import RunTotals, SessionRecord

WORKER_OUTPUT = "llmjudge"
RUN_INPUT = "llmjudge_run"


def run_id(config: pytest.Config) -> str:
    """A pytest-xdist worker's run id, from its controller; "" for a one-process run."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    return str(workerinput.get(RUN_INPUT, "")) if workerinput else ""


class Collector:
    """Registered per session, on the controller and on every worker."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.record = SessionRecord()
        self.worker_parts: list[dict[str, Any]] = []
        self.run = os.urandom(16).hex()  # handed to xdist workers to share one budget

    @property
    def session(self) -> JudgeSession:
        return self.config.stash[session_key]

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record.add(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_INPUT] = self.run

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        part = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if part is not None:
            self.worker_parts.append(part)

    def totals(self) -> RunTotals:
        run = RunTotals()
        for part in self.worker_parts or [self.session.totals()]:
            run.merge(part)
        return run

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        verbosity = self.config.option.verbose
        if self.is_worker or verbosity < -1:
            return
        lines = list(self.record.summary_lines(self.totals(), verbosity))
        if lines:
            terminalreporter.section("llmjudge")
            for line in lines:
                terminalreporter.write_line(line)

    def pytest_sessionfinish(self) -> None:
        if self.is_worker:
            self.config.workeroutput[WORKER_OUTPUT] = self.session.totals()  # type: ignore[attr-defined]
            return
        settings = self.session.settings
        run = self.totals()
        if settings.report:
            self._write("report", settings.report,
                        lambda: self.record.write(settings.report or "", run, settings))
        if settings.html:
            from .html import write_html

            self._write("HTML report", settings.html,
                        lambda: write_html(Path(settings.html or ""), self.record, run, settings))
        if settings.cache_export:
            self._write("judgments export", settings.cache_export, lambda: self._export(run))

    def _export(self, run: RunTotals) -> Path:
        from ..storage.cache import open_cache
        from ..storage.judgments_file import export

        path = Path(self.session.settings.cache_export or "")
        cache = self.session.replayer.cache() if not self.worker_parts else None
        opened = None
        if cache is None and self.session.cache_dir is not None:
            opened = open_cache(self.session.cache_dir).cache  # the workers' shared file
            cache = opened
        if cache is None:
            raise OSError("the judge cache could not be opened to read the judgments")
        try:
            count = export(cache.entries(run.used), path)
        finally:
            if opened is not None:
                opened.close()
        self._say(f"llmjudge: {count} judgment(s) exported to {path}")
        return path

    def _write(self, what: str, target: str, write: Any) -> None:
        try:
            path = write()
        except OSError as err:
            self.config.issue_config_time_warning(
                pytest.PytestWarning(f"llmjudge: could not write {what} {target}: {err}"),
                stacklevel=2)
            return
        if what != "judgments export":
            self._say(f"llmjudge: {what} written to {path}")

    def _say(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and self.config.option.verbose >= 0:
            reporter.write_line(line)
