"""The project's promises about itself: CI runs the README's test command, verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith("python3.11 -m venv")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = _commands((ROOT / "README.md").read_text())
    ci = _commands((ROOT / ".ci" / "run").read_text())
    assert len(readme) == 2, "the README gives two commands: quick start and tests"
    assert ci == [readme[1]]


def test_quick_start_runs_the_examples_with_the_default_model() -> None:
    quick_start = _commands((ROOT / "README.md").read_text())[0]
    assert '".[quickstart]"' in quick_start and quick_start.endswith("pytest examples/")
    ini = (ROOT / "examples" / "pytest.ini").read_text()
    assert "llmjudge_model = qwen2.5-coder-1.5b" in ini


def test_the_ci_recipe_workflow_parses_and_uses_real_options() -> None:
    import re

    import yaml

    from pytest_llmjudge.config.options import OPTIONS

    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "prompt-gate.yml").read_text())
    runs = [step["run"] for step in workflow["jobs"]["judge"]["steps"] if "run" in step]
    (gate,) = [run for run in runs if run.strip().startswith("pytest")]
    assert "--llmjudge-record-mode=new_episodes" in gate and "--llmjudge-cache-import" in gate
    flags = {option.flag for option in OPTIONS}
    used = set(re.findall(r"--llmjudge-[a-z-]+", gate))
    assert used and used <= flags, used - flags


def test_every_flag_named_in_messages_and_docs_exists() -> None:
    """Error messages and docs tell users which flag to use: each must be a real one."""
    import re

    from pytest_llmjudge.config.options import OPTIONS

    flags = {option.flag for option in OPTIONS}
    texts = [*(ROOT / "pytest_llmjudge").rglob("*.py"), *(ROOT / "docs").glob("*.md"),
             ROOT / "README.md"]
    named = {(path.name, flag) for path in texts
             for flag in re.findall(r"--llmjudge-[a-z][a-z-]*[a-z]", path.read_text())}
    assert {(name, flag) for name, flag in named if flag not in flags} == set()


def test_the_readme_sample_failure_is_the_recorded_one() -> None:
    """The README's sample failure is docs/failures.md's, which a test regenerates from
    the recorded judgments: so the front page cannot show an output the judge no longer
    gives."""
    def failure(text: str, after: str) -> str:
        return text.split(after, 1)[1].split("```\nE", 1)[1].split("```", 1)[0]

    readme = (ROOT / "README.md").read_text()
    page = (ROOT / "docs" / "failures.md").read_text()
    sample = failure(readme, "A failed judgment explains itself.")
    assert "judged assertion failed" in sample
    assert sample == failure(page, "## `assert_judged`")
