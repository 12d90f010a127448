"""``--llmjudge-calibrate=labels.jsonl``: the calibration run as one more test item.

Being a test, it runs with the session's judge (cache, budget and all), its judge
errors are ERRORs, its report lands in the terminal summary, and the quality gate
(``--llmjudge-min-agreement``) fails it, and so the run, like any failing test.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from ..errors import JudgeError
from ..reporting.run_record import CALIBRATION_PROPERTY
from ..session import session_key

ITEM_NAME = "llmjudge_calibration"


class CalibrationGateError(AssertionError):
    """The judge agrees with too few labels (--llmjudge-min-agreement)."""


class CalibrationWarning(UserWarning):
    """The labels are too few, or of one class only, for the figures to mean much."""


class CalibrationItem(pytest.Item):
    def runtest(self) -> None:
        from ..judging.panel import PanelJudge
        from . import head_fit, heads, labels, thresholds_file
        from .run import judge_example, measure, report_lines, request_for

        session = self.config.stash[session_key]
        settings = session.settings
        path = Path(settings.calibrate or "")
        examples = labels.load(path)
        judge = session.judge
        verdicts = []
        observed: dict[str, head_fit.Observed] = {}
        pairs: head_fit.ObservedPairs | None = None
        panels: dict[str, head_fit.ObservedPanel] = {}
        for example in examples:
            try:
                if settings.fit_head and example.kind == "pairwise":
                    verdict = judge_example(judge, example, every_signal=True)
                    pairs = head_fit.observe_pair(verdict, pairs, example.positive)
                elif settings.fit_head and judge.panel and head_fit.can_fit(example):
                    # A panel head weighs the members' scores; until it exists the run's
                    # own verdicts are the members' mean.
                    assert isinstance(judge, PanelJudge)
                    verdict = judge.evaluate_as(request_for(example, settings), "mean")
                    head_fit.observe_panel(verdict, example.kind, panels, example.positive)
                elif settings.fit_head and head_fit.can_fit(example):
                    verdict, state = head_fit.observe_example(judge, example)
                    group = observed.setdefault(example.kind, head_fit.Observed(
                        example.kind, verdict.judge_id, verdict.prompt_version))
                    group.states.append(state)
                    group.p_yes.append(verdict.score)
                    group.labels.append(example.positive)
                else:
                    verdict = judge_example(judge, example)
            except JudgeError as err:
                raise type(err)(f"{path}:{example.line}: {err}") from None
            verdicts.append(verdict)
        target, share = settings.calibrate_target
        reports = measure(verdicts, examples, target_tpr=share if target == "tpr" else None,
                          target_tnr=share if target == "tnr" else None,
                          rescale=settings.calibrate_rescale, seed=settings.seed)
        lines = report_lines(reports, str(path))
        for report in reports:
            for warning in report.warnings:
                warnings.warn(CalibrationWarning(f"llmjudge calibration: {warning}"),
                              stacklevel=1)
        fitted_heads: list[heads.Head] = []
        if settings.fit_head:
            head_reports = [head_fit.fit(group, str(path), seed=settings.seed)
                            for group in observed.values()]
            head_reports += [head_fit.fit_panel(group, str(path), seed=settings.seed)
                             for group in panels.values()]
            if pairs is not None:
                head_reports.append(head_fit.fit_pairwise(pairs, str(path), seed=settings.seed))
            for r in head_reports:
                if r.head is not None and (not r.why_not or settings.fit_head_force):
                    fitted_heads.append(r.head)
                    r.written = settings.update_calibration
            lines += head_fit.report_lines(head_reports)
            if not any(r.head is not None for r in head_reports):
                self.user_properties.append((CALIBRATION_PROPERTY, "\n".join(lines)))
                raise head_fit.no_head_fitted(head_reports, str(path))
        if settings.update_calibration:
            objective = "balanced accuracy" if target == "balanced_accuracy" else (
                f"{target.upper()} >= {share:g}")
            entries = [thresholds_file.Entry(
                r.judge_id, r.prompt_version, r.kind, r.fitted, str(path), r.n, objective,
                r.fitted_matrix.balanced_accuracy if r.fitted_matrix else float("nan"))
                for r in reports if r.fitted is not None and r.kind != "pairwise"
                and not judge.panel]
            if judge.panel:
                # A panel scores with its members' thresholds, or with its learned head:
                # a threshold keyed to the panel would never be looked up.
                lines.append("a panel's fitted thresholds are not written: each member "
                             "applies its own calibration, and "
                             "llmjudge_panel_aggregate=learned its head")
            if session.calibration_path is None:
                raise JudgeError("--llmjudge-update-calibration needs llmjudge_calibration_file")
            written = thresholds_file.write(session.calibration_path, entries, fitted_heads)
            lines.append(f"wrote {len(entries)} fitted threshold(s) and {len(fitted_heads)} "
                         f"head(s) to {written}; later runs apply them where a test gives "
                         "no threshold (a head: where the strategy is logprob)")
        self.user_properties.append((CALIBRATION_PROPERTY, "\n".join(lines)))
        floor = settings.min_agreement
        if floor is not None:
            low = [r for r in reports if r.agreement < floor]
            if low:
                raise CalibrationGateError("\n".join([
                    f"the judge agrees with too few labels in {path} "
                    f"(--llmjudge-min-agreement={floor:g}):",
                    *(f"  {r.kind}: {r.agreement:.3f} at threshold {r.threshold:g} "
                      f"({r.threshold_source}), on {r.n} examples" for r in low),
                    "A judge-model or prompt change may have degraded judging; compare the "
                    "report above with the last good run", *lines]))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, (CalibrationGateError, JudgeError)):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        labels = self.config.stash[session_key].settings.calibrate
        return self.path, 0, f"llmjudge calibration on {labels}"


def add_calibration_item(session: pytest.Session, items: list[pytest.Item]) -> None:
    if session.config.stash[session_key].settings.calibrate:
        items.append(CalibrationItem.from_parent(session, name=ITEM_NAME))
