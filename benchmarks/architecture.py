"""The package's shape in figures: modules at the top level and in all, import cycles,
and the modules whose own imports load pytest. Give another checkout's package folder
to compare (e.g. a worktree of an older commit).

    python benchmarks/architecture.py [PATH/TO/pytest_llmjudge]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import import_graph  # noqa: E402


def main(package: Path) -> None:
    modules = import_graph.read_package(package)
    top = sorted(p.name for p in package.glob("*.py"))
    loading = sorted(name for name in modules if import_graph.loads(modules, name, "pytest"))
    cycles = import_graph.cycles(modules)
    private = sorted((name, target, n) for name, module in modules.items()
                     for target, n in module.private_names)
    print(f"package: {package}")
    print(f"modules: {len(modules)} in all, {len(top)} .py files at the top level")
    print(f"import cycles: {len(cycles)}")
    for cycle in cycles:
        print("  " + " <-> ".join(cycle))
    print(f"modules whose own imports load pytest: {len(loading)}")
    print(f"underscored names imported across modules: {len(private)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pytest_llmjudge")
