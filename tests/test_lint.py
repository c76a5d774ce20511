"""House style is checked, not hoped for: ruff (config in pyproject.toml) on the whole tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# A function longer than this (its docstring not counted) must say why it is long: the word
# "long" (as in "Longer than most functions because ...") or "over N lines" in its docstring
# or a comment of its own lines. Kernels are held to it too: theirs say why their day loops
# stay in one piece.
MAX_FUNCTION_LINES = 60


def _long_functions_without_a_reason(path: Path) -> list[str]:
    import ast
    import re

    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        length = node.end_lineno - first + 1
        body = node.body[0]
        docstring = ast.get_docstring(node) or ""
        if isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) and docstring:
            length -= body.end_lineno - body.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        comments = " ".join(line.split("#", 1)[1] for line in lines[first - 1:node.end_lineno]
                            if "#" in line)
        if not re.search(r"\blong|over \d+ lines", (docstring + comments).lower()):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_the_long_function_check_finds_one(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    quiet = tmp_path / "quiet.py"
    quiet.write_text(f'def f():\n    """Does things."""\n{body}')
    explained = tmp_path / "explained.py"
    explained.write_text(f'def f():\n    """Longer than most: one table."""\n{body}')
    short = tmp_path / "short.py"
    short.write_text('def f():\n    """Does things."""\n' + body.split("\n", 1)[1])
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_long_functions_without_a_reason(quiet)) == 1
        assert _long_functions_without_a_reason(explained) == []
        assert _long_functions_without_a_reason(short) == []
    finally:
        ROOT = saved


def test_no_function_is_much_over_60_lines_without_saying_why() -> None:
    offenders = [found for package in ("fleetcalc", "tui", "kernels")
                 for path in sorted((ROOT / package).rglob("*.py"))
                 for found in _long_functions_without_a_reason(path)]
    assert not offenders, f"long functions that do not say why: {offenders}"
