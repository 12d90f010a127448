"""Outputs with any unicode (surrogates, control characters, a secret) through a real
pytest run and every writer (issue 15's fuzzing harness): never an INTERNALERROR, a
lone surrogate is an ERROR in the report like any judge error, the HTML stays
well-formed, the JUnit XML and the JSON parse, and the secret reaches no file.

The judge is the plumbing stub (keyword rule): these are properties of the writers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stubs import stub_project

SECRET = "sk-property-9f8e7d6c5b4a"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
TESTS = """
    import json
    import pathlib

    import pytest
    from pytest_llmjudge import assert_judged

    OUTPUTS = json.loads(pathlib.Path(__file__).with_name("outputs.json").read_text())

    @pytest.mark.parametrize("n", range(len(OUTPUTS)))
    def test_output(n):
        assert_judged(OUTPUTS[n], "The reply is good")
"""


class Balanced(HTMLParser):
    """Checks that every opened element is closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


outputs = st.lists(
    st.text(min_size=1, max_size=60)
    | st.text(st.characters(whitelist_categories=("Cc", "Cf", "Cs", "Zs")), min_size=1,
              max_size=6)
    | st.builds(lambda a, b: f"{a} good {SECRET} {b}", st.text(max_size=20),
                st.text(max_size=20))
    | st.just("<script>alert(1)</script> ]]> good & </td>"),
    min_size=3, max_size=6)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=outputs)
def test_any_output_reaches_every_report_intact_and_masked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, drawn: list[str],
) -> None:
    monkeypatch.setenv("PROPERTY_API_KEY", SECRET)
    stub_project(pytester, monkeypatch, test_outputs=TESTS)
    (pytester.path / "outputs.json").write_text(json.dumps(drawn))
    files = {n: pytester.path / n for n in ("r.json", "r.html", "r.xml", "e.jsonl")}
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--llmjudge-report={files['r.json']}",
        f"--llmjudge-html={files['r.html']}", f"--junitxml={files['r.xml']}",
        f"--llmjudge-cache-export={files['e.jsonl']}")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), out[-2000:]
    assert "INTERNALERROR" not in out
    assert SECRET not in out
    for name, path in files.items():
        assert SECRET not in path.read_text(encoding="utf-8"), name
    report = json.loads(files["r.json"].read_text())
    outcomes = {t["nodeid"]: t["outcome"] for t in report["tests"]}
    # As the test module reads them: JSON joins a high and a low surrogate into one
    # character, and keeps any other surrogate alone.
    for n, text in enumerate(json.loads(json.dumps(drawn))):
        outcome = outcomes[f"test_outputs.py::test_output[{n}]"]
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            assert outcome == "error", (text, outcome)
        elif outcome != "error":
            assert outcome == ("passed" if "good" in text else "failed"), (text, outcome)
    ElementTree.parse(files["r.xml"])
    page = Balanced()
    page.feed(files["r.html"].read_text(encoding="utf-8"))
    page.close()
    assert page.problems == [] and page.open == []
