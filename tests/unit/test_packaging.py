"""The distribution installs editable only, so its generic top-level names stay in its venv."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _backend() -> ModuleType:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    (path,) = build["backend-path"]
    spec = importlib.util.spec_from_file_location(
        build["build-backend"], ROOT / path / f"{build['build-backend']}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_regular_wheel_is_refused_with_the_reason(tmp_path: Path) -> None:
    backend = _backend()
    with pytest.raises(backend.WheelRefused, match="bot, handlers, db and sandbox"):
        backend.build_wheel(str(tmp_path))
    with pytest.raises(backend.WheelRefused):
        backend.get_requires_for_build_wheel()


def test_editable_installs_and_source_archives_are_setuptools_own() -> None:
    backend = _backend()
    for hook in ("build_editable", "build_sdist", "prepare_metadata_for_build_editable"):
        assert getattr(backend, hook).__module__ == "setuptools.build_meta"
