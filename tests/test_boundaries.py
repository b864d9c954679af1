"""The package boundaries: ``recommender`` is a library on matrices that knows nothing of the
service, and the service's light modules do not load the numerical stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_recommender_library_imports_nothing_of_the_service_or_redis():
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "recommender").rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in {"backend", "redis", "flask"}
    }
    assert not offenders


def test_the_api_and_the_command_line_load_without_numpy():
    code = ("import sys, backend.api, backend.cli; "
            "heavy = sorted({'numpy', 'scipy', 'sklearn', 'implicit'} & set(sys.modules)); "
            "print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == ""
