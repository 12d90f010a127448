"""Conversations and agents on the real 135M model: every new assert runs end to end
(prompt, cache, report, failure text), per-turn prompts share their prefix in the KV
cache, and a transcript too long for the judge says so.

The 135M model's opinion is never what is tested: thresholds of 0 and 1 force a pass
or a failure where the outcome matters."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator

import pytest
from conftest import MECHANICS_MODEL

from pytest_llmjudge.backends.base import CompletionRequest
from pytest_llmjudge.backends.llamacpp import EVAL_CHUNK, LlamaCppBackend
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging import requests
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.policy import Policy
from pytest_llmjudge.judging.reply_formats import reply_spec
from pytest_llmjudge.judging.transcripts import parse_transcript

pytestmark = pytest.mark.mechanics

AGENT = '''
CALL = {"id": "call_1", "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order_id": "A1"}'}}
CHAT = [
    {"role": "system", "content": "You are the support agent of Kettle Co. Only discuss orders."},
    {"role": "user", "content": "Hi, my name is Ada and my order A1 has not arrived."},
    {"role": "assistant", "content": "Sorry to hear that, Ada. Let me check order A1."},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped", "eta": "Friday"}'},
    {"role": "assistant", "content": "Order A1 has shipped and should arrive on Friday."},
]
'''


def project(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(test_agent="import json\nfrom pytest_llmjudge import *\n" + AGENT
                        + textwrap.dedent(body))


def report(pytester: pytest.Pytester, name: str = "r.json") -> dict[str, list[dict]]:
    data = json.loads((pytester.path / name).read_text())
    return {t["nodeid"].split("::")[-1]: t["verdicts"] for t in data["tests"]}


def test_every_new_assert_runs_end_to_end_on_a_real_judge(judged: pytest.Pytester) -> None:
    project(judged, '''
        def test_whole(judge):
            v = judge.evaluate(CHAT, "The agent helps the customer")
            assert v.prompt_version.startswith("conversation.v1@")
            assert json.loads(v.output)[0]["role"] == "system"

        def test_each_turn():
            v = assert_each_turn(CHAT, "The reply is polite", threshold=0.0)
            assert v.part_kind == "turn" and len(v.parts) == 2
            assert [json.loads(p.output)[0]["turn"] for p in v.parts] == [2, 5]
            assert any("only call tools" in n for n in v.notes)

        def test_each_turn_fails():
            assert_each_turn(CHAT, "The reply is polite", threshold=1.0)

        def test_checks():
            assert assert_retains_knowledge(CHAT, threshold=0.0).prompt_version.startswith(
                "retention.v1@")
            assert assert_follows_role(CHAT, threshold=0.0).prompt_version.startswith("role.v1@")
            assert assert_goal_met(CHAT, goal="The customer learns when A1 arrives",
                                   threshold=0.0).prompt_version.startswith("goal.v1@")
            path = assert_trajectory_judged(CHAT, "The agent looks the order up before answering",
                                            reference=[{"name": "lookup_order",
                                                        "args": {"order_id": "A1"}}],
                                            threshold=0.0)
            assert path.prompt_version.startswith("trajectory.v1@")

        def test_grounded():
            v = assert_grounded(CHAT, threshold=0.0)
            assert v.part_kind == "turn" and len(v.parts) == 2

        def test_checklist(judge):
            v = judge.evaluate_checklist(CHAT, items=["The agent greets Ada",
                                                      "The agent gives a date"])
            assert {p.prompt_version.split("@")[0] for p in v.parts} == {"conversation.v1"}

        def test_tools_judged():
            m = assert_tool_calls(CHAT, [{"name": "lookup_order", "args": {"order_id": "A1"}}])
            assert m.passed and m.verdict is None  # by rule: no judge call
            m = assert_tool_calls(CHAT, [{"name": "lookup_order", "args": {"order_id": "a1"}}],
                                  args="judged", threshold=0.0)
            assert m.verdict is not None and m.verdict.part_kind == "argument"
            assert len(m.verdict.parts) == 1
    ''')
    result = judged.runpytest("--llmjudge-report=r.json", "--llmjudge-html=r.html",
                              "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines([
        "*conversation: 2 of 2 turns failed; failed: lowest turn score * < threshold 1.00",
        "*criterion: The reply is polite",
        "*conversation (6 turns):",
        "*[[]3] assistant:",
        '*calls lookup_order({"order_id": "A1"})',
        "*FAIL*turn 2 (assistant): Sorry to hear that, Ada. Let me check order A1.",
        "*FAIL*turn 5 (assistant): Order A1 has shipped and should arrive on Friday.",
    ])
    verdicts = report(judged)
    (whole,) = verdicts["test_whole"]
    assert [t["role"] for t in whole["turns"]] == ["system", "user", "assistant", "assistant",
                                                   "tool", "assistant"]
    assert whole["turns"][3]["calls"] == ['lookup_order({"order_id": "A1"})']
    assert len(verdicts["test_checks"]) == 4
    html = (judged.path / "r.html").read_text()
    assert '<ol class="turns"' in html and "turn 5 (assistant)" in html


def test_conversation_verdicts_replay_from_the_cache(judged: pytest.Pytester) -> None:
    project(judged, '''
        def test_turns():
            assert_each_turn(CHAT, "The reply is polite", threshold=0.0)
            assert_goal_met(CHAT, goal="The customer learns when A1 arrives", threshold=0.0)
    ''')
    judged.runpytest("--llmjudge-record-mode=new_episodes").assert_outcomes(passed=1)
    again = judged.runpytest("--llmjudge-record-mode=none", "--llmjudge-report=r.json")
    again.assert_outcomes(passed=1)
    assert all(v["cached"] for v in report(judged)["test_turns"])


def test_the_tools_marker_and_fixture(judged: pytest.Pytester) -> None:
    project(judged, '''
        import pytest

        @pytest.mark.llmjudge_tools(expected=[{"name": "lookup_order", "args": {"order_id": "A1"}}])
        def test_matches(judge_tools):
            judge_tools(CHAT)

        @pytest.mark.llmjudge_tools(expected=[{"name": "issue_refund"}], order="superset")
        def test_missing(judge_tools):
            judge_tools(CHAT)

        @pytest.mark.llmjudge_tools(expected=[{"name": "lookup_order"}])
        def test_no_fixture():
            pass

        @pytest.mark.llmjudge_tools(expected=[{"name": "lookup_order"}], order="any")
        def test_bad_order(judge_tools):
            judge_tools(CHAT)

        @pytest.mark.llmjudge_tools(expected=[{"name": "lookup_order"}])
        def test_never_called(judge_tools):
            pass
    ''')
    result = judged.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, errors=3)
    result.stdout.fnmatch_lines([
        "*ToolCallMismatch: tool calls do not match (order='superset', args='exact'):",
        "*missing:    expected[[]0] issue_refund(...) was not called",
        '*actual (1):   [[]0] lookup_order({"order_id": "A1"})',
    ])
    result.stdout.fnmatch_lines(["*test_no_fixture*does not request the judge_tools fixture*"])
    result.stdout.fnmatch_lines(["*order='any' is not a way to match calls*"])
    result.stdout.fnmatch_lines(["*requests judge_tools but never calls it*"])


def test_bad_inputs_are_errors_not_verdicts(judged: pytest.Pytester) -> None:
    project(judged, '''
        def test_no_role():
            assert_judged([{"content": "hi"}], "Is polite")

        def test_no_assistant():
            assert_each_turn([{"role": "user", "content": "hi"}], "Is polite")

        def test_bad_arguments():
            assert_tool_calls([{"role": "assistant", "content": None, "tool_calls": [
                {"id": "c", "function": {"name": "f", "arguments": "{oops"}}]}], [{"name": "f"}])

        def test_bad_expected():
            assert_tool_calls(CHAT, "lookup_order")

        def test_bad_args_mode():
            assert_tool_calls(CHAT, [{"name": "lookup_order"}], args="fuzzy")
    ''')
    result = judged.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=5)
    result.stdout.fnmatch_lines(["*message 0 has no role*",
                                 "*no assistant turn with text to judge*",
                                 "*the arguments are not valid JSON*",
                                 "*expected must be a list of calls*",
                                 "*args='fuzzy' is not a way to compare arguments*"],
                                consecutive=False)


def test_a_conversation_too_long_for_the_judge_says_how_long_and_what_to_do(
    judged: pytest.Pytester,
) -> None:
    project(judged, '''
        LONG = [{"role": "user" if i % 2 == 0 else "assistant",
                 "content": f"Turn {i}: " + "the kettle still leaks on the left side. " * 8}
                for i in range(12)]

        def test_long():
            assert_retains_knowledge(LONG)
    ''')
    result = judged.runpytest("-p", "no:cacheprovider", "-o", "llmjudge_n_ctx=512")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ContextOverflowError: assert_retains_knowledge(): the judge prompt needs * tokens*"
        "judge it turn by turn with assert_each_turn(conversation, criteria)*"])


@pytest.fixture(scope="module")
def backend() -> Iterator[LlamaCppBackend]:
    from pytest_llmjudge.backends import create_backend

    loaded = create_backend(Settings(model=MECHANICS_MODEL).backend_config())
    assert isinstance(loaded, LlamaCppBackend)
    yield loaded
    loaded.close()


def test_each_turn_reads_the_turns_before_it_from_the_kv_cache(
    backend: LlamaCppBackend,
) -> None:
    chat = [{"role": "user" if i % 2 == 0 else "assistant",
             "content": f"Turn {i}: the kettle I bought on the {i + 1}th still leaks."}
            for i in range(10)]
    transcript = parse_transcript(chat, "t")
    judge = Judge(backend, Settings(model=MECHANICS_MODEL, record_mode="off"))
    spec = reply_spec("direct", reason=False)
    prompts = [judge.render(requests.turn(transcript, i, "The reply is polite", 0.5, Policy()),
                            "direct") for i in (7, 9)]
    for messages, untrusted in prompts:
        completion = backend.complete(CompletionRequest(messages=messages, reply=spec,
                                                        untrusted=untrusted))
    first, second = (backend._prompt_tokens(m, u) for m, u in prompts)
    shared = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    # Turn 9's prompt starts with turn 7's up to the turn judged (the earlier turns are
    # tokenized alike in both), and the cache serves that in whole chunks.
    assert transcript.shown(7) in backend._llm.detokenize(first[:shared]).decode()
    assert shared - EVAL_CHUNK < completion.reused_prompt_tokens <= shared


def test_conversations_and_trajectories_are_calibrated_and_the_threshold_applied(
    judged: pytest.Pytester,
) -> None:
    chat = [{"role": "user", "content": "Where is order A1?"},
            {"role": "assistant", "content": "Order A1 arrives on Friday."}]
    rude = [chat[0], {"role": "assistant", "content": "Look it up yourself."}]
    lookup = {"name": "lookup_order", "args": {"order_id": "A1"}}
    refund = {"name": "issue_refund", "args": {"order_id": "A1"}}
    rows = [{"kind": "judged", "conversation": c, "criteria": "The assistant is polite",
             "label": y} for c, y in ((chat, 1), (rude, 0))]
    rows += [{"kind": "trajectory", "tool_calls": calls, "reference": [lookup, refund],
              "criteria": "The agent looks the order up before refunding it", "label": y}
             for calls, y in (([lookup, refund], 1), ([refund], 0), ([lookup, refund], 1))]
    (judged.path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    result = judged.run(sys.executable, "-m", "pytest_llmjudge", "calibrate", "labels.jsonl",
                        "--llmjudge-update-calibration")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([
        "judged: 2 examples, 1 labelled 1; judge llamacpp:smollm2-135m*prompt conversation.v1@*",
        "trajectory: 3 examples, 2 labelled 1; judge *prompt trajectory.v1@*"],
        consecutive=False)
    document = json.loads((judged.path / "llmjudge-calibration.json").read_text())
    assert {e["kind"]: e["prompt"].split("@")[0] for e in document["entries"]} == {
        "judged": "conversation.v1", "trajectory": "trajectory.v1"}
    judged.makeini(f"[pytest]\nllmjudge_model = {MECHANICS_MODEL}\n"
                   "llmjudge_calibration_file = llmjudge-calibration.json\n")
    judged.makepyfile(test_path=f"""
        from pytest_llmjudge import JudgeAssertionError, assert_trajectory_judged

        def test_path():
            # The 135M model's verdict may go either way: the threshold must be the fitted one.
            try:
                v = assert_trajectory_judged({[lookup, refund]!r}, "The agent looks the order "
                                             "up before refunding it",
                                             reference={[lookup, refund]!r})
            except JudgeAssertionError as failed:
                v = failed.verdict
            assert v.threshold_source.startswith("calibrated in "), v.threshold_source
    """)
    judged.runpytest("-p", "no:cacheprovider", "test_path.py").assert_outcomes(passed=1)
