"""A standard-set or scoring-sheet file as text: YAML read with exact decimals, every problem
found reported with the file and the key it is about, and the field types both kinds of
file share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.errors import InvalidInput


@dataclass(frozen=True)
class FileProblem:
    key: str
    problem: str


class StandardFileError(InvalidInput):
    """A standard-set or scoring-sheet file that cannot be used, with every problem found."""

    def __init__(self, path: Path | str, problems: Sequence[FileProblem]) -> None:
        self.file = Path(path).name
        self.problems = tuple(problems)
        super().__init__("indicators.standard.invalid", file=self.file,
                         problems="; ".join(f"{p.key}: {p.problem}" for p in self.problems))

    def __str__(self) -> str:
        return f"{self.file}: " + "; ".join(f"{p.key}: {p.problem}" for p in self.problems)


class _DecimalLoader(yaml.SafeLoader):
    """Reads 0.65 as Decimal("0.65"), never as the float 0.65000000000000002."""


def _decimal(loader: _DecimalLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping, or StandardFileError naming what went wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StandardFileError(path, [FileProblem("(file)", f"cannot be read: {exc.strerror}")]) from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path | str = "(memory)") -> dict[str, Any]:
    """A file's text as its top-level mapping, numbers as exact decimals."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise StandardFileError(path, [FileProblem(where, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise StandardFileError(path, [FileProblem("(file)", "the top level must be a mapping")])
    return data


def problems_of(exc: ValidationError) -> list[FileProblem]:
    found = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(file)"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "missing"
        else:
            message = error["msg"]
        found.append(FileProblem(key, message))
    return found


# The fields both kinds of file use -------------------------------------------------------
Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Positive = Annotated[Decimal, Field(gt=0)]
Rate = Annotated[Decimal, Field(gt=0, le=1)]


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceModel(FileModel):
    title: Text
    document: str = ""
    issued: str = ""
    seed: str = ""
    url: str = ""
    notes: str = ""
