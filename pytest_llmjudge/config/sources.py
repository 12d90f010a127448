"""Where settings come from in a pytest run: the ``--llmjudge-*`` options, the
``llmjudge_*`` ini keys and the ``LLMJUDGE_*`` environment variables.

Precedence, highest first: command line, ini file, environment variable, default.
Command-line defaults are ``None`` so that "not given" is distinguishable and the
ini value or the environment can apply (the pytest-xdist convention).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from ..errors import JudgeConfigError
from ..judging.policy import reconcile_polls
from .options import OPTIONS
from .settings import Settings


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmjudge", "LLM judge (pytest-llmjudge)")
    for option in OPTIONS:
        switch: dict[str, Any] = dict(action="store_const", const="true") if option.switch else {}
        group.addoption(option.flag, dest=option.ini, default=None,
                        help=f"{option.help}; ini {option.ini}, env {option.env}", **switch)
        parser.addini(option.ini, help=option.help, default="")


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every option once. A bad value raises pytest.UsageError naming the valid ones."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        candidates = (
            ("cli", config.getoption(option.ini), option.flag),
            ("ini", config.getini(option.ini) or None, option.ini),
            ("env", env.get(option.env) or None, option.env),
            ("default", option.default, option.ini),
        )
        source, raw, spelled = next(c for c in candidates if c[1] is not None)
        try:
            values[option.name] = option.parse(str(raw))
        except JudgeConfigError as err:
            raise pytest.UsageError(f"pytest-llmjudge: {spelled}: {err}") from None
        sources[option.name] = source
    try:
        values["min_polls"] = reconcile_polls(values["polls"], values["min_polls"],
                                              sources["min_polls"] != "default")
    except JudgeConfigError as err:
        raise pytest.UsageError(f"pytest-llmjudge: llmjudge_min_polls: {err}") from None
    return Settings(**values, sources=sources)
