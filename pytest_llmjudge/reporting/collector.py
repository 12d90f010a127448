"""The end of a run: gathers verdicts and judge totals (from pytest-xdist workers too)
and writes the terminal summary, the JSON and HTML reports and the judgments export.

Under xdist, each worker judges and counts its own work; the totals and the cache
keys it used travel to the controller in ``workeroutput`` when the worker ends, and
the controller, which judges nothing, prints the one summary and writes the files.
"""

from __future__ import annotations

import dataclasses
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
        # For pruning an export: tests that passed (so made every judge call they make),
        # every test that reported, and whether collection failed or deselected anything.
        self.passed: set[str] = set()
        self.reported: set[str] = set()
        self.partial_collection = False
        self.unwritten: list[str] = []  # report files that could not be written

    @property
    def session(self) -> JudgeSession:
        return self.config.stash[session_key]

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record.add(report)
        self.reported.add(report.nodeid)
        if report.when == "call" and report.passed:
            self.passed.add(report.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.partial_collection = True

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if items:
            self.partial_collection = True

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

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            self.config.workeroutput[WORKER_OUTPUT] = self.session.totals()  # type: ignore[attr-defined]
            return
        settings = self.session.settings
        run = self.totals()
        # Read before the export rewrites the file: the scores recorded before this run.
        self.record.watch = self._moved_toward()
        if settings.report:
            self._write("report", settings.report,
                        lambda: self.record.write(settings.report or "", run, settings))
        if settings.html:
            from .html import write_html

            self._write("HTML report", settings.html,
                        lambda: write_html(Path(settings.html or ""), self.record, run, settings))
        if settings.cache_export:
            whole = self._whole_suite(exitstatus)
            self._write("judgments export", settings.cache_export,
                        lambda: self._export(run, whole))
        if self.unwritten and session.exitstatus == pytest.ExitCode.OK:
            # A report CI keeps as an artefact that was not written fails the run, the
            # way a coverage floor does: a green run must not hide a missing file.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _moved_toward(self) -> list[str]:
        """Verdicts that moved toward their threshold since the judgments file this run
        imports (or, without one, the file it exports to) recorded them."""
        settings = self.session.settings
        path = settings.cache_import or settings.cache_export
        if not path or not Path(path).exists() or not self.record.tests:
            return []
        from ..calibration.drift import moved_toward, recorded_judgments
        from ..errors import JudgeConfigError
        from ..storage.judgments_file import load

        # The import was read and checked at the start: not read again.
        entries = self.session.imported if (settings.cache_import and
                                            self.session.imported is not None) else None
        try:
            readable = recorded_judgments(entries if entries is not None else
                                          load(Path(path)), path)
        except JudgeConfigError:
            return []  # the import refused it at the start; the export will say why
        return moved_toward(readable, ((t.nodeid, v) for t in self.record.tests.values()
                                       for v in t.verdicts))

    def _whole_suite(self, exitstatus: int) -> bool:
        """Whether every test of the suite ran: then a test the export holds that did not
        report no longer exists. Any selection, failed collection or early stop says no."""
        option = self.config.option
        # pytest's option names (-x sets maxfail to 1).
        selected = any(getattr(option, name, None) for name in (
            "keyword", "markexpr", "deselect", "lf", "stepwise", "stepwise_skip", "maxfail"))
        from_args = getattr(self.config, "args_source", None) == pytest.Config.ArgsSource.ARGS
        return (exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
                and not selected and not from_args and not self.partial_collection)

    def _export(self, run: RunTotals, whole: bool) -> Path:
        from ..storage.judgments_file import export_lock

        path = Path(self.session.settings.cache_export or "")
        # Read, merge and write under one lock: two runs exporting to one file at once
        # would otherwise each merge into what they read, and the last write would drop
        # the other run's judgments.
        with export_lock(path):
            return self._export_locked(run, whole, path)

    def _export_locked(self, run: RunTotals, whole: bool, path: Path) -> Path:
        from ..storage.cache import open_cache
        from ..storage.judgments_file import export, load, merge

        settings = self.session.settings
        # The file there is read first: one that cannot be read is not overwritten.
        existing = load(path) if path.exists() else []
        cache = self.session.replayer.cache() if not self.worker_parts else None
        opened = None
        if cache is None and self.session.cache_dir is not None:
            opened = open_cache(self.session.cache_dir).cache  # the workers' shared file
            cache = opened
        if cache is None:
            raise OSError("the judge cache could not be opened to read the judgments")
        try:
            fresh = [dataclasses.replace(e, asked=run.asked.get(e.key.digest))
                     for e in cache.entries(run.used)]
        finally:
            if opened is not None:
                opened.close()

        def stale(entry: Any) -> bool:
            return settings.cache_export_prune and (
                entry.test in self.passed or (whole and entry.test not in self.reported))

        merged = merge(fresh, existing, stale)
        count = export(merged.entries, path)
        kept = ""
        if merged.kept:
            kept = (f"; {merged.kept} kept from the file, not used this run" +
                    ("" if settings.cache_export_prune else
                     " (--llmjudge-cache-export-prune drops stale ones)"))
        # Said under -q too: the export rewrote a file the user commits (-qq hides it).
        self._say(f"llmjudge: {count} judgment(s) exported to {path}: {merged.from_run} from "
                  f"this run ({merged.new} new, {merged.replaced} re-recorded){kept}"
                  f"{f'; {merged.pruned} stale pruned' if merged.pruned else ''}",
                  quiet=True)
        return path

    def _write(self, what: str, target: str, write: Any) -> None:
        from ..storage.judgments_file import JudgmentsFileError

        try:
            path = write()
        except (OSError, JudgmentsFileError) as err:
            message = f"llmjudge: could not write {what} {target}: {err}"
            if isinstance(err, JudgmentsFileError):
                message += ("; the file was left as it was (fix or move it, then export "
                            "again)")
            self.unwritten.append(message)
            self.config.issue_config_time_warning(pytest.PytestWarning(message), stacklevel=2)
            self._say(f"{message} (the run fails for it)")
            return
        if what != "judgments export":
            self._say(f"llmjudge: {what} written to {path}")

    def _say(self, line: str, quiet: bool = False) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        verbosity = self.config.option.verbose
        if reporter is None or verbosity < (-1 if quiet else 0):
            return
        if verbosity < 0 and self.reported:
            # Under -q the line of progress dots is still open here (pytest ends it
            # after every sessionfinish hook), and write_line would not end it.
            reporter.write("\n")
        reporter.write_line(line)
