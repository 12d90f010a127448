"""The layering, checked from the source: which layer may import what, no cycles, no
private names borrowed across modules, and one source for every default."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import import_graph
import pytest

from pytest_llmjudge.config.options import OPTIONS
from pytest_llmjudge.config.settings import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_llmjudge"
MODULES = import_graph.read_package(PACKAGE)
# Importing any submodule runs the package's __init__, which exposes the assertion
# helpers (and so loads pytest); these checks are about each module's own imports.
PYTEST_FREE = ("pytest_llmjudge.judging", "pytest_llmjudge.storage",
               "pytest_llmjudge.backends", "pytest_llmjudge.config.options",
               "pytest_llmjudge.config.settings", "pytest_llmjudge.config.thresholds",
               "pytest_llmjudge.calibration.metrics", "pytest_llmjudge.calibration.labels",
               "pytest_llmjudge.calibration.thresholds_file", "pytest_llmjudge.calibration.drift",
               "pytest_llmjudge.errors")


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_reader_sees_the_layers() -> None:
    # Guards the checks below against passing on an empty or misread graph.
    assert "pytest_llmjudge.judging.judge" in MODULES
    edges = import_graph.internal_edges(MODULES)
    assert "pytest_llmjudge.judging.strategies" in edges["pytest_llmjudge.judging.judge"]
    assert import_graph.loads(MODULES, "pytest_llmjudge.plugin", "pytest") is not None


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _under(n, PYTEST_FREE)))
def test_the_core_never_loads_pytest(name: str) -> None:
    chain = import_graph.loads(MODULES, name, "pytest")
    assert chain is None, f"{name} loads pytest: {' -> '.join(chain or [])}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _under(n, PYTEST_FREE)))
def test_the_core_never_loads_the_heavy_libraries_at_import(name: str) -> None:
    # llama_cpp and litellm may be imported inside the functions that need them only.
    for heavy in ("llama_cpp", "litellm"):
        module = MODULES[name]
        top_level = import_graph.read_top_level_imports(module.path)
        assert not any(i == heavy or i.startswith(heavy + ".") for i in top_level), name


def test_reporting_never_imports_a_backend() -> None:
    offenders = {name: sorted(t for t in targets if _under(t, ("pytest_llmjudge.backends",)))
                 for name, targets in import_graph.internal_edges(MODULES).items()
                 if _under(name, ("pytest_llmjudge.reporting",))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycles() -> None:
    assert import_graph.cycles(MODULES) == []


def test_no_module_borrows_another_modules_private_names() -> None:
    borrowed = {name: sorted(module.private_names) for name, module in MODULES.items()
                if module.private_names}
    assert borrowed == {}


def test_every_module_says_its_job() -> None:
    assert sorted(n for n, m in MODULES.items() if not (m.docstring or "").strip()) == []


def test_settings_defaults_are_the_option_tables() -> None:
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name != "sources"}
    assert set(fields) == {o.name for o in OPTIONS}
    defaults = Settings()
    for option in OPTIONS:
        assert getattr(defaults, option.name) == option.parse(option.default), option.name
