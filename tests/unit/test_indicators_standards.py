"""Standard-set and scoring-sheet files: the shipped ones, and the errors a bad file gets."""

from __future__ import annotations

import ast
import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.indicators.library import load_library
from bot.indicators.records import Level
from bot.indicators.scoring import BUILTIN_SHEETS, load_sheet
from bot.indicators.standards import (
    BUILTIN_STANDARDS,
    CoefficientRule,
    SetKind,
    StandardFileError,
    load_standard_set,
)

BASIC_FILE = BUILTIN_STANDARDS / "basic-balance-2012.yaml"
SHEET_FILE = BUILTIN_SHEETS / "government-effort-basic-2012.yaml"


def raw(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "province.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(StandardFileError) as caught:
        load_standard_set(path)
    assert caught.value.file == path.name
    assert path.name in str(caught.value)
    return {p.key: p.problem for p in caught.value.problems}


def test_shipped_sets_load_and_name_their_source() -> None:
    library = load_library()
    assert set(library.sets) == {"basic-balance-2012", "quality-balance-2017"}
    for standard in library.sets.values():
        assert standard.source.title and standard.source.document
        assert standard.levels == (Level.PRIMARY, Level.JUNIOR)


def test_basic_set_has_the_eight_indicators_and_the_seed_004_vetoes() -> None:
    basic = load_library().standard("basic-balance-2012")
    assert basic.kind is SetKind.BASIC and basic.coefficient.rule is CoefficientRule.COMPOSITE
    assert [i.name for i in basic.indicators] == [
        "生均教学及辅助用房面积", "生均体育运动场馆面积", "生均教学仪器设备值", "每百名学生拥有计算机台数",
        "生均图书册数", "师生比", "生均高于规定学历教师数", "生均中级及以上专业技术职务教师数"]
    assert basic.indicator("computers").per == 100
    assert basic.indicator("teacher_ratio").resource.id == "teachers"
    assert basic.coefficient.max == {Level.PRIMARY: Fraction(65, 100), Level.JUNIOR: Fraction(55, 100)}
    assert len(basic.vetoes) == 8
    assert {a.id: a.pass_score for a in basic.assessments} == {
        "school_standards": 85, "government_effort": 85}
    assert basic.satisfaction is not None and basic.satisfaction.min_rate == Fraction(85, 100)


def test_quality_set_carries_the_2017_minimums() -> None:
    quality = load_library().standard("quality-balance-2017")
    figures = {i.id: (i.per, i.minimum[Level.PRIMARY], i.minimum[Level.JUNIOR])
               for i in quality.indicators}
    assert figures == {
        "qualified_teachers": (100, Fraction("4.2"), Fraction("5.3")),
        "backbone_teachers": (100, 1, 1),
        "pe_art_teachers": (100, Fraction("0.9"), Fraction("0.9")),
        "teaching_area": (1, Fraction("4.5"), Fraction("5.8")),
        "sports_area": (1, Fraction("7.5"), Fraction("10.2")),
        "equipment_value": (1, 2000, 2500),
        "multimedia_classrooms": (100, Fraction("2.3"), Fraction("2.4")),
    }
    assert quality.minimums is not None
    assert (quality.minimums.required_met, quality.minimums.floor) == (6, Fraction(85, 100))
    assert quality.coefficient.max == {Level.PRIMARY: Fraction(1, 2), Level.JUNIOR: Fraction(45, 100)}


def test_decimals_in_the_file_are_read_exactly(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    data["coefficient"]["max"]["primary"] = 0.1
    standard = load_standard_set(write(tmp_path, data))
    assert standard.coefficient.max[Level.PRIMARY] == Fraction(1, 10)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    data["indicators"][2]["weight"] = 2
    assert problems(write(tmp_path, data)) == {"indicators.2.weight": "unknown key"}


def test_missing_threshold_is_named(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    del data["coefficient"]["max"]["junior"]
    assert problems(write(tmp_path, data)) == {"coefficient.max.junior": "missing threshold for junior"}


def test_bad_level_is_named(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    data["levels"] = ["primary", "senior"]
    found = problems(write(tmp_path, data))
    assert list(found) == ["levels.1"]
    assert "primary" in found["levels.1"] and "junior" in found["levels.1"]


def test_problems_are_reported_together_shape_errors_first(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    data["indicators"][0]["resource"] = "classrooms"
    data["indicators"][1]["id"] = data["indicators"][0]["id"]
    data["vetoes"].append({"id": "x", "name": "x", "decided_by": "weather"})
    found = problems(write(tmp_path, data))
    assert set(found) == {"vetoes.8.decided_by"}  # shape errors come before cross-checks
    data["vetoes"].pop()
    found = problems(write(tmp_path, data))
    assert set(found) == {"indicators.0.resource", "indicators.1.id"}


def test_a_quality_set_needs_minimums_and_the_school_rule(tmp_path: Path) -> None:
    data = raw(BUILTIN_STANDARDS / "quality-balance-2017.yaml")
    del data["indicators"][3]["minimum"]["junior"]
    del data["school_minimums"]
    assert problems(write(tmp_path, data)) == {
        "indicators.3.minimum.junior": "missing minimum for junior",
        "school_minimums": "missing (a quality set needs the per-school rule)",
    }


def test_a_province_may_declare_its_own_resource(tmp_path: Path) -> None:
    data = raw(BUILTIN_STANDARDS / "quality-balance-2017.yaml")
    data["id"] = "quality-balance-province"
    data["resources"] = [{"id": "music_rooms", "name": "音乐专用教室", "unit": "间", "shared": True}]
    data["indicators"].append({"id": "music_rooms", "name": "每百名学生拥有音乐专用教室数",
                               "resource": "music_rooms", "per": 100, "unit": "间",
                               "minimum": {"primary": 0.5, "junior": 0.5}})
    standard = load_standard_set(write(tmp_path, data))
    assert standard.indicator("music_rooms").resource.name == "音乐专用教室"


def test_a_veto_decided_by_data_needs_its_threshold(tmp_path: Path) -> None:
    data = raw(BASIC_FILE)
    del data["core_standards"]
    assert problems(write(tmp_path, data)) == {
        "vetoes.7.decided_by": "needs the core_standards section for its threshold"}


def test_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nlevels: [primary\n", encoding="utf-8")
    found = problems(path)
    assert next(iter(found)).startswith("line ")


def test_sheet_points_must_add_up(tmp_path: Path) -> None:
    data = raw(SHEET_FILE)
    data["sections"][0]["items"][0]["points"] = 6
    path = write(tmp_path, data, "sheet.yaml")
    with pytest.raises(StandardFileError) as caught:
        load_sheet(path)
    assert {p.key for p in caught.value.problems} == {"total"}


def test_sheet_deduction_needs_points_or_all(tmp_path: Path) -> None:
    data = raw(SHEET_FILE)
    data["sections"][0]["items"][0]["deductions"][0] = {"id": "x", "text": "x"}
    with pytest.raises(StandardFileError) as caught:
        load_sheet(write(tmp_path, data, "sheet.yaml"))
    assert [p.key for p in caught.value.problems] == ["sections.0.items.0.deductions.0"]


def test_library_checks_sheet_references(tmp_path: Path) -> None:
    (tmp_path / "standards").mkdir()
    (tmp_path / "sheets").mkdir()
    data = copy.deepcopy(raw(BASIC_FILE))
    data["assessments"][1]["sheet"] = "no-such-sheet"
    write(tmp_path / "standards", data, "basic.yaml")
    with pytest.raises(StandardFileError) as caught:
        load_library(tmp_path / "standards", tmp_path / "sheets")
    assert [p.key for p in caught.value.problems] == ["assessments.1.sheet"]


# The pure core: computed from plain records. The feature's services around it (data,
# importing, certify, schools, planning, …) read and write the database.
CORE_MODULES = ("balance", "certification", "formatting", "funding", "library", "names",
                "numbers", "parsing", "planner", "records", "satisfaction", "scoring", "status",
                "whatif", "standards/__init__")


def test_the_indicator_core_imports_no_telegram_handlers_or_database() -> None:
    package = Path(__file__).resolve().parents[2] / "bot" / "indicators"
    forbidden = ("telegram", "handlers", "db", "sqlalchemy")
    for path in (package / f"{name}.py" for name in CORE_MODULES):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_every_error_the_core_raises_has_a_text_with_its_parameters() -> None:
    import string

    from bot.texts import load_catalog

    package = Path(__file__).resolve().parents[2] / "bot" / "indicators"
    catalog = load_catalog("zh")
    raised = 0
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value.startswith("indicators.")):
                continue
            message_id = node.args[0].value
            raised += 1
            assert message_id in catalog, f"{path.name}: {message_id} has no text"
            fields = {name for _, name, _, _ in string.Formatter().parse(catalog[message_id]) if name}
            assert fields <= {k.arg for k in node.keywords}, f"{message_id} in {path.name}"
    assert raised >= 20
