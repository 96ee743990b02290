"""What people type into /whatif and /school: schools, figures, signs, numbers and units,
and a clear error naming what was not understood."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.core.errors import InvalidInput
from bot.indicators.names import Vocabulary, resources_of
from bot.indicators.parsing import SchoolName, parse_changes, parse_corrections
from bot.indicators.records import Level
from bot.indicators.workbook import read_book
from bot.texts import Texts
from tests.unit.indicator_factories import library

SCHOOLS = [
    SchoolName(1, "石门镇中心小学", (Level.PRIMARY,)),
    SchoolName(2, "青岚县实验小学", (Level.PRIMARY,)),
    SchoolName(3, "白云乡九年一贯制学校", (Level.PRIMARY, Level.JUNIOR)),
    SchoolName(4, "青岚县第一中学", (Level.JUNIOR,)),
]


def _vocabulary() -> Vocabulary:
    standard = library().standard("basic-balance-2012")
    return Vocabulary(standard, resources_of(library().sets.values()))


def _changes(text: str) -> list[tuple[int, Level | None, str, Decimal, str | None]]:
    return [(r.unit_id, r.level, r.resource.id, r.amount, r.indicator)
            for r in parse_changes(text, _vocabulary(), SCHOOLS)]


P, J = Level.PRIMARY, Level.JUNIOR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The issue's own example, with spaces as a person types it.
        ("石门镇中心小学 教学及辅助用房 +300 计算机 +20",
         [(1, P, "teaching_area", Decimal(300), None), (1, P, "computers", Decimal(20), None)]),
        # No spaces, units after the numbers, full names of the figures.
        ("石门镇中心小学教学及辅助用房面积+300m²计算机台数+20台",
         [(1, P, "teaching_area", Decimal(300), None), (1, P, "computers", Decimal(20), None)]),
        # English names, a thousands separator, no sign (a what-if adds).
        ("石门镇中心小学 books +1,200 computers 20",
         [(1, P, "books", Decimal(1200), None), (1, P, "computers", Decimal(20), None)]),
        # 万元 is ten thousand 元; full-width digits and signs.
        ("石门镇中心小学 仪器设备 ＋５万元", [(1, P, "equipment_value", Decimal(50000), None)]),
        # Words for the sign, and a second school after a Chinese semicolon.
        ("石门镇中心小学 图书 减少 200；青岚县实验小学 计算机 增加 16台",
         [(1, P, "books", Decimal(-200), None), (2, P, "computers", Decimal(16), None)]),
        # A nine-year school: its part for teachers; what the parts share needs none.
        ("白云乡九年一贯制学校 初中部 专任教师 +3 图书 +500",
         [(3, J, "teachers", Decimal(3), None), (3, J, "books", Decimal(500), None)]),
        ("白云乡九年一贯制学校 运动场 +800平方米", [(3, None, "sports_area", Decimal(800), None)]),
        # An indicator's name: the number is a value per student.
        ("石门镇中心小学 生均图书册数 +5", [(1, P, "books", Decimal(5), "books")]),
        ("青岚县第一中学 teachers +2.0 enrolment -40",
         [(4, J, "teachers", Decimal("2.0"), None), (4, J, "students", Decimal(-40), None)]),
    ],
)
def test_changes_are_read(text: str, expected: list[tuple[object, ...]]) -> None:
    assert _changes(text) == expected


@pytest.mark.parametrize(
    ("text", "message_id", "named"),
    [
        ("", "indicators.parse.empty", None),
        ("  ；", "indicators.parse.empty", None),
        ("石门镇中心小学", "indicators.parse.no_change", "石门镇中心小学"),
        ("石门镇中心小学 青岚县实验小学 图书 +3", "indicators.parse.no_change", "石门镇中心小学"),
        ("图书 +300", "indicators.parse.no_school", "图书"),
        ("石门镇中心小学 图书", "indicators.parse.no_number", "图书"),
        ("石门镇中心小学 图书 +300m²", "indicators.parse.bad_unit", "m²"),
        ("石门镇中心小学 计算机 +3万元", "indicators.parse.bad_unit", "万元"),
        ("石门镇中心小学 黄金 +3", "indicators.parse.unknown_name", "黄金"),
        ("石门镇中小学 图书 +3", "indicators.parse.unknown_name_hint", "石门镇中心小学"),
        ("白云乡九年一贯制学校 专任教师 +3", "indicators.parse.level_needed", "专任教师"),
        ("青岚县实验小学 初中部 图书 +3", "indicators.parse.no_such_part", "初中"),
        ("石门镇中心小学 图书 +0", "indicators.parse.zero", "图书"),
        # Digits of other scripts are not numbers (full-width ones are, folded first).
        ("石门镇中心小学 图书 +٣٠٠", "indicators.parse.no_number", "图书"),
        ("石门镇中心小学 图书 +३००", "indicators.parse.no_number", "图书"),
    ],
)
def test_bad_input_gets_an_error_that_names_the_problem(text: str, message_id: str,
                                                       named: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_changes(text, _vocabulary(), SCHOOLS)
    assert caught.value.message_id == message_id
    texts = Texts.load()
    for lang in ("zh", "en"):
        message = texts.plain(lang, message_id, **caught.value.params)
        assert "{" not in message
        if named is not None:
            assert named in message, message


def test_a_correction_sets_figures_of_the_default_school() -> None:
    default = SCHOOLS[0]
    found = parse_corrections("图书 12000 计算机 30台", _vocabulary(), SCHOOLS, default)
    assert [(r.unit_id, r.resource.id, r.amount) for r in found] == [
        (1, "books", Decimal(12000)), (1, "computers", Decimal(30))]
    with pytest.raises(InvalidInput) as caught:
        parse_corrections("图书 -5", _vocabulary(), SCHOOLS, default)
    assert caught.value.message_id == "indicators.parse.negative"
    with pytest.raises(InvalidInput) as caught:
        parse_corrections("图书 500", _vocabulary(), SCHOOLS, None)
    assert caught.value.message_id == "indicators.parse.no_school"


# Whatever is typed: the parsers answer with figures or their own refusal, nothing else.
_TRICKY = ("0123456789０１２３４５６７８９²³٣३+-−＋,.，；; 万元m²㎡台册人间"
           "石门镇中心小学白云乡九年一贯制学校初中部图书计算机教学及辅助用房生均图书册数books")
_typed = st.text(alphabet=st.sampled_from(_TRICKY), max_size=40) | st.text(max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_typed)
def test_what_if_input_of_anything_is_read_or_refused(text: str) -> None:
    vocabulary = _vocabulary()
    for corrections in (False, True):
        try:
            found = (parse_corrections(text, vocabulary, SCHOOLS, SCHOOLS[0]) if corrections
                     else parse_changes(text, vocabulary, SCHOOLS))
        except InvalidInput:
            continue
        assert found
        for item in found:
            assert item.amount.is_finite() and item.unit_id in {s.unit_id for s in SCHOOLS}
            assert all(ch in "0123456789.-" for ch in str(item.amount))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=False, allow_infinity=False),
                 # What a worksheet can hold: no control characters.
                 st.text(alphabet=st.sampled_from(_TRICKY), max_size=24)
                 | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=24)))
def test_a_workbook_cell_of_anything_is_a_figure_or_a_row_error(value: object) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "学校数据"
    sheet.cell(row=1, column=1, value="青岚县 2026 学年")
    sheet.cell(row=3, column=1, value="学校")
    sheet.cell(row=3, column=3, value="在校生数（人）")
    sheet.cell(row=3, column=4, value="图书（册）")
    sheet.cell(row=4, column=1, value="石门镇中心小学")
    sheet.cell(row=4, column=2, value="小学")
    sheet.cell(row=4, column=3, value=640)
    sheet.cell(row=4, column=4, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    read = read_book(Texts.load(), buffer.getvalue(), resources_of(library().sets.values()), [])
    books = read.schools[0].amounts.get("books") if read.schools else None
    if books is None:
        return  # blank, or refused with a row error
    assert books.is_finite() and books >= 0 and books == books.to_integral_value()
    assert not read.errors
