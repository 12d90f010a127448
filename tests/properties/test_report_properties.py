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


# Any character an environment variable can hold, from all of Unicode: the characters
# every encoder spells another way among them. The "sk-" prefix keeps a drawn secret
# from coinciding with a report's own syntax ("00000000" inside a number).
secrets = st.builds(
    lambda body: "sk-" + body,
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
            | st.sampled_from([*"&<>\"'\\/%+", "\U0001f600", "\u00e4", "\u2028"]),
            min_size=5, max_size=24))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(secret=secrets, escaped=st.booleans())
def test_a_secret_of_any_characters_reaches_no_artefact_in_any_encoding(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, secret: str, escaped: bool,
) -> None:
    """Issue 29: a judge that echoes the secret into its reason (plainly, or spelled as
    \\u escapes): no file holds it raw, JSON-, HTML- or XML-escaped or URL-encoded, the
    sqlite cache included, and neither does the terminal."""
    from stub_backend import json_escaped, stub_conftest
    from test_second_sweep import spellings

    monkeypatch.setenv("PROPERTY_PASSWORD", secret)
    stub_project(pytester, monkeypatch, test_echo="""
        from pytest_llmjudge import assert_judged

        def test_echo():
            assert_judged("Your order ships on Monday.", "The reply is polite")
    """)
    pytester.makeconftest(stub_conftest("echo", env="PROPERTY_PASSWORD", escaped=escaped))
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--llmjudge-report=r.json", "--llmjudge-html=r.html",
        "--junitxml=r.xml", "--llmjudge-cache-export=e.jsonl")
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    stored = [p for p in pytester.path.iterdir() if p.is_file() and p.suffix in (
        ".json", ".html", ".xml", ".jsonl")]
    stored += [p for p in (pytester.path / ".llmjudge").iterdir() if p.is_file()]
    forms = spellings(secret) | {json_escaped(secret)}
    for form in forms:
        assert form not in out, form
        for path in stored:
            assert form.encode() not in path.read_bytes(), (path.name, form)
    json.loads((pytester.path / "r.json").read_text())  # masking broke no structure
    ElementTree.parse(pytester.path / "r.xml")
