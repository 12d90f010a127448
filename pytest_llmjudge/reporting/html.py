"""The HTML report: one self-contained page, no network assets.

A table of every verdict (sortable by clicking a column, filtered by text and by
outcome), each with its votes and reasons folded below it; a chart of the scores
against their thresholds and one of where the judge time went. Rows are rendered
here, so the page reads without script; the script only sorts and filters. Every
text under test is escaped: an output containing markup shows as text.
"""

from __future__ import annotations

import html
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..config.settings import Settings
from ..masking import mask
from ..storage.files import write_atomically
from .run_record import RunTotals, SessionRecord, calls_line, comparison_signals

BINS = 20  # score histogram bins over 0..1
TIME_BARS = 10  # tests named in the judge-time chart; the rest are summed
COLOURS = {"PASS": "#2e7d32", "FAIL": "#c62828", "UNSTABLE": "#ef8f00", "ERROR": "#6a1b9a"}


def _e(value: object) -> str:
    # Masked before it is escaped: html.escape spells '&<>"' another way.
    return html.escape(mask(str(value)), quote=True)


def _asset(name: str) -> str:
    return files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def write_html(path: Path, record: SessionRecord, run: RunTotals, settings: Settings) -> Path:
    return write_atomically(path, mask(render(record, run, settings)))


def render(record: SessionRecord, run: RunTotals, settings: Settings) -> str:
    rows: list[str] = []
    outcomes: Counter[str] = Counter()
    for test in record.tests.values():
        if test.error:
            outcomes["ERROR"] += 1
            rows.append(_error_row(test.nodeid, test.error))
        for verdict in test.verdicts:
            outcomes[_outcome(verdict)] += 1
            # A sampled test's verdicts name their run.
            sample = f" [sample {verdict['sample']}]" if verdict.get("sample") else ""
            rows.append(_verdict_row(test.nodeid + sample, verdict))
    counts = ", ".join(f"{n} {name}" for name, n in sorted(outcomes.items())) or "no verdicts"
    judges = sorted({v["judge_id"] for v in record.verdicts})
    options = "".join(f'<option value="{o}">{o}</option>'
                      for o in ("PASS", "FAIL", "UNSTABLE", "ERROR", "DRY RUN"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pytest-llmjudge report</title>
<style>{_asset("page.css")}</style></head>
<body>
<h1>pytest-llmjudge report</h1>
<p class="summary">{_e(counts)}. {_e(calls_line(run.totals))}.</p>
<p class="summary">Judge: {_e(", ".join(judges) or "none")}; record mode
{_e(settings.record_mode)}{" (dry run)" if settings.dry_run else ""}.</p>
<div class="charts">
<figure><figcaption>Scores against thresholds</figcaption>{score_chart(record)}</figure>
<figure><figcaption>Where the judge time went</figcaption>{time_chart(record)}</figure>
</div>
<div class="filters">
<label>Filter <input id="filter" type="search"
placeholder="test, criterion, output or reason"></label>
<label>Outcome <select id="outcome"><option value="">all</option>{options}</select></label>
<span id="shown" aria-live="polite"></span>
</div>
<table id="verdicts">
<thead><tr><th data-type="text">Test</th><th data-type="text">Outcome</th>
<th data-type="number">Score</th><th data-type="number">Threshold</th>
<th data-type="text">Criterion</th><th data-type="text">Votes</th>
<th data-type="number">Seconds</th></tr></thead>
{"".join(rows)}
</table>
{_sampled(record)}
<script>{_asset("page.js")}</script>
</body></html>
"""


def _sampled(record: SessionRecord) -> str:
    """Sampled tests' pass rates, as the terminal summary lists them."""
    lines = list(record.sampled_lines())
    if not lines:
        return ""
    items = "".join(f"<li>{_e(' '.join(line.split()))}</li>" for line in lines[1:])
    return f'<h2>Sampled tests</h2><ul class="sampled">{items}</ul>'


def _outcome(verdict: dict[str, Any]) -> str:
    return "DRY RUN" if verdict.get("dry_run") else str(verdict["outcome"])


def _verdict_row(nodeid: str, v: dict[str, Any]) -> str:
    outcome = _outcome(v)
    votes = _votes_summary(v)
    search = " ".join([nodeid, str(v["criterion"]), str(v["output"]), str(v["reasoning"]),
                       outcome])
    cached = " (replayed)" if v.get("cached") else ""
    return (
        f'<tbody class="verdict" data-outcome="{_e(outcome)}" data-search="{_e(search.lower())}">'
        f'<tr><td data-sort="{_e(nodeid)}">{_e(nodeid)}</td>'
        f'<td data-sort="{_e(outcome)}"><span class="badge {outcome.replace(" ", "-")}">'
        f"{_e(outcome)}</span></td>"
        f'<td data-sort="{v["score"]:.6f}">{v["score"]:.3f}</td>'
        f'<td data-sort="{v["threshold"]:.6f}">{v["threshold"]:g}</td>'
        f'<td data-sort="{_e(v["criterion"])}">{_e(v["criterion"])}</td>'
        f'<td data-sort="{_e(votes)}">{_e(votes)}</td>'
        f'<td data-sort="{v["latency_s"]:.6f}">{v["latency_s"]:.2f}{cached}</td></tr>'
        f'<tr class="detail"><td colspan="7"><details><summary>Votes and reasons</summary>'
        f"{_detail(v)}</details></td></tr></tbody>"
    )


def _error_row(nodeid: str, error: str) -> str:
    search = f"{nodeid} {error} error"
    return (
        f'<tbody class="verdict" data-outcome="ERROR" data-search="{_e(search.lower())}">'
        f'<tr><td data-sort="{_e(nodeid)}">{_e(nodeid)}</td>'
        '<td data-sort="ERROR"><span class="badge ERROR">ERROR</span></td>'
        '<td data-sort="-1">-</td><td data-sort="-1">-</td>'
        f'<td data-sort="" colspan="3">{_e(error)}</td></tr></tbody>'
    )


def _votes_summary(v: dict[str, Any]) -> str:
    if v.get("part_kind") == "alone" or (v.get("part_kind") == "order"
                                         and len(v.get("parts") or []) == 4):
        return comparison_signals([p["score"] for p in v["parts"]])
    if v.get("parts"):
        passed = sum(1 for p in v["parts"] if p["passed"] and not p.get("unstable"))
        return f"{passed}/{len(v['parts'])} {v.get('part_kind') or 'part'}s passed"
    votes = v.get("votes") or []
    if len(votes) == 1 and votes[0].get("p_yes") is not None:
        if v.get("score_source"):
            return f"head {v['score']:.3f}, P(YES) {votes[0]['p_yes']:.3f}"
        return f"P(YES) {votes[0]['p_yes']:.3f}"
    return f"{sum(1 for x in votes if x['answer'] == 'YES')}/{len(votes)} YES"


def _output(v: dict[str, Any]) -> str:
    """The output; a conversation as its turns, one row each, not one escaped blob."""
    turns = v.get("turns")
    if not turns:
        return f"<p><b>Output:</b> <q>{_e(v['output'])}</q></p>"
    rows = []
    for index, turn in enumerate(turns):
        calls = "".join(f"<br><code>calls {_e(c)}</code>" for c in turn.get("calls") or ())
        rows.append(f'<li value="{int(turn.get("turn", index))}" class="turn '
                    f'{_e(turn["role"])}"><b>{_e(turn["role"])}</b>: '
                    f"{_e(turn['content'])}{calls}</li>")
    return f'<p><b>Conversation:</b></p><ol class="turns" start="0">{"".join(rows)}</ol>'


def _detail(v: dict[str, Any]) -> str:
    lines = [_output(v),
             f"<p><b>Reason:</b> {_e(v['reasoning'])}</p>",
             f"<p class=\"meta\">{_e(v['strategy'])} · {_e(v['judge_id'])} · "
             f"{_e(v['prompt_version'])} · {v['prompt_tokens'] + v['completion_tokens']} tokens"
             "</p>"]
    if v.get("threshold_source"):
        lines.append(f'<p class="meta">threshold {v["threshold"]:g}: '
                     f'{_e(v["threshold_source"])}</p>')
    if v.get("score_source"):
        lines.append(f'<p class="meta">score {v["score"]:.3f} from '
                     f'{_e(v["score_source"])}</p>')
    for note in v.get("notes") or []:
        lines.append(f'<p class="meta">{_e(note)}</p>')
    votes = v.get("votes") or []
    if votes:
        lines.append("<ol class=\"votes\">")
        for vote in votes:
            p = "" if vote.get("p_yes") is None else f" (P(YES) {vote['p_yes']:.3f})"
            lines.append(f"<li><b>{_e(vote['answer'])}</b>{_e(p)}: {_e(vote['reason'])}</li>")
        lines.append("</ol>")
    parts = v.get("parts") or []
    if parts:
        lines.append("<ol class=\"parts\">")
        # A comparison's parts: both orders (P(A)), then each output alone (P(YES)).
        roles = {"order": ("P(A), candidate shown first", "P(A), candidate shown second",
                           "P(YES) alone", "P(YES) alone"),
                 "alone": ("P(YES) alone", "P(YES) alone")}.get(v.get("part_kind") or "", ())
        for index, part in enumerate(parts):
            role = f" ({roles[index]})" if index < len(roles) else ""
            lines.append(f"<li><span class=\"badge {_e(part['outcome'])}\">"
                         f"{_e(part['outcome'])}</span> {part['score']:.3f}{_e(role)} "
                         f"{_part_output(part)}: {_e(part['reasoning'])}</li>")
        lines.append("</ol>")
    return "".join(lines)


def _part_output(part: dict[str, Any]) -> str:
    turns = part.get("turns")
    if turns and len(turns) == 1:  # one judged turn of a conversation
        turn = turns[0]
        return (f"turn {_e(str(turn.get('turn', 0)))} ({_e(turn['role'])}) "
                f"<q>{_e(turn['content'])}</q>")
    return f"<q>{_e(part['output'])}</q>"


def score_chart(record: SessionRecord) -> str:
    """A histogram of scores stacked by outcome, with a dashed line at each threshold."""
    width, height, pad = 420, 180, 24
    counts = [Counter[str]() for _ in range(BINS)]
    thresholds: set[float] = set()
    for v in record.verdicts:
        if v.get("dry_run"):
            continue
        counts[min(BINS - 1, int(v["score"] * BINS))][_outcome(v)] += 1
        thresholds.add(float(v["threshold"]))
    tallest = max((sum(c.values()) for c in counts), default=0) or 1
    bar = (width - 2 * pad) / BINS
    shapes = []
    for index, count in enumerate(counts):
        bottom: float = height - pad
        for name in ("PASS", "UNSTABLE", "FAIL"):
            if not count[name]:
                continue
            h = count[name] / tallest * (height - 2 * pad)
            bottom -= h
            shapes.append(
                f'<rect x="{pad + index * bar + 1:.1f}" y="{bottom:.1f}" width="{bar - 2:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[name]}"><title>{count[name]} {name}, score '
                f"{index / BINS:.2f}-{(index + 1) / BINS:.2f}</title></rect>")
    for t in sorted(thresholds):
        x = pad + t * (width - 2 * pad)
        shapes.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad / 2}" y2="{height - pad}" '
                      'stroke="#333" stroke-dasharray="4 3"/>'
                      f'<text x="{x + 3:.1f}" y="{pad / 2 + 8}" class="axis">'
                      f"threshold {t:g}</text>")
    axis = (f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" '
            'stroke="#999"/>'
            f'<text x="{pad}" y="{height - 6}" class="axis">0</text>'
            f'<text x="{width - pad - 6}" y="{height - 6}" class="axis">1</text>'
            f'<text x="{width / 2 - 14}" y="{height - 6}" class="axis">score</text>')
    return (f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="score histogram">'
            f"{''.join(shapes)}{axis}</svg>")


def time_chart(record: SessionRecord) -> str:
    """Judge seconds per test, the slowest first; the rest summed into one bar."""
    tests = sorted((t for t in record.tests.values() if t.verdicts), key=lambda t: -t.judge_s)
    bars = [(t.nodeid, t.judge_s) for t in tests[:TIME_BARS]]
    rest = tests[TIME_BARS:]
    if rest:
        bars.append((f"{len(rest)} other tests", sum(t.judge_s for t in rest)))
    width, row, label = 420, 16, 200
    longest = max((s for _, s in bars), default=0.0) or 1.0
    shapes = []
    for index, (name, seconds) in enumerate(bars):
        y = index * row + 4
        w = seconds / longest * (width - label - 50)
        short = name if len(name) <= 34 else "..." + name[-31:]
        shapes.append(
            f'<text x="0" y="{y + 11}" class="axis"><title>{_e(name)}</title>{_e(short)}</text>'
            f'<rect x="{label}" y="{y}" width="{max(w, 1):.1f}" height="{row - 4}" '
            f'fill="#1565c0"><title>{_e(name)}: {seconds:.2f}s</title></rect>'
            f'<text x="{label + w + 4:.1f}" y="{y + 11}" class="axis">{seconds:.2f}s</text>')
    height = max(len(bars), 1) * row + 8
    return (f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="judge time per test">'
            f"{''.join(shapes)}</svg>")

