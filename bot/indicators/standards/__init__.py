"""Standard sets as data: which indicators, how each is defined, the thresholds and the
veto items, read from a versioned YAML file that names its source.

The national sets ship in `standards/`; a province's own set is a file of the same shape.
Loading checks everything at once and reports every problem with the file and the key it
is about, so a file is fixed in one pass.

This package's face is what the rest of the code uses; inside it, `sets` is the set as the
code sees it, `files` reading a file and reporting its problems, `schema` the file's shape
and `loading` the checks across fields and the building of a set.
"""

from __future__ import annotations

from pathlib import Path

from bot.indicators.standards.files import FileProblem, StandardFileError, parse_yaml, read_yaml
from bot.indicators.standards.loading import build_standard_set, load_standard_set
from bot.indicators.standards.sets import (
    AssessmentDef,
    CoefficientRule,
    CoefficientStandard,
    CoreStandards,
    IndicatorDef,
    MinimumRule,
    SatisfactionStandard,
    SetKind,
    Source,
    StandardSet,
    VetoData,
    VetoItem,
)

BUILTIN_STANDARDS = Path(__file__).resolve().parent

__all__ = [
    "BUILTIN_STANDARDS",
    "AssessmentDef",
    "CoefficientRule",
    "CoefficientStandard",
    "CoreStandards",
    "FileProblem",
    "IndicatorDef",
    "MinimumRule",
    "SatisfactionStandard",
    "SetKind",
    "Source",
    "StandardFileError",
    "StandardSet",
    "VetoData",
    "VetoItem",
    "build_standard_set",
    "load_standard_set",
    "parse_yaml",
    "read_yaml",
]
