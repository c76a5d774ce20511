"""Layering: tui -> fleetcalc -> kernels, checked by import-linter and in a fresh interpreter."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return set(json.loads(out.stdout))


def test_import_fleetcalc_is_cheap() -> None:
    loaded = _modules_after("import fleetcalc")
    for heavy in ("numba", "polars", "textual", "numpy", "rich", "kernels"):
        assert heavy not in loaded, f"`import fleetcalc` pulls in {heavy}"


def test_every_public_name_is_listed_and_resolves() -> None:
    import fleetcalc

    assert set(fleetcalc.__all__) <= set(dir(fleetcalc))
    for name in fleetcalc.__all__:
        value = getattr(fleetcalc, name)
        # Lazy names come from the module that defines them, under the same name.
        assert getattr(value, "__name__", name) == name
    with pytest.raises(AttributeError, match="no_such_name"):
        fleetcalc.no_such_name  # noqa: B018


def test_headless_modules_never_import_textual() -> None:
    loaded = _modules_after(
        "import fleetcalc.engine, fleetcalc.cli, fleetcalc.batch, fleetcalc.plan, "
        "fleetcalc.scenario, fleetcalc.network, fleetcalc.tariffs, fleetcalc.catalog, "
        "fleetcalc.optimize, fleetcalc.candidates, fleetcalc.optimize_cli, fleetcalc.rank, "
        "fleetcalc.rank_cli, fleetcalc.sensitivity, fleetcalc.sensitivity_cli, "
        "fleetcalc.sensitivity_view, fleetcalc.variation, fleetcalc.sites"
    )
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "textual_plotext", "tui")}


def test_the_tui_does_not_import_the_command_line() -> None:
    # Labels and number formats come from fleetcalc.metrics; only the console script
    # (tui/cli.py) hands subcommands to fleetcalc.cli.
    loaded = _modules_after("import tui.app")
    assert "fleetcalc.cli" not in loaded
    offenders = [path.name for path in (ROOT / "tui").rglob("*.py")
                 if path.name != "cli.py" and "fleetcalc.cli" in path.read_text()]
    assert not offenders, f"these TUI modules name fleetcalc.cli: {offenders}"


def test_kernels_import_only_numpy_and_numba() -> None:
    loaded = _modules_after("import kernels.rigdays, kernels.reference, kernels.rng")
    assert not {m for m in loaded if m.split(".")[0] in ("polars", "textual", "fleetcalc")}


def test_only_the_engine_imports_jitted_kernels() -> None:
    offenders = []
    for path in (ROOT / "fleetcalc").rglob("*.py"):
        text = path.read_text()
        if path.name != "engine.py" and "_nb" in text and "from kernels" in text:
            offenders.append(path.name)
    assert not offenders, f"only engine.py may call jitted kernels: {offenders}"


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint_imports).exists():
        pytest.fail("import-linter is part of the test extra; install it with .[test]")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the module graph, read from the source with ``ast`` ----------------------------------

PACKAGES = ("fleetcalc", "kernels", "tui")
# Private modules another module may import from: the one home of every Numba option.
ALLOWED_PRIVATE_MODULES = frozenset({"kernels._jit"})


def _module_files() -> dict[str, Path]:
    """Every module of the three packages by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _module_files()


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """Statements under ``if TYPE_CHECKING:``: never run, so never part of the import graph."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
                "TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for statement in node.body:
                skipped.update(ast.walk(statement))
    return skipped


Import = tuple[int, str, str | None, str]


def _imports(module: str) -> list[Import]:
    """(line, imported module, imported name or None, local name) for every import a module
    runs, at the top or inside a function (a lazy import is still an edge: the old plan <->
    fleet cycle was one). ``from a import b`` names module ``a.b`` when that is one of ours."""
    tree = ast.parse(MODULES[module].read_text())
    skipped = _type_checking_only(tree)
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            # ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c`` to ``a.b``.
            found.extend((node.lineno, alias.name, None, alias.asname or alias.name.split(".")[0])
                         for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                local = alias.asname or alias.name
                if submodule in MODULES:
                    found.append((node.lineno, submodule, None, local))
                else:
                    found.append((node.lineno, base, alias.name, local))
    return found


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for module in MODULES:
        for _, target, _, _ in _imports(module):
            # ``import a.b.c`` runs a.b.c; keep the longest prefix that is one of ours.
            parts = target.split(".")
            while parts and ".".join(parts) not in MODULES:
                parts.pop()
            if parts and ".".join(parts) != module:
                graph[module].add(".".join(parts))
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), as sorted lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    graph = _import_graph()
    assert "kernels._jit" in graph["kernels.chain"], "the import reader is broken"
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


def _private_uses(module: str) -> list[str]:
    """Another module's private names this module reaches: ``from x import _y``, a private
    module in the path, or ``x._y`` on a module it imported."""
    uses = []
    module_names: dict[str, str] = {}  # local name -> module it is bound to
    for line, target, name, local in _imports(module):
        if target.split(".")[0] not in PACKAGES:
            continue
        parts = target.split(".")
        for i, part in enumerate(parts):
            prefix = ".".join(parts[: i + 1])
            if _is_private(part) and prefix not in ALLOWED_PRIVATE_MODULES:
                uses.append(f"line {line}: module {prefix}")
        if name is not None and _is_private(name):
            uses.append(f"line {line}: {target}.{name}")
        if name is None:  # a module object bound to ``local``
            module_names[local] = target if local != parts[0] else parts[0]
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        chain = []
        value: ast.expr = node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in module_names:
            owner = ".".join([module_names[value.id], *reversed(chain)])
            if owner.split(".")[0] in PACKAGES and owner != module:
                uses.append(f"line {node.lineno}: {owner}.{node.attr}")
    return uses


def test_private_name_finder_finds_each_form(tmp_path: Path) -> None:
    source = ("import fleetcalc.plan\nimport fleetcalc.scenario as sc\n"
              "from fleetcalc import validate\nfrom fleetcalc.batch import _grid\n"
              "from kernels._jit import jit\nfrom kernels import _jit\n"
              "def f():\n    return fleetcalc.plan._SITE, sc._BTC, validate._convert, "
              "sc.__name__\n")
    fake = "fleetcalc.zz_private_probe"
    MODULES[fake] = tmp_path / "zz_private_probe.py"
    MODULES[fake].write_text(source)
    try:
        uses = _private_uses(fake)
    finally:
        del MODULES[fake]
    assert uses == ["line 4: fleetcalc.batch._grid", "line 8: fleetcalc.plan._SITE",
                    "line 8: fleetcalc.scenario._BTC", "line 8: fleetcalc.validate._convert"], uses


def test_no_module_imports_another_modules_private_name() -> None:
    offenders = {module: uses for module in MODULES if (uses := _private_uses(module))}
    assert not offenders, f"private names used across modules: {offenders}"


def test_protocol_module_is_plain_python() -> None:
    loaded = _modules_after("import kernels.protocol")
    assert not {m for m in loaded if m.split(".")[0] in ("numba", "numpy", "fleetcalc")}


def test_protocol_constants_are_declared_once() -> None:
    """No other module assigns a name of ``kernels.protocol`` at its top level: a second
    ``HALVING_BLOCKS = 210_000`` could drift from the first."""
    protocol = ast.parse(MODULES["kernels.protocol"].read_text())
    names = {target.id for node in protocol.body if isinstance(node, ast.Assign)
             for target in node.targets if isinstance(target, ast.Name)}
    assert {"HALVING_BLOCKS", "RETARGET_BLOCKS", "HASHES_PER_DIFFICULTY"} <= names
    again = {}
    for module, path in MODULES.items():
        if module == "kernels.protocol":
            continue
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) else [])
            clash = {t.id for t in targets if isinstance(t, ast.Name)} & names
            if clash:
                again[module] = sorted(clash)
    assert not again, f"protocol constants declared again: {again}"
