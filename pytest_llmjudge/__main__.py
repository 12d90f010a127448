"""``python -m pytest_llmjudge calibrate LABELS [pytest options]``: measure the
configured judge on labelled examples, without running any other test.

``python -m pytest_llmjudge drift JUDGMENTS [pytest options]``: re-judge every
judgment recorded in an exported judgments file with the judge configured now, and
report agreement, kappa and the verdicts that flipped (``--llmjudge-max-flips=N``
makes it a gate).

Each runs pytest with its option (``--llmjudge-calibrate=LABELS`` or
``--llmjudge-drift=JUDGMENTS``) and every test file ignored, so the check is the only
item and the judge is configured exactly as in a test run: ini file, environment, and
any ``--llmjudge-*`` option passed after the file, e.g. ``--llmjudge-model=...``.
"""

from __future__ import annotations

import sys

USAGE = ("usage: python -m pytest_llmjudge calibrate LABELS.jsonl [pytest options]\n"
         "       python -m pytest_llmjudge drift JUDGMENTS.jsonl [pytest options]")
HELP = f"""{USAGE}

commands:
  calibrate LABELS.jsonl   measure the configured judge on labelled examples: AUROC,
                           accuracy, kappa, TPR/TNR with intervals, and a fitted
                           threshold (--llmjudge-update-calibration writes it,
                           --llmjudge-fit-head fits a head)
  drift JUDGMENTS.jsonl    re-judge an exported judgments file with the judge configured
                           now: agreement, kappa and every verdict that flipped
                           (--llmjudge-max-flips=N makes it a gate)

Any --llmjudge-* option after the file configures the judge, as in a test run; the ini
file and LLMJUDGE_* variables apply too. docs/calibration.md and
docs/sampling-and-drift.md have the details."""
COMMANDS = {"calibrate": "--llmjudge-calibrate", "drift": "--llmjudge-drift"}
# The report is the output: no header, no "collected 0 items", and no warning that the
# package, imported before pytest started, could not be assertion-rewritten.
QUIET = ("-q", "--no-header", "-W", "ignore::pytest.PytestAssertRewriteWarning")


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(HELP)
        return 0
    if len(argv) < 2 or argv[0] not in COMMANDS or argv[1].startswith("-"):
        print(USAGE + "\n(python -m pytest_llmjudge --help says what each does)",
              file=sys.stderr)
        return 2
    import pytest

    path, rest = argv[1], argv[2:]
    return int(pytest.main([f"{COMMANDS[argv[0]]}={path}", "--ignore-glob=*", *QUIET,
                            *rest]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
