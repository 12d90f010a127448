"""The plumbing tests' common project: two tests judged by the stub's keyword rule
(YES with P(YES) 0.9 to a judged text containing "good", NO (0.2) otherwise; see
stub_backend.py). It proves plumbing only, never judging."""

import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest

CACHE_STUB = stub_conftest("keyword")
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
