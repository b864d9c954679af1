"""The installed package holds every module of the product (``pyproject.toml`` lists its
packages by name)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_product_package_is_listed_for_installation():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {str(init.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("backend", "recommender") for init in (ROOT / top).rglob("__init__.py")}
    assert on_disk == listed
