"""A stub judge for plumbing tests, plugged in through the public backend hook (as a
conftest.py of a pytester project). It answers YES with P(YES) 0.9 to a judged text
containing "good" and NO (0.2) otherwise, writes a two-item list when asked for one,
and prints how many calls it got. It proves plumbing only, never judging."""

import pytest
from conftest import ASYNCIO_INI

CACHE_STUB = """
    import json, os
    from pytest_llmjudge.backends.base import Completion

    CALLS = []

    class Stub:
        judge_id = os.environ.get("STUB_JUDGE", "stub:v1")
        model_name = "stub"
        supports_logprobs = True

        def complete(self, request):
            CALLS.append(request)
            good = "good" in request.untrusted[0]
            p_yes = 0.9 if good else 0.2
            if request.reply.fields[0].name == "items":
                text = json.dumps({"items": ["Is it good?", "Is it short?"]})
                return Completion(text, {}, prompt_tokens=30, completion_tokens=8)
            fields = [f.name for f in request.reply.fields]
            body = {name: ("YES" if p_yes > 0.5 else "NO") if name == "answer" else "stub says"
                    for name in fields}
            cost = os.environ.get("STUB_COST")
            return Completion(json.dumps(body), {"answer": {"YES": p_yes, "NO": 1 - p_yes}},
                              prompt_tokens=20, completion_tokens=4,
                              cost_usd=float(cost) if cost else None)

        def close(self):
            pass

    def pytest_llmjudge_make_backend(settings):
        return Stub()

    def pytest_terminal_summary(terminalreporter):
        terminalreporter.write_line(f"stub calls: {len(CALLS)}")
"""
TESTS = """
    from pytest_llmjudge import assert_judged

    def test_good():
        assert_judged("a good reply", "{criterion}")

    def test_bad():
        assert_judged("a bad reply", "{criterion}")
"""




def stub_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                 **files: str) -> pytest.Pytester:
    """A pytester project judged by the stub, with ``files`` as its test modules."""
    for name in ("STUB_JUDGE", "STUB_COST"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(CACHE_STUB)
    pytester.makepyfile(**files)
    return pytester
