"""Build backend: setuptools for editable installs and source archives, never a wheel.

The layers of the bot are the top-level packages `bot`, `handlers`, `db` and `sandbox`.
A regular wheel would copy those generic names into site-packages, where another
distribution's `db` or `bot` package would overwrite them or be overwritten. The bot is
deployed from a checkout into its own virtual environment (`make install`, see
docs/deploy.md), which needs only an editable install: a path entry in that environment,
with nothing copied.
"""

from __future__ import annotations

from typing import Any

from setuptools.build_meta import (
    build_editable,
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

REFUSAL = (
    "inspectbot is installed from a checkout into its own virtual environment "
    "(`make install`, or `pip install -e .`): a wheel would put its top-level packages "
    "bot, handlers, db and sandbox into site-packages, where they clash with other "
    "distributions of the same names."
)


class WheelRefused(RuntimeError):
    """A regular (non-editable) wheel was asked for."""


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    raise WheelRefused(REFUSAL)


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    raise WheelRefused(REFUSAL)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    raise WheelRefused(REFUSAL)

