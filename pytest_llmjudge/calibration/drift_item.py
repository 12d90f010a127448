"""``--llmjudge-drift=judgments.jsonl``: the drift check as one more test item.

Like the calibration item, it runs with the session's judge (cache, budget and all),
its report lands in the terminal summary, and ``--llmjudge-max-flips`` fails it, and
so the run, when more recorded verdicts flip than allowed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ..errors import JudgeError
from ..reporting.run_record import CALIBRATION_PROPERTY
from ..session import session_key

ITEM_NAME = "llmjudge_drift"


class DriftGateError(AssertionError):
    """More recorded verdicts flipped under the new judge than --llmjudge-max-flips."""


class DriftItem(pytest.Item):
    def runtest(self) -> None:
        from ..judging.judge import evaluate_many
        from ..storage.judgments_file import load
        from .drift import (
            DriftFileError,
            Rejudged,
            compare,
            own_score,
            recorded_judgments,
            report_lines,
        )

        session = self.config.stash[session_key]
        settings = session.settings
        path = settings.drift or ""
        readable = recorded_judgments(load(Path(path)), path)
        if not readable.judgments:
            raise DriftFileError(
                f"{path} holds no judgment the drift check can ask again: "
                f"{readable.without_request} call(s) keep no request (exported before 0.2) "
                "and the rest only wrote reasons. Re-record and export it with this version "
                "(--llmjudge-record-mode=all --llmjudge-cache-export=PATH)")
        judge = session.judge
        # Reasons are not compared, so none is written: a one-pass verdict costs one call.
        requests = [dataclasses.replace(r.asked.request, policy=dataclasses.replace(
            r.asked.request.policy, reasons="none")) for r in readable.judgments]
        verdicts = evaluate_many(judge, requests)
        rejudged = [Rejudged(r, own_score(v, r.asked.by_probability), v.judge_id,
                             v.prompt_version) for r, v in zip(readable.judgments, verdicts,
                                                                strict=True)]
        report = compare(path, readable, rejudged, seed=settings.seed)
        lines = report_lines(report, verbose=self.config.option.verbose > 0)
        self.user_properties.append((CALIBRATION_PROPERTY, "\n".join(lines)))
        if report.same_judge:
            import warnings

            warnings.warn(DriftWarning(
                f"llmjudge drift: {path} was recorded by the judge configured now "
                f"({rejudged[0].judge}, same prompts): nothing can drift"), stacklevel=1)
        cap = settings.max_flips
        if cap is not None and len(report.flips) > cap:
            raise DriftGateError("\n".join([
                f"{len(report.flips)} recorded verdict(s) flipped under the judge configured "
                f"now, more than --llmjudge-max-flips={cap}. Review the flips: where the new "
                "judge is right, re-record (--llmjudge-record-mode=all) and export; where it "
                "is wrong, keep the old judge", *report_lines(report, verbose=True)]))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, (DriftGateError, JudgeError)):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"llmjudge drift on {self.config.stash[session_key].settings.drift}"


class DriftWarning(UserWarning):
    """The drift check was run with the judge that recorded the judgments."""


def add_drift_item(session: pytest.Session, items: list[pytest.Item]) -> None:
    if session.config.stash[session_key].settings.drift:
        items.append(DriftItem.from_parent(session, name=ITEM_NAME))
