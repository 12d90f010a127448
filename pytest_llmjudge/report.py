"""The session record of judged tests: collected from test reports, written at the end.

Verdicts travel on each test report's ``user_properties``, so the record builds the
same way in a plain run and on a pytest-xdist controller. It knows nothing about
backends: it reads plain JSON values.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .session import VERDICT_PROPERTY
from .settings import Settings

ERROR_PROPERTY = "llmjudge_error"
REPORT_VERSION = 1


@dataclass
class JudgedTest:
    nodeid: str
    outcome: str
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class SessionRecord:
    tests: dict[str, JudgedTest] = field(default_factory=dict)

    def add(self, report: pytest.TestReport) -> None:
        verdicts = [json.loads(str(v)) for k, v in report.user_properties
                    if k == VERDICT_PROPERTY]
        errors = [str(v) for k, v in report.user_properties if k == ERROR_PROPERTY]
        if not verdicts and not errors:
            return
        entry = self.tests.setdefault(report.nodeid, JudgedTest(report.nodeid, report.outcome))
        # user_properties accumulate over setup/call/teardown: keep only what is new.
        known = {json.dumps(v, sort_keys=True) for v in entry.verdicts}
        entry.verdicts += [v for v in verdicts if json.dumps(v, sort_keys=True) not in known]
        if errors:
            entry.error = errors[-1]
            entry.outcome = "error"
        elif report.failed and entry.outcome != "error":
            entry.outcome = "failed"

    @property
    def verdicts(self) -> Iterator[dict[str, Any]]:
        for test in self.tests.values():
            yield from test.verdicts

    def summary_lines(self, verbose: bool) -> Iterator[str]:
        verdicts = list(self.verdicts)
        errors = [t for t in self.tests.values() if t.error]
        if not verdicts and not errors:
            return
        unstable = sum(1 for v in verdicts if v.get("unstable"))
        passed = sum(1 for v in verdicts if v["passed"] and not v.get("unstable"))
        seconds = sum(v["latency_s"] for v in verdicts)
        tokens = sum(v["prompt_tokens"] + v["completion_tokens"] for v in verdicts)
        judges = sorted({v["judge_id"] for v in verdicts})
        costs = [v["cost_usd"] for v in verdicts if v.get("cost_usd") is not None]
        cost = f", ${sum(costs):.4f}" if costs else ""
        split = f", {unstable} UNSTABLE" if unstable else ""
        yield (f"{len(verdicts)} judged: {passed} passed, "
               f"{len(verdicts) - passed - unstable} failed{split}; "
               f"{len(errors)} judge error(s); {seconds:.1f}s judging, {tokens} tokens{cost}")
        if judges:
            yield f"judge: {', '.join(judges)}"
        if verbose:
            for test in errors:
                yield f"ERROR {test.nodeid}: {test.error}"

    def write(self, path: str, settings: Settings) -> Path:
        """Write the JSON record atomically, creating missing parent directories."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "version": REPORT_VERSION,
            "settings": {
                "backend": settings.backend,
                "model": settings.model,
                "threshold": settings.threshold,
                "n_gpu_layers": settings.n_gpu_layers,
            },
            "tests": [
                {"nodeid": t.nodeid, "outcome": t.outcome, "error": t.error,
                 "verdicts": t.verdicts}
                for t in self.tests.values()
            ],
        }
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
        os.replace(tmp, target)
        return target

