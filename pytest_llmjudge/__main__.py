"""``python -m pytest_llmjudge calibrate LABELS [pytest options]``: measure the
configured judge on labelled examples, without running any other test.

It runs pytest with ``--llmjudge-calibrate=LABELS`` and every test file ignored, so
the calibration is the only item and the judge is configured exactly as in a test run:
ini file, environment, and any ``--llmjudge-*`` option passed after LABELS, e.g.
``--llmjudge-update-calibration`` to write the fitted thresholds.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m pytest_llmjudge calibrate LABELS.jsonl [pytest options]"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "calibrate" or argv[1].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    import pytest

    labels, rest = argv[1], argv[2:]
    return int(pytest.main([f"--llmjudge-calibrate={labels}", "--ignore-glob=*", *rest]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
