"""Judge quality on the shared labelled data: length only, P(YES), a fitted threshold, and
a learned head over the judge's hidden state, one table per task.

Two steps, because the judge calls are the slow part (about 2-10 s an item for the 1.5B
model on 2 cores) and the fitting is not:

    python benchmarks/quality.py extract [--model qwen2.5-coder-1.5b] [--only halueval_train,...]
    python benchmarks/quality.py report  [--model qwen2.5-coder-1.5b] [--write-head PATH]
    python benchmarks/quality.py extract --only llmbar     # pairwise signals, LLMBar
    python benchmarks/quality.py pairs   [--write-head PATH]  # the LLMBar table
    python benchmarks/quality.py extract --only sentences  # QAGS-CNNDM sentence by sentence
    python benchmarks/quality.py sentences                 # claims="sentences" vs whole
    python benchmarks/quality.py extract --only roles      # the role panel's members
    python benchmarks/quality.py roles                     # role panel against one judge
    python benchmarks/quality.py cost    [--model qwen2.5-coder-1.5b]

``extract`` judges every item exactly as ``assert_grounded(..., claims="off")`` does
(the grounded request from judging/requests.py, strategy logprob, one forward pass)
and keeps P(YES) and the hidden state the same pass showed. Items stream to
benchmarks/results/quality-<model>.jsonl (a rerun resumes where it stopped).

``report`` fits on training rows only and reports on rows never fitted:

- fit: halueval_qa_train (rows 200-299, 200 items), QAGS-XSum rows 0-59, QAGS-CNNDM
  rows 0-58;
- measure: halueval_qa_dev rows 0-99 (200 items), QAGS-XSum rows 60-119, QAGS-CNNDM
  rows 59-117.

Rows per table: length only (no judge; the direction that ranks best on the training
rows), plain P(YES) at 0.5, P(YES) at a threshold fitted on the training rows, the head
(hidden state + logit P(YES)), and the head given the answer's length explicitly (does
the hidden state add anything beyond length?). Columns: AUROC and accuracy with 95%
bootstrap intervals, and seconds per verdict. ``--write-head`` writes the head fitted
on all training rows as a calibration file (the packaged head is made this way).

``pairs`` fits the pairwise head (calibration/pairwise_fit.py) on the even pairs of
each LLMBar subset and measures every way to decide a comparison on the odd ones;
``--write-head`` adds that head to a calibration file (packaged/heads.json is made so).
``sentences`` compares claims="sentences" with the whole summary on QAGS-CNNDM.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.backends.base import Completion, CompletionRequest, ReplySpec  # noqa: E402
from pytest_llmjudge.calibration import heads, pairwise_fit  # noqa: E402
from pytest_llmjudge.calibration.metrics import (  # noqa: E402
    auroc,
    bootstrap,
    confusion,
    fit_threshold,
)
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.config.thresholds import Threshold  # noqa: E402
from pytest_llmjudge.judging import pairwise, requests  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.reply_formats import ANSWER, PAIR  # noqa: E402
from pytest_llmjudge.judging.verdict import JudgeRequest  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
SETS = ("halueval_train", "qags_xsum", "qags_cnndm", "halueval_dev")
# Rows fitted on (the rest of each set is measured).
FIT_ROWS = {"halueval_train": range(0, 100), "qags_xsum": range(0, 60),
            "qags_cnndm": range(0, 59), "halueval_dev": range(0)}
MEASURE_ROWS = {"halueval_train": range(0), "qags_xsum": range(60, 120),
                "qags_cnndm": range(59, 118), "halueval_dev": range(0, 100)}
TASKS = {"HaluEval QA grounding": ("halueval_train", "halueval_dev"),
         "QAGS-XSum": ("qags_xsum",), "QAGS-CNNDM": ("qags_cnndm",)}


def items(name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if name.startswith("halueval"):
        split = name.split("_")[1]
        lines = (DATA / f"halueval_qa_{split}.jsonl").read_text().splitlines()
        rows = range(100) if split == "dev" else range(len(lines))
        for row in rows:
            data = json.loads(lines[row])
            for answer, label in ((data["right_answer"], 1), (data["hallucinated_answer"], 0)):
                out.append(dict(set=name, row=row, label=label, output=answer,
                                context=data["knowledge"], question=data["question"]))
        return out
    lines = (DATA / f"{name}_dev.jsonl").read_text().splitlines()
    for row, line in enumerate(lines):
        data = json.loads(line)
        out.append(dict(set=name, row=row, label=int(data["consistent"] >= 0.5),
                        output=data["summary"], context=data["source"], question=None))
    return out


def extract(model: str, only: Sequence[str]) -> None:
    settings = Settings(model=model, strategy="logprob", n_ctx=4096)
    judge = Judge(create_backend(settings.backend_config()), settings)
    sink = RESULTS / f"quality-{model}.jsonl"
    sink.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if sink.exists():
        for line in sink.read_text().splitlines():
            record = json.loads(line)
            done.add((record["set"], record["row"], record["label"]))
    threshold = Threshold(0.5, "default")
    with sink.open("a") as out:
        for name in only:
            for item in items(name):
                if (item["set"], item["row"], item["label"]) in done:
                    continue
                request = requests.grounded(item["output"], item["context"], item["question"],
                                            threshold, settings.policy)
                started = time.perf_counter()
                completion = answer_only(judge, request)
                hidden = completion.hidden_state
                assert hidden is not None
                out.write(json.dumps(dict(
                    set=item["set"], row=item["row"], label=item["label"],
                    p_yes=completion.choice_probs["answer"]["YES"],
                    chars=len(item["output"]), seconds=time.perf_counter() - started,
                    prompt_tokens=completion.prompt_tokens,
                    hidden=base64.b64encode(hidden).decode("ascii"))) + "\n")
                out.flush()
            print(f"{name}: done", flush=True)


LLMBAR_CRITERIA = "The response follows the instruction fully and accurately"


def llmbar_rows() -> list[dict[str, Any]]:
    """LLMBar pairs, each with its index within its subset: even indexes are fitted on,
    odd ones measured, so both halves hold every subset in the same shares."""
    seen: dict[str, int] = {}
    out = []
    for line in (DATA / "llmbar_dev.jsonl").read_text().splitlines():
        row = json.loads(line)
        row["index"] = seen.get(row["subset"], 0)
        seen[row["subset"]] = row["index"] + 1
        row["fit"] = row["index"] % 2 == 0
        out.append(row)
    return out


def extract_llmbar(model: str) -> None:
    """Every signal a comparison has, per LLMBar pair, from answer-only forward passes:
    P(A) of the pairwise prompt in both orders (output 1 as A, then output 2 as A), and
    each output's own P(YES) to the criteria with the instruction shown (the checklist
    prompt, as pairwise.compare asks it), with the hidden state of each pass."""
    settings = Settings(model=model, strategy="logprob", n_ctx=4096)
    judge = Judge(create_backend(settings.backend_config()), settings)
    sink = RESULTS / f"pairs-{model}.jsonl"
    done = ({json.loads(x)["id"] for x in sink.read_text().splitlines()}
            if sink.exists() else set())
    threshold = Threshold(0.5, "default")
    # Subsets taken in turn, so that a run stopped early still holds every subset.
    rows = sorted(llmbar_rows(), key=lambda r: (r["index"], r["subset"]))
    with sink.open("a") as out:
        for row in rows:
            if row["id"] in done:
                continue
            started = time.perf_counter()
            first, second = row["output_1"], row["output_2"]
            pair = requests.pairwise(first, LLMBAR_CRITERIA, row["input"], threshold,
                                     settings.policy)
            orders = [answer_only(judge, r, PAIR)
                      for r in pairwise.order_requests(pair, second)]
            pair_s = time.perf_counter() - started
            started = time.perf_counter()
            alone = [answer_only(judge, requests.checklist_item(
                o, LLMBAR_CRITERIA, row["input"], threshold, settings.policy))
                for o in (first, second)]
            alone_s = time.perf_counter() - started
            out.write(json.dumps(dict(
                id=row["id"], subset=row["subset"], index=row["index"], fit=row["fit"],
                label=row["label"], chars=[len(first), len(second)],
                p_a=[c.choice_probs["answer"]["A"] for c in orders],
                p_yes=[c.choice_probs["answer"]["YES"] for c in alone],
                pair_seconds=pair_s, alone_seconds=alone_s,
                hidden_pair=[_b64(c) for c in orders],
                hidden_alone=[_b64(c) for c in alone])) + "\n")
            out.flush()
    print("llmbar: done", flush=True)


def extract_sentences(model: str) -> None:
    """QAGS-CNNDM summaries judged as ``claims="sentences"`` judges them: each sentence
    against the source with the claim prompt (the plugin's own requests, answer-only
    passes), P(YES) and the hidden state of each. (Every QAGS-XSum summary is one
    sentence, which claims="sentences" judges whole: nothing to extract there.)"""
    from pytest_llmjudge.judging.claims import CLAIM_CRITERION, split_sentences

    settings = Settings(model=model, strategy="logprob", n_ctx=4096)
    judge = Judge(create_backend(settings.backend_config()), settings)
    sink = RESULTS / f"sentences-{model}.jsonl"
    done = ({json.loads(x)["row"] for x in sink.read_text().splitlines()}
            if sink.exists() else set())
    threshold = Threshold(0.5, "default")
    with sink.open("a") as out:
        for item in items("qags_cnndm"):
            if item["row"] in done:
                continue
            whole = requests.grounded(item["output"], item["context"], None, threshold,
                                      settings.policy)
            started = time.perf_counter()
            claims = [answer_only(judge, dataclasses.replace(
                whole, output=claim, criterion=CLAIM_CRITERION, task="claim",
                inputs=(("context", item["context"]), ("question_text", None),
                        ("response", item["output"]))))
                for claim in split_sentences(item["output"])]
            out.write(json.dumps(dict(
                set="qags_cnndm", row=item["row"], label=item["label"],
                p_yes=[c.choice_probs["answer"]["YES"] for c in claims],
                seconds=time.perf_counter() - started,
                hidden=[_b64(c) for c in claims])) + "\n")
            out.flush()
    print("sentences: done", flush=True)


# The role panel's rows (a subset: three members cost three times the judge's time):
# QAGS-XSum's measured rows, where length is blind, then the first 30 HaluEval dev rows.
ROLE_ROWS = {"qags_xsum": range(60, 120), "halueval_dev": range(0, 30)}


def extract_roles(model: str, roles: Sequence[str]) -> None:
    """The grounded items of ROLE_ROWS judged by the model under each role prompt
    (judging/roles.py ROLES), as a ``llmjudge_panel = @strict,@lenient,@expert`` panel's
    members judge them: the plugin's own request and role, answer-only passes. Items
    stream to roles-<model>.jsonl, every role of an item on one line."""
    settings = Settings(model=model, strategy="logprob", n_ctx=4096)
    backend = create_backend(settings.backend_config())
    judges = {role: Judge(backend, settings, role=role) for role in roles}
    sink = RESULTS / f"roles-{model}.jsonl"
    done = ({(r["set"], r["row"], r["label"]) for r in map(json.loads,
                                                            sink.read_text().splitlines())}
            if sink.exists() else set())
    threshold = Threshold(0.5, "default")
    with sink.open("a") as out:
        for name, rows in ROLE_ROWS.items():
            for item in items(name):
                if item["row"] not in rows or (name, item["row"], item["label"]) in done:
                    continue
                request = requests.grounded(item["output"], item["context"],
                                            item["question"], threshold, settings.policy)
                p_yes, seconds = {}, {}
                for role, judge in judges.items():
                    started = time.perf_counter()
                    completion = answer_only(judge, request, hidden_state=False)
                    seconds[role] = time.perf_counter() - started
                    p_yes[role] = completion.choice_probs["answer"]["YES"]
                out.write(json.dumps(dict(set=name, row=item["row"], label=item["label"],
                                          p_yes=p_yes, seconds=seconds)) + "\n")
                out.flush()
            print(f"{name}: done", flush=True)


def _b64(completion: Completion) -> str:
    assert completion.hidden_state is not None
    return base64.b64encode(completion.hidden_state).decode("ascii")


def answer_only(judge: Judge, request: JudgeRequest, field: Any = ANSWER,
                hidden_state: bool = True) -> Completion:
    """The grounded prompt's forward pass up to the answer, without the reason written
    after it: the answer comes first in the reply, so P(YES) and the hidden state are
    those of the full reply, at a fraction of the time (no reason is generated)."""
    messages, untrusted = judge.render(request, "direct")
    return judge.backend.complete(CompletionRequest(
        messages=messages, reply=ReplySpec(fields=(field,)), untrusted=untrusted,
        hidden_state=hidden_state, timeout=600.0))


def cost(model: str, repeats: int = 3) -> None:
    """Seconds for one grounded forward pass with and without the hidden state, alternated
    on the same items (the answer position only; the prefix cache is cleared between
    runs by alternating items, so each pass reads its whole prompt)."""
    settings = Settings(model=model, strategy="logprob", n_ctx=4096)
    judge = Judge(create_backend(settings.backend_config()), settings)
    rows = items("qags_xsum")[:repeats * 2]
    times: dict[bool, list[float]] = {False: [], True: []}
    answer_only(judge, requests.grounded("x", "y", None, Threshold(0.5, "default"),
                                         settings.policy))  # load the model untimed
    for index, item in enumerate(rows):
        for hidden in ((False, True) if index % 2 else (True, False)):
            request = requests.grounded(item["output"], item["context"], item["question"],
                                        Threshold(0.5, "default"), settings.policy)
            messages, untrusted = judge.render(request, "direct")
            backend: Any = judge.backend
            if backend.loaded:
                backend._llm.reset()  # no prefix reuse: both passes read the whole prompt
            started = time.perf_counter()
            backend.complete(CompletionRequest(
                messages=messages, reply=ReplySpec(fields=(ANSWER,)), untrusted=untrusted,
                hidden_state=hidden, timeout=600.0))
            times[hidden].append(time.perf_counter() - started)
    for hidden, spent in times.items():
        print(f"hidden state {'on ' if hidden else 'off'}: " + ", ".join(
            f"{t:.2f}" for t in spent) + f" s; mean {sum(spent) / len(spent):.2f} s")


# -- report --------------------------------------------------------------------------
def load(model: str) -> list[dict[str, Any]]:
    path = RESULTS / f"quality-{model}.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for r in records:
        r["hidden"] = base64.b64decode(r["hidden"])
    return records


def balanced_weights(groups: Sequence[str]) -> Any:
    """Each training set weighs the same in the fit, however many rows it has."""
    import numpy as np

    counts = {g: groups.count(g) for g in set(groups)}
    return np.array([1.0 / counts[g] for g in groups])


def penalty_across_sets(x: Any, y: Any, groups: Sequence[str]) -> float:
    """The penalty whose heads rank best on a training set they were not fitted on
    (leave one set out, mean AUROC over the held-out sets): chosen for data unlike the
    training rows, which is what a packaged head meets."""
    import numpy as np

    names = sorted(set(groups))
    labels = np.asarray(groups)
    best, best_score = heads.PENALTIES[-1], -1.0
    for penalty in reversed(heads.PENALTIES):
        scores = []
        for held in names:
            train, test = labels != held, labels == held
            model = heads.fit_logistic(x[train], y[train], penalty,
                                       balanced_weights(list(labels[train])))
            scores.append(auroc(list(model.predict(x[test])), [int(v) for v in y[test]]))
        mean = sum(scores) / len(scores)
        print(f"  penalty {penalty:g}: held-out-set AUROC " + ", ".join(
            f"{n} {s:.3f}" for n, s in zip(names, scores, strict=True)) + f"; mean {mean:.3f}")
        if mean > best_score + 1e-9:
            best, best_score = penalty, mean
    return best


def interval(metric: Callable[[Sequence[float], Sequence[int]], float],
             scores: Sequence[float], labels: Sequence[int]) -> str:
    est = bootstrap(metric, scores, labels, seed=0)
    return f"{est.value:.3f} [{est.low:.3f}, {est.high:.3f}]"


def report(model: str, write_head: str | None, forced: float | None = None,
           panel_with: str | None = None) -> dict[str, Any]:
    import numpy as np

    records = load(model)
    if panel_with:
        # The other member's P(YES) and time on the same items, by (set, row, label).
        # Items the other model has not judged get no panel rows (their task's table
        # then shows none).
        other = {(r["set"], r["row"], r["label"]): r for r in load(panel_with)}
        for r in records:
            mate = other.get((r["set"], r["row"], r["label"]))
            if mate is not None:
                r["p_other"], r["seconds_other"] = mate["p_yes"], mate["seconds"]
    fit = [r for r in records if r["row"] in FIT_ROWS[r["set"]]]
    measured = {task: [r for r in records if r["set"] in sets
                       and r["row"] in MEASURE_ROWS[r["set"]]] for task, sets in TASKS.items()}
    y_fit = np.array([r["label"] for r in fit], dtype=float)
    x_fit = heads.design([r["hidden"] for r in fit], [r["p_yes"] for r in fit])
    length_fit = np.log([[r["chars"]] for r in fit])
    print(f"fit on {len(fit)} items: " + ", ".join(
        f"{s} {sum(r['set'] == s for r in fit)}" for s in SETS), flush=True)
    started = time.perf_counter()
    groups = [r["set"] for r in fit]
    balance = balanced_weights(groups)
    penalty = penalty_across_sets(x_fit, y_fit, groups) if forced is None else forced
    head = heads.fit_logistic(x_fit, y_fit, penalty, balance)
    with_length = heads.fit_logistic(np.hstack([x_fit, length_fit]), y_fit, penalty, balance)
    # Length and logit P(YES) alone: what the hidden state adds is the gap to the head.
    small = np.hstack([x_fit[:, -1:], length_fit])
    no_hidden = heads.fit_logistic(small, y_fit, heads.choose_penalty(small, y_fit, seed=0))
    fit_s = time.perf_counter() - started
    how = "given" if forced else "chosen by leave-one-set-out on the fitted rows"
    print(f"penalty {penalty:g} ({how}; {fit_s:.1f} s)")
    # Length alone: the sign that ranks the training rows best, kept for the test rows.
    sign = 1.0 if auroc([r["chars"] for r in fit], [r["label"] for r in fit]) >= 0.5 else -1.0
    p_threshold = fit_threshold([r["p_yes"] for r in fit], [r["label"] for r in fit])
    tables: dict[str, Any] = {"penalty": penalty, "fit_items": len(fit),
                              "p_yes_threshold": p_threshold, "tasks": {}}
    for task, rows in measured.items():
        if not rows:
            continue
        y = [r["label"] for r in rows]
        x = heads.design([r["hidden"] for r in rows], [r["p_yes"] for r in rows])
        lengths = np.log([[r["chars"]] for r in rows])
        seconds = sum(r["seconds"] for r in rows) / len(rows)
        lscore = [1 / (1 + math.exp(-sign * (math.log(r["chars"]) - 4))) for r in rows]
        length_threshold = fit_threshold(
            [1 / (1 + math.exp(-sign * (math.log(r["chars"]) - 4))) for r in fit],
            [r["label"] for r in fit])
        # The user's case: a head fitted on labels from this task only (its own training
        # rows), the penalty chosen by 5-fold cross-validation on them, as
        # --llmjudge-fit-head does.
        own = [r for r in fit if r["set"] in TASKS[task]]
        own_y = np.array([r["label"] for r in own], dtype=float)
        own_x = heads.design([r["hidden"] for r in own], [r["p_yes"] for r in own])
        own_head = heads.fit_logistic(own_x, own_y, heads.choose_penalty(own_x, own_y, 0))
        own_small = np.column_stack([np.log([r["chars"] for r in own]), own_x[:, -1]])
        own_length = heads.fit_logistic(own_small, own_y, 0.001)
        panel_rows: dict[str, Any] = {}
        if panel_with and all("p_other" in r for r in rows):
            def pair(rs: Sequence[dict[str, Any]]) -> Any:
                return np.column_stack([[heads.logit(r["p_other"]) for r in rs],
                                        [heads.logit(r["p_yes"]) for r in rs]])

            # Weights learned from labels as llmjudge_panel_aggregate=learned fits them
            # (head_fit.fit_panel): non-negative weights over both members' logits and a
            # bias, fitted on the training rows of all three sets.
            mated = [i for i, r in enumerate(fit) if "p_other" in r]
            w = pairwise_fit.fit_weights(pair([fit[i] for i in mated]), y_fit[mated],
                                         intercept=True)
            over = heads.Linear(w[:-1], float(w[-1]))
            both = seconds + sum(r["seconds_other"] for r in rows) / len(rows)
            panel_rows = {
                f"panel: mean P(YES) of {model} and {panel_with}": (
                    [(r["p_yes"] + r["p_other"]) / 2 for r in rows], 0.5, both),
                f"{panel_with} alone": ([r["p_other"] for r in rows], 0.5,
                                        both - seconds),
                "panel, weights fitted on the training rows": (
                    list(over.predict(pair(rows))), 0.5, both),
            }
        candidates = {
            "length only (no judge)": (lscore, length_threshold, 0.0),
            "P(YES) at 0.5": ([r["p_yes"] for r in rows], 0.5, seconds),
            "P(YES), fitted threshold": ([r["p_yes"] for r in rows], p_threshold, seconds),
            "head (hidden state + logit)": (list(head.predict(x)), 0.5, seconds),
            "head fitted on this task only": (list(own_head.predict(x)), 0.5, seconds),
            "logit P(YES) + length, this task only": (list(own_length.predict(
                np.column_stack([lengths[:, 0], x[:, -1]]))), 0.5, seconds),
            "logit P(YES) + length": (list(no_hidden.predict(np.hstack([x[:, -1:], lengths]))),
                                      0.5, seconds),
            "head + length": (list(with_length.predict(np.hstack([x, lengths]))), 0.5,
                              seconds),
            **panel_rows,
        }
        print(f"\n{task}: {len(rows)} items never fitted, {sum(y)} labelled 1")
        print(f"  {'row':38} {'AUROC (95% CI)':24} {'accuracy (95% CI)':24} s/verdict")
        table = {}
        for name, (scores, t, secs) in candidates.items():
            a = interval(auroc, scores, y)
            acc = interval(lambda s, lab, t=t: confusion(s, lab, t).accuracy, scores, y)
            print(f"  {name:38} {a:24} {acc:24} {secs:.2f}")
            table[name] = {"auroc": a, "accuracy": acc, "threshold": t, "seconds": secs}
        tables["tasks"][task] = table
    if write_head:
        oof = heads.out_of_fold(x_fit, y_fit, penalty, seed=0)
        entry = heads.Head(
            judge=records and _judge_id(model), prompt=_prompt_version(), kind="grounded",
            size=x_fit.shape[1] - 1, weights=tuple(float(w) for w in head.weights),
            bias=head.bias, fitted_on="benchmarks/quality.py: " + ", ".join(
                f"{s} rows {FIT_ROWS[s].start}-{FIT_ROWS[s].stop - 1}"
                for s in SETS if len(FIT_ROWS[s])),
            n=len(fit), penalty=penalty, cv_auroc=auroc(list(oof), list(y_fit)),
            cv_auroc_p_yes=auroc([r["p_yes"] for r in fit], list(y_fit)))
        document = {"format": "pytest-llmjudge calibration", "version": 2, "entries": [],
                    "heads": [entry.to_json()]}
        Path(write_head).write_text(json.dumps(document, indent=1) + "\n")
        print(f"\nwrote the head to {write_head} (cross-validated AUROC {entry.cv_auroc:.3f} "
              f"against {entry.cv_auroc_p_yes:.3f} for P(YES) on the fitted rows)")
    out = RESULTS / f"quality-{model}.json"
    out.write_text(json.dumps(tables, indent=2) + "\n")
    return tables


def report_pairs(model: str, write_head: str | None) -> dict[str, Any]:
    """The LLMBar table: every way to decide a comparison from the extracted signals,
    fitted on the even pairs of each subset and measured on the odd ones."""
    import numpy as np

    from pytest_llmjudge.calibration import pairwise_fit
    from pytest_llmjudge.judging.pairwise import DEFAULT_MARGIN, Signals, outcome

    records = [json.loads(line) for line in
               (RESULTS / f"pairs-{model}.jsonl").read_text().splitlines()]
    fit = [r for r in records if r["fit"]]
    rows = [r for r in records if not r["fit"]]

    def signals(r: dict[str, Any]) -> Signals:
        return Signals(r["p_a"][0], 1.0 - r["p_a"][1], r["p_yes"][0], r["p_yes"][1])

    def labels(rs: Sequence[dict[str, Any]]) -> list[int]:
        return [int(r["label"] == 1) for r in rs]

    def features(rs: Sequence[dict[str, Any]]) -> Any:
        return np.array([signals(r).features() for r in rs])

    def log_ratio(r: dict[str, Any]) -> float:
        return math.log(r["chars"][0] / r["chars"][1])

    y_fit = np.array(labels(fit), dtype=float)
    weights = pairwise_fit.fit_weights(features(fit), y_fit)
    oof = pairwise_fit.out_of_fold(features(fit), y_fit, seed=0)
    margin, reached = pairwise_fit.choose_margin(oof, labels(fit))
    # Length: the direction that ranks the fitted pairs best (shorter, on LLMBar).
    sign = 1.0 if auroc([log_ratio(r) for r in fit], labels(fit)) >= 0.5 else -1.0
    # Length is no judge signal: its weight is free (shorter wins on LLMBar), so this
    # row says what the signals add beyond it.
    with_length = pairwise_fit.fit_weights(
        np.column_stack([features(fit), [log_ratio(r) for r in fit]]), y_fit,
        nonnegative=False)
    length_oof = pairwise_fit.out_of_fold(
        np.column_stack([features(fit), [log_ratio(r) for r in fit]]), y_fit, seed=0,
        nonnegative=False)
    length_margin, _ = pairwise_fit.choose_margin(length_oof, labels(fit))
    print(f"fitted on {len(fit)} pairs (even index within each subset), measured on "
          f"{len(rows)} (odd)")
    print(f"weights: {weights[0]:.3f} on the orders' logits, {weights[1]:.3f} on the alone "
          f"scores' logits; tie margin {margin:.3f} ("
          + ("reaches" if reached else "does NOT reach")
          + f" {pairwise_fit.DECIDED_ACCURACY:.2f} decided out of fold on the fitted pairs)")
    y = labels(rows)
    sig = [signals(r) for r in rows]
    pair_s = sum(r["pair_seconds"] for r in rows) / len(rows)
    all_s = pair_s + sum(r["alone_seconds"] for r in rows) / len(rows)
    candidates: dict[str, tuple[list[float] | None, list[str], float]] = {}

    def banded(scores: list[float], m: float) -> list[str]:
        return ["TIE" if abs(v - 0.5) <= m else "BETTER" if v > 0.5 else "WORSE"
                for v in scores]

    length = [heads.sigmoid(sign * log_ratio(r)) for r in rows]
    candidates["length only (no judge), forced"] = (length, banded(length, 0.0), 0.0)
    orders = [g.orders for g in sig]
    candidates["orders, both must agree (before)"] = (
        orders, [outcome(g.first, g.second) for g in sig], pair_s)
    candidates["orders mean, forced"] = (orders, banded(orders, 0.0), pair_s)
    alone = [g.alone or 0.5 for g in sig]
    candidates["alone P(YES) difference, forced"] = (alone, banded(alone, 0.0), all_s - pair_s)
    rule = [(g.orders + (g.alone or 0.5)) / 2 for g in sig]
    candidates[f"unfitted rule, margin {DEFAULT_MARGIN}"] = (
        rule, banded(rule, DEFAULT_MARGIN), all_s)
    candidates["unfitted rule, forced"] = (rule, banded(rule, 0.0), all_s)
    head = pairwise_fit.predict(weights, features(rows))
    candidates[f"fitted head, fitted margin {margin:.3f}"] = (head, banded(head, margin), all_s)
    candidates["fitted head, forced"] = (head, banded(head, 0.0), all_s)
    plus = pairwise_fit.predict(with_length, np.column_stack(
        [features(rows), [log_ratio(r) for r in rows]]))
    candidates[f"fitted head + length, margin {length_margin:.3f}"] = (
        plus, banded(plus, length_margin), all_s)
    # What the plugin refuses to fit: weights free to turn a signal round.
    free = pairwise_fit.fit_weights(features(fit), y_fit, nonnegative=False)
    free_oof = pairwise_fit.out_of_fold(features(fit), y_fit, seed=0, nonnegative=False)
    free_margin, _ = pairwise_fit.choose_margin(free_oof, labels(fit))
    unconstrained = pairwise_fit.predict(free, features(rows))
    print(f"unconstrained weights (not shipped): {free[0]:.3f} on the orders, "
          f"{free[1]:.3f} on the alone scores")
    candidates[f"unconstrained weights, margin {free_margin:.3f}"] = (
        unconstrained, banded(unconstrained, free_margin), all_s)
    # A hidden-state pairwise head: the two alone passes' hidden states, differenced
    # (and the alone logit difference), fitted with the penalty chosen by 5-fold CV on
    # the fitted pairs; scored from both sides and averaged, so swapping the outputs
    # mirrors the score.
    def states(rs: Sequence[dict[str, Any]], swap: bool = False) -> Any:
        a, b = (1, 0) if swap else (0, 1)
        diff = [np.frombuffer(base64.b64decode(r["hidden_alone"][a]), dtype="<f2")
                .astype(np.float64) - np.frombuffer(base64.b64decode(r["hidden_alone"][b]),
                                                    dtype="<f2").astype(np.float64)
                for r in rs]
        sign = -1.0 if swap else 1.0
        return np.column_stack([np.vstack(diff), [sign * signals(r).features()[1]
                                                  for r in rs]])

    hx = states(fit)
    hidden_head = heads.fit_logistic(hx, y_fit, heads.choose_penalty(hx, y_fit, 0))

    def hidden_scores(rs: Sequence[dict[str, Any]]) -> list[float]:
        there = hidden_head.predict(states(rs))
        back = hidden_head.predict(states(rs, swap=True))
        return [float((a + 1.0 - b) / 2) for a, b in zip(there, back, strict=True)]

    hidden_oof = [0.0] * len(fit)
    for held in heads.folds(y_fit, heads.FOLDS, 0):
        train = np.setdiff1d(np.arange(len(fit)), held)
        part = heads.fit_logistic(hx[train], y_fit[train],
                                  heads.choose_penalty(hx[train], y_fit[train], 0))
        rs = [fit[int(i)] for i in held]
        there, back = part.predict(states(rs)), part.predict(states(rs, swap=True))
        for i, a, b in zip(held, there, back, strict=True):
            hidden_oof[int(i)] = float((a + 1.0 - b) / 2)
    hidden_margin, _ = pairwise_fit.choose_margin(hidden_oof, labels(fit))
    hidden = hidden_scores(rows)
    candidates[f"hidden-state head, margin {hidden_margin:.3f}"] = (
        hidden, banded(hidden, hidden_margin), all_s)
    candidates["hidden-state head, forced"] = (hidden, banded(hidden, 0.0), all_s)
    print(f"\nLLMBar pairwise: {len(rows)} pairs never fitted, output 1 better in {sum(y)}")
    print(f"  {'row':40} {'AUROC (95% CI)':22} {'decided acc (95% CI)':22} ties  "
          "tie=half  s/pair")
    table: dict[str, Any] = {"weights": [float(w) for w in weights], "margin": margin,
                             "fit_pairs": len(fit), "rows": {}}
    as_score = {"BETTER": 1.0, "WORSE": 0.0, "TIE": 0.5}
    def both_ways(s: Sequence[float], lab: Sequence[int]) -> float:
        """AUROC over each pair seen from both sides (the score of the other output is
        1 - s): how well the score tells the better output from the worse, whichever
        is shown as output 1."""
        return auroc([*s, *(1.0 - v for v in s)], [*lab, *(1 - v for v in lab)])

    for name, (scores, outcomes, secs) in candidates.items():
        a = interval(both_ways, scores, y) if scores is not None else "-"
        coded = [as_score[o] for o in outcomes]

        def right(s: Sequence[float], lab: Sequence[int]) -> float:
            return pairwise_fit.decided(s, lab, 0.0).accuracy

        figures = pairwise_fit.outcome_figures(outcomes, y)
        acc = interval(right, coded, y)
        print(f"  {name:40} {a:22} {acc:22} {figures.ties:4.0%}  {figures.half:.3f}   "
              f"{secs:.1f}")
        table["rows"][name] = {"auroc": a, "decided_accuracy": acc, "ties": figures.ties,
                               "half": figures.half, "seconds": secs}
    groups: dict[str, list[int]] = {"Natural": [], "Adversarial (all four)": []}
    for i, r in enumerate(rows):
        groups["Natural" if r["subset"] == "Natural" else "Adversarial (all four)"].append(i)
        groups.setdefault(r["subset"], []).append(i)
    shown = [name for name in candidates if name.startswith((
        "length", "orders, both", "alone", "fitted head, fitted", "unconstrained",
        "hidden-state head, margin"))]
    print("\n  by subset (decided accuracy, ties; AUROC both ways)")
    for group, members in groups.items():
        if group.startswith("Adversarial/"):
            group = "  " + group
        print(f"    {group:26} n={len(members)}")
        for name in shown:
            scores, outcomes, _ = candidates[name]
            f = pairwise_fit.outcome_figures([outcomes[i] for i in members],
                                             [y[i] for i in members])
            a = both_ways([scores[i] for i in members], [y[i] for i in members]) \
                if scores is not None else math.nan
            decided_text = "-" if math.isnan(f.accuracy) else f"{f.accuracy:.2f}"
            print(f"      {name:40} decided {decided_text:>5}  ties {f.ties:4.0%}  "
                  f"AUROC {a:.2f}")
    if write_head:
        fit_oof_auroc = auroc(oof, labels(fit))
        rule_auroc = auroc([(signals(r).orders + (signals(r).alone or 0.5)) / 2
                            for r in fit], labels(fit))
        entry = heads.Head(
            judge=_judge_id(model), prompt=_pairwise_prompt_version(), kind="pairwise",
            size=0, weights=(float(weights[0]), float(weights[1])), bias=0.0,
            fitted_on="benchmarks/quality.py: LLMBar dev, the even pairs of each subset",
            n=len(fit), penalty=pairwise_fit.RIDGE, cv_auroc=fit_oof_auroc,
            cv_auroc_p_yes=rule_auroc, features=heads.PAIRWISE_FEATURES, margin=margin)
        path = Path(write_head)
        document = (json.loads(path.read_text()) if path.exists() else
                    {"format": "pytest-llmjudge calibration", "version": 2, "entries": []})
        kept = [h for h in document.get("heads", []) if h["kind"] != "pairwise"]
        document["heads"] = [*kept, entry.to_json()]
        path.write_text(json.dumps(document, indent=1) + "\n")
        print(f"\nwrote the pairwise head to {write_head}")
    (RESULTS / f"pairs-{model}.json").write_text(json.dumps(table, indent=2) + "\n")
    return table


def report_sentences(model: str) -> dict[str, Any]:
    """QAGS-CNNDM: claims="sentences" (the lowest sentence's P(YES)) against the whole
    summary judged once, with and without a head; fitted on rows 0-58, measured on
    59-117, as the grounding table."""
    import numpy as np

    whole = {r["row"]: r for r in load(model) if r["set"] == "qags_cnndm"}
    records = [json.loads(line) for line in
               (RESULTS / f"sentences-{model}.jsonl").read_text().splitlines()]
    for r in records:
        r["weakest"] = int(np.argmin(r["p_yes"]))
        r["min"] = min(r["p_yes"])
        r["state"] = base64.b64decode(r["hidden"][r["weakest"]])
    fit = [r for r in records if r["row"] in FIT_ROWS["qags_cnndm"]]
    rows = [r for r in records if r["row"] in MEASURE_ROWS["qags_cnndm"]]
    y_fit = np.array([r["label"] for r in fit], dtype=float)
    # A head over the weakest sentence's hidden state, fitted to the summary's label
    # (the data labels summaries, not sentences).
    x_fit = heads.design([r["state"] for r in fit], [r["min"] for r in fit])
    head = heads.fit_logistic(x_fit, y_fit, heads.choose_penalty(x_fit, y_fit, 0))
    whole_fit = [whole[r["row"]] for r in fit]
    wx_fit = heads.design([w["hidden"] for w in whole_fit], [w["p_yes"] for w in whole_fit])
    whole_head = heads.fit_logistic(wx_fit, y_fit, heads.choose_penalty(wx_fit, y_fit, 0))
    t_min = fit_threshold([r["min"] for r in fit], [r["label"] for r in fit])
    t_whole = fit_threshold([w["p_yes"] for w in whole_fit], [r["label"] for r in fit])
    y = [r["label"] for r in rows]
    wrows = [whole[r["row"]] for r in rows]
    sign = 1.0 if auroc([w["chars"] for w in whole_fit], [r["label"] for r in fit]) >= 0.5 \
        else -1.0
    secs = sum(r["seconds"] for r in rows) / len(rows)
    wsecs = sum(w["seconds"] for w in wrows) / len(rows)
    candidates = {
        "length only (no judge)": ([sign * w["chars"] for w in wrows], None, 0.0),
        "whole summary, P(YES) at 0.5": ([w["p_yes"] for w in wrows], 0.5, wsecs),
        "whole summary, fitted threshold": ([w["p_yes"] for w in wrows], t_whole, wsecs),
        "whole summary, head": (list(whole_head.predict(heads.design(
            [w["hidden"] for w in wrows], [w["p_yes"] for w in wrows]))), 0.5, wsecs),
        "sentences, lowest P(YES) at 0.5": ([r["min"] for r in rows], 0.5, secs),
        "sentences, fitted threshold": ([r["min"] for r in rows], t_min, secs),
        "sentences, head on the weakest sentence": (list(head.predict(heads.design(
            [r["state"] for r in rows], [r["min"] for r in rows]))), 0.5, secs),
        "mean of whole and sentences": ([(w["p_yes"] + r["min"]) / 2
                                         for w, r in zip(wrows, rows, strict=True)], None,
                                        secs + wsecs),
    }
    sentences = sum(len(r["p_yes"]) for r in rows)
    print(f"QAGS-CNNDM: {len(rows)} summaries never fitted ({sentences} sentences), "
          f"{sum(y)} labelled consistent; fitted on {len(fit)}")
    print(f"  {'row':42} {'AUROC (95% CI)':24} {'accuracy (95% CI)':24} s/verdict")
    table = {}
    for name, (scores, t, spent) in candidates.items():
        a = interval(auroc, scores, y)
        acc = ("-" if t is None else
               interval(lambda sc, lab, t=t: confusion(sc, lab, t).accuracy, scores, y))
        print(f"  {name:42} {a:24} {acc:24} {spent:.2f}")
        table[name] = {"auroc": a, "accuracy": acc, "seconds": spent}
    (RESULTS / f"sentences-{model}.json").write_text(json.dumps(table, indent=2) + "\n")
    return table


def report_roles(model: str) -> dict[str, Any]:
    """The role panel (@strict, @lenient, @expert on one model) against the model alone,
    on ROLE_ROWS (never fitted on). Mean and majority need no labels; the learned weights
    are scored out of fold (5 folds over these rows), the only honest way to show them
    without role extractions of the training rows."""
    import numpy as np

    plain = {(r["set"], r["row"], r["label"]): r for r in load(model)}
    fit = [r for r in plain.values() if r["row"] in FIT_ROWS[r["set"]]]
    sign = 1.0 if auroc([r["chars"] for r in fit], [r["label"] for r in fit]) >= 0.5 else -1.0
    rows = [json.loads(x) for x in (RESULTS / f"roles-{model}.jsonl").read_text().splitlines()]
    tables: dict[str, Any] = {}
    for task, sets in TASKS.items():
        mine = [r for r in rows if r["set"] in sets]
        if not mine:
            continue
        roles = list(mine[0]["p_yes"])
        y = [r["label"] for r in mine]
        base = [plain[(r["set"], r["row"], r["label"])] for r in mine]
        alone_s = sum(b["seconds"] for b in base) / len(base)
        panel_s = sum(sum(r["seconds"].values()) for r in mine) / len(mine)
        x = np.array([[heads.logit(r["p_yes"][role]) for role in roles] for r in mine])
        learned = pairwise_fit.out_of_fold(x, np.asarray(y, dtype=float), 0, intercept=True)
        candidates: dict[str, tuple[list[float], float]] = {
            "length only (no judge)": ([sign * math.log(b["chars"]) for b in base], 0.0),
            f"{model} alone, P(YES)": ([b["p_yes"] for b in base], alone_s),
            **{f"@{role} alone": ([r["p_yes"][role] for r in mine],
                                  sum(r["seconds"][role] for r in mine) / len(mine))
               for role in roles},
            "panel, mean": ([sum(r["p_yes"].values()) / len(roles) for r in mine], panel_s),
            "panel, majority": ([sum(v >= 0.5 for v in r["p_yes"].values()) / len(roles)
                                 for r in mine], panel_s),
            "panel, learned weights (out of fold)": (learned, panel_s),
        }
        print(f"\n{task}: role panel on {len(mine)} items never fitted "
              f"({', '.join(sorted({r['set'] for r in mine}))}), {sum(y)} labelled 1")
        print(f"  {'row':38} {'AUROC (95% CI)':24} s/verdict")
        table = {}
        for name, (scores, spent) in candidates.items():
            a = interval(auroc, scores, y)
            print(f"  {name:38} {a:24} {spent:.2f}")
            table[name] = {"auroc": a, "seconds": spent}
        tables[task] = table
    (RESULTS / f"roles-{model}.json").write_text(json.dumps(tables, indent=2) + "\n")
    return tables


def _pairwise_prompt_version() -> str:
    """The key a pairwise head is looked up by: the order prompt, then the alone one."""
    settings = Settings()
    judge = Judge(create_backend(settings.backend_config()), settings)
    pair = requests.pairwise("a", "c", "i", Threshold(0.5, "default"), settings.policy)
    order = pairwise.order_requests(pair, "b")[0]
    alone = pairwise.alone_request(pair, "a")
    return f"{judge.prompt_version(order, 'direct')}+{judge.prompt_version(alone, 'direct')}"


def _judge_id(model: str) -> str:
    settings = Settings(model=model)
    return str(create_backend(settings.backend_config()).judge_id)


def _prompt_version() -> str:
    from pytest_llmjudge.judging.prompts import load as load_prompt

    return load_prompt("grounded.v1", "direct").version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("extract", "report", "pairs", "sentences", "roles",
                                         "cost"))
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--only", default=",".join(SETS))
    parser.add_argument("--write-head")
    parser.add_argument("--panel-with", help="a second model already extracted: add panel rows")
    parser.add_argument("--penalty", type=float,
                        help="use this penalty instead of the leave-one-set-out choice")
    args = parser.parse_args()
    if args.step == "extract" and args.only == "llmbar":
        extract_llmbar(args.model)
    elif args.step == "extract" and args.only == "roles":
        extract_roles(args.model, ("strict", "lenient", "expert"))
    elif args.step == "extract" and args.only == "sentences":
        extract_sentences(args.model)
    elif args.step == "extract":
        extract(args.model, args.only.split(","))
    elif args.step == "sentences":
        report_sentences(args.model)
    elif args.step == "roles":
        report_roles(args.model)
    elif args.step == "pairs":
        report_pairs(args.model, args.write_head)
    elif args.step == "cost":
        cost(args.model)
    else:
        report(args.model, args.write_head, args.penalty, args.panel_with)


if __name__ == "__main__":
    main()
