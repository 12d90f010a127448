"""The litellm backend against a loopback fault server (tests/servers.py): every fault
mode is held to the timeout and to the masking of secrets (issue 15, defects 2 and 5).

Wall times are asserted only against generous bounds, to catch a hang past the
timeout; speed itself is measured in benchmarks.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from servers import FaultProxy

TWO = """
    from pytest_llmjudge import assert_judged

    def test_first():
        assert_judged("Thank you! Could you share your order number?", "The reply is polite")

    def test_second():
        assert_judged("Thanks, I will check that for you.", "The reply is polite")
"""
SECRET = "sk-test-SECRET123-do-not-leak"


def test_a_slow_streaming_server_is_cut_off_at_the_timeout(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    """Defect 2: headers promising 100,000 bytes, then a byte a second; each read is
    quick, so only a deadline on the whole call ends it."""
    proxies.append(FaultProxy(None, always="slowstream"))
    remote.makepyfile(TWO)
    started = time.monotonic()
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-timeout=3")
    elapsed = time.monotonic() - started
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*JudgeTimeoutError: judge server * did not answer within "
                                 "llmjudge_timeout (Timeout: *no complete reply within *"])
    # The second test's error is as true as the first's: the server was reached.
    assert result.stdout.str().count("did not answer within llmjudge_timeout") >= 2
    assert "was unreachable" not in result.stdout.str()
    assert elapsed < 40, f"two 3 s timeouts took {elapsed:.1f} s"


def test_a_reply_cut_off_mid_chunk_is_not_called_unreachable(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    proxies.append(FaultProxy(None, always="chunked"))
    remote.makepyfile(TWO)
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              "--llmjudge-api-retries=1", "--llmjudge-timeout=10")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        "*BackendUnavailableError: judge server * failed 2 attempt(s) (no HTTP error status: "
        "the reply broke off or was not a chat completion): *peer closed connection without "
        "sending complete message body*"])
    assert "was unreachable" not in result.stdout.str()
    assert "last status 500" not in result.stdout.str()


def test_an_html_page_is_not_reported_as_status_500(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    proxies.append(FaultProxy(None, always="html"))
    remote.makepyfile(TWO)
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              "--llmjudge-api-retries=0")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*(no HTTP error status: the reply broke off or was not a "
                                 "chat completion): *Welcome to nginx*"])
    assert "last status 500" not in result.stdout.str()


@pytest.mark.parametrize("fault", ["echokey", "errorkey"])
def test_a_key_echoed_by_the_server_reaches_no_artefact(
    remote: pytest.Pytester, proxies: list[FaultProxy], monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """Defect 5: the reply quotes the Authorization header. The key is masked in the
    terminal, every report, the cache and the export; the failed reply is not cached."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    proxies.append(FaultProxy(None, always=fault))
    remote.makepyfile(TWO)
    files = {name: remote.path / name for name in ("r.json", "r.html", "r.xml", "e.jsonl")}
    result = remote.runpytest(
        f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-retries=1", "-rA",
        f"--llmjudge-report={files['r.json']}", f"--llmjudge-html={files['r.html']}",
        f"--junitxml={files['r.xml']}", f"--llmjudge-cache-export={files['e.jsonl']}")
    result.assert_outcomes(errors=2)
    out = result.stdout.str() + result.stderr.str()
    assert "***" in out  # the echo is there, masked
    assert SECRET not in out
    for name, path in files.items():
        assert SECRET not in path.read_text(), name
    cache = remote.path / ".llmjudge" / "judgments.sqlite3"
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in cache.parent.iterdir()
                                          if p.is_file())
    with sqlite3.connect(cache) as db:  # a reply that ended in an ERROR is no judgment
        assert db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0] == 0
    assert len(files["e.jsonl"].read_text().splitlines()) == 1  # the header alone


def test_credentials_in_the_api_base_are_masked(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    proxies.append(FaultProxy(None, always="503"))
    base = proxies[0].url.replace("http://", "http://judge-user:hunter2-pass@")
    remote.makepyfile(TWO)
    report = remote.path / "r.json"
    result = remote.runpytest(f"--llmjudge-api-base={base}", "--llmjudge-api-retries=0",
                              f"--llmjudge-report={report}")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*judge server http://judge-user:***@127.0.0.1:*/v1 failed 1 "
                                 "attempt(s) (last status 503)*"])
    assert "hunter2-pass" not in result.stdout.str() + report.read_text()


def test_a_silent_server_is_cut_off_at_the_timeout(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    proxies.append(FaultProxy(None, always="stall", stall_seconds=60))
    remote.makepyfile(TWO)
    started = time.monotonic()
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-timeout=2")
    elapsed = time.monotonic() - started
    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("did not answer within llmjudge_timeout") >= 2
    assert elapsed < 30, f"two 2 s timeouts took {elapsed:.1f} s"




@pytest.mark.parametrize("fault", ["slowstream", "stall", "html", "chunked", "drop",
                                   "echokey", "errorkey", "401", "500", "shape",
                                   "overflow", "huge"])
def test_every_fault_ends_by_the_deadline_and_leaks_no_key(
    remote: pytest.Pytester, proxies: list[FaultProxy], monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """Each fault mode, with a key in the environment: the run ends within a generous
    bound of its timeout, every test is an ERROR (never a pass), and the key reaches
    neither the terminal nor a report."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    proxies.append(FaultProxy(None, always=fault, stall_seconds=60))
    remote.makepyfile(TWO)
    report = remote.path / "r.json"
    started = time.monotonic()
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-timeout=3",
                              "--llmjudge-api-retries=1", "--llmjudge-retries=1",
                              f"--llmjudge-report={report}", "-rA")
    elapsed = time.monotonic() - started
    result.assert_outcomes(errors=2)
    assert SECRET not in result.stdout.str() + result.stderr.str() + report.read_text()
    assert elapsed < 45, f"{fault}: two judged tests with a 3 s timeout took {elapsed:.1f} s"
    # A reply quoted in an error is an excerpt: a 2,000,000-character one is not shown.
    assert len(result.stdout.str()) < 100_000 and len(report.read_text()) < 100_000


def test_wrong_shapes_until_the_retries_run_out_end_by_the_timeout(
    remote: pytest.Pytester, proxies: list[FaultProxy],
) -> None:
    """Issue 29, defect 10: ten retries against a server that always answers in the
    wrong shape; the call and its retries share llmjudge_timeout."""
    proxies.append(FaultProxy(None, always="shape"))
    remote.makepyfile(TWO)
    started = time.monotonic()
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-timeout=3",
                              "--llmjudge-retries=10")
    elapsed = time.monotonic() - started
    result.assert_outcomes(errors=2)
    assert elapsed < 30, f"two calls bounded at 3 s took {elapsed:.1f} s"


def test_a_key_spelled_as_escapes_reaches_no_artefact(
    remote: pytest.Pytester, proxies: list[FaultProxy], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 29, defect 3: a valid NO whose reason spells the key as \\uXXXX escapes; the
    reply is masked after decoding, so the export and the cache hold neither form."""
    from stub_backend import json_escaped

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    proxies.append(FaultProxy(None, always="escapedkey"))
    remote.makepyfile(TWO)
    export = remote.path / "e.jsonl"
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              f"--llmjudge-cache-export={export}", "--llmjudge-reasons=all")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*saw Bearer [*][*][*]*"])
    stored = export.read_bytes() + b"".join(
        p.read_bytes() for p in (remote.path / ".llmjudge").iterdir() if p.is_file())
    for form in (SECRET, json_escaped(SECRET), json_escaped("Bearer " + SECRET)):
        assert form.encode() not in stored, form
        assert form not in result.stdout.str()
