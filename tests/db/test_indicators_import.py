"""The county's data workbook against a real database: generated, filled, imported, the
same figures back; every row error found before anything is written; the sample data."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.core.access import Actor
from bot.indicators import certify, importing
from bot.indicators.data import load_county
from bot.indicators.questions import refresh_questions
from bot.indicators.template import county_book
from bot.reports.ledger import write_ledger
from bot.services import Services
from db.models import (
    FigurePart,
    IndicatorImport,
    Person,
    Question,
    Role,
    SchoolFigure,
    SchoolFigureChange,
)
from db.repositories import campaigns as campaigns_repo
from db.repositories.reports import EVERYTHING
from tests.conftest import DEFAULT_NOW, SHANGHAI
from tests.utils.indicators import fill_schools, sample_campaign, school_values


async def _count(services: Services, model: type) -> int:
    async with services.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def _template(services: Services) -> bytes:
    async with services.session() as s:
        data, year = await county_book(
            s, services.indicators.standards, services.texts, "zh",
            campaign_id=await certify.active_campaign_id(s), now=DEFAULT_NOW, zone=SHANGHAI)
    assert year == 2026  # November 2026 is in the school year that began in September
    return data


async def _office(services: Services) -> Actor:
    async with services.session() as s:
        person = (await s.execute(select(Person).where(Person.name == "周敏"))).scalar_one()
        return Actor(person.id, person.name, Role.ADMIN, "zh", person.unit_id, None)


FILLED: dict[tuple[str, str], dict[str, float | int]] = {
    ("石门镇中心小学", "小学"): {"students": 640, "teaching_area": 1984.5, "books": 5888,
                          "computers": 10, "teachers": 26},
    ("青岚县第一中学", "初中"): {"students": 1500, "teaching_area": 9300, "books": 42000,
                          "qualified_teachers": 112, "teachers": 118},
    ("白云乡九年一贯制学校", "小学部"): {"students": 260, "teachers": 24},
    ("白云乡九年一贯制学校", "初中部"): {"students": 180, "teachers": 19},
    ("白云乡九年一贯制学校", "全校"): {"teaching_area": 3650, "books": 12100},
}


async def test_template_round_trip_gives_back_the_same_figures(services: Services) -> None:
    await sample_campaign(services)
    template = await _template(services)
    filled = fill_schools(template, FILLED)
    office = await _office(services)
    async with services.session() as s:
        received = await importing.receive(
            s, services.indicators.standards, services.texts, office,
            campaign_id=await certify.active_campaign_id(s), data=filled, file_name="填好的.xlsx",
            data_dir=services.config.storage.data_dir, now=DEFAULT_NOW)
    assert received.preview.errors == ()
    assert received.preview.changed == sum(len(v) for v in FILLED.values())
    assert set(received.preview.new_levels) == {"石门镇中心小学", "青岚县第一中学",
                                                "白云乡九年一贯制学校"}
    assert received.pending_id is not None
    assert await _count(services, SchoolFigure) == 0  # nothing before the confirmation
    async with services.session() as s:
        result = await importing.confirm(s, services.indicators.standards, services.texts,
                                         office, received.pending_id, DEFAULT_NOW)
    assert result.changed == received.preview.changed

    async with services.session() as s:
        county = await load_county(s, services.indicators.standards,
                                   await certify.active_campaign_id(s))
    ids = {school.name: school.unit_id for school in county.schools}
    parts = {"小学": FigurePart.PRIMARY, "初中": FigurePart.JUNIOR, "小学部": FigurePart.PRIMARY,
             "初中部": FigurePart.JUNIOR, "全校": FigurePart.WHOLE}
    for (school, level), values in FILLED.items():
        stored = county.figures[(ids[school], parts[level])]
        assert stored == {k: Fraction(str(v)) for k, v in values.items()}, school
    # The nine-year school is read as its two parts, the shared floor area split between them.
    nine = {r.level.value: r for r in county.records_of(ids["白云乡九年一贯制学校"])}
    assert nine["primary"].students == 260 and nine["junior"].students == 180
    assert sum((r.resources["teaching_area"] for r in nine.values()), Fraction(0)) == 3650

    # The template now carries the figures: filled, imported, generated again — the same.
    again = await _template(services)
    assert {k: v for k, v in school_values(again).items() if v} == FILLED
    async with services.session() as s:
        received = await importing.receive(
            s, services.indicators.standards, services.texts, office,
            campaign_id=await certify.active_campaign_id(s), data=again, file_name="again.xlsx",
            data_dir=services.config.storage.data_dir, now=DEFAULT_NOW)
    assert received.preview.changed == 0 and received.pending_id is None


async def test_row_errors_are_all_named_and_nothing_is_written(services: Services) -> None:
    await sample_campaign(services)
    bad = fill_schools(await _template(services), {
        ("石门镇中心小学", "小学"): {"students": 640, "teaching_area": -5},
        ("青岚县实验小学", "小学"): {"students": 50, "teachers": 60},
        ("柳溪乡中心学校", "小学"): {"teaching_area": 3000},
        ("城北新区小学", "小学"): {"students": 100},
        ("白云乡九年一贯制学校", "小学部"): {"students": 260},
        ("青岚县第一中学", "初中"): {"students": 1500, "computers": 12.5},
        # Typed as text: full-width digits are read, another script's digits are not.
        ("石门镇马坪小学", "小学"): {"students": "８６"},
        ("白云乡岭上小学", "小学"): {"students": "٤٢"},
    })
    office = await _office(services)
    async with services.session() as s:
        received = await importing.receive(
            s, services.indicators.standards, services.texts, office,
            campaign_id=await certify.active_campaign_id(s), data=bad, file_name="bad.xlsx",
            data_dir=services.config.storage.data_dir, now=DEFAULT_NOW)
    assert received.pending_id is None
    found = {(e.message_id, e.params.get("school") or e.params.get("value"))
             for e in received.preview.errors}
    assert found >= {
        ("indicators.book.err_negative", "-5"),
        ("indicators.book.err_teachers_over", "青岚县实验小学"),
        ("indicators.book.err_no_students", "柳溪乡中心学校"),
        ("indicators.import.err_unknown_school", "城北新区小学"),
        ("indicators.import.err_both_parts", "白云乡九年一贯制学校"),
        ("indicators.book.err_not_whole", "12.5"),
        ("indicators.book.err_not_number", "٤٢"),
    }, received.preview.errors
    assert not any(e.params.get("school") == "石门镇马坪小学" for e in received.preview.errors)
    # Each error names the row the office must fix.
    negative = next(e for e in received.preview.errors
                    if e.message_id == "indicators.book.err_negative")
    book = load_workbook(io.BytesIO(bad), read_only=True)
    assert book[negative.sheet].cell(row=negative.row, column=1).value == "石门镇中心小学"
    assert await _count(services, SchoolFigure) == 0
    assert await _count(services, IndicatorImport) == 0
    text = "\n".join(services.texts.plain("zh", e.message_id, **e.params)
                     for e in received.preview.errors)
    assert "不能为负" in text and "多于在校生数" in text and "缺少在校生数" in text
    assert "不是已登记的学校" in text and "须同时填写小学部和初中部" in text


async def test_the_sample_data_gives_the_designed_picture(services: Services, tmp_path: Path
                                                          ) -> None:
    await sample_campaign(services)
    result = await services.indicators.load_sample()
    assert result.schools == 9 and result.survey == 6 and result.budgets == 4
    standards = services.indicators.standards
    async with services.session() as s:
        county = await load_county(s, standards, await certify.active_campaign_id(s))
        view = await certify.certification_view(s, standards, county, DEFAULT_NOW)
    assert view.status is not None
    primary = view.status.check("coefficient:primary:composite")
    assert primary.state.value == "not_met" and primary.value is not None
    assert round(float(primary.value), 4) == 0.6570
    assert view.status.check("coefficient:junior:composite").state.value == "met"
    assert view.status.check("veto:three_growths").state.value == "met"
    assert view.status.check("veto:satisfaction").state.value == "met"
    assert view.status.check("assessment:government_effort").value == 89
    # Tasks linked by the campaign file: the primary coefficient answers to indicator C1.
    by_key = {c.check.key: c for c in view.checks}
    linked = by_key["coefficient:primary:composite"].tasks
    assert linked is not None and linked.code == "C1"

    # The ledger: the data's problems as rows, and a sheet per standard set.
    path = tmp_path / "ledger.xlsx"
    async with services.session() as s:
        campaign = await campaigns_repo.active_campaign(session=s)
        assert campaign is not None
        await write_ledger(s, campaign=campaign, scope=EVERYTHING, now=DEFAULT_NOW, zone=SHANGHAI,
                           texts=services.texts, lang="zh", path=path)
    book = load_workbook(path, read_only=True)
    titles = book.sheetnames
    assert titles[2:] == ["指标数据1", "指标数据2", "指标数据3"]
    # 问题 is the ledger's third column, 完成情况 its tenth.
    problems = [row[2] for row in book[titles[0]].iter_rows(min_row=2, values_only=True)
                if row[9] == "待整改"]
    assert any("小学综合差异系数" in p for p in problems)
    short = [p for p in problems if "低于底线" in p]
    assert {p.split("（")[0] for p in short} == {"石门镇中心小学", "石门镇初级中学"}
    assert sum("自评" in p for p in problems) == 5

    # Questions from the county's own figures, with the figure as the right answer.
    async with services.session() as s:
        made = await refresh_questions(s, standards, await certify.active_campaign_id(s))
    assert made is not None and made.questions_updated > 0  # load_sample made them first
    async with services.session() as s:
        questions = {q.key: q for q in (await s.execute(select(Question))).scalars()}
    cv = questions["gen-ind-cv-primary-composite"]
    assert "小学综合差异系数是多少" in cv.text and cv.options[cv.correct[0]] == "0.66"
    books = questions["gen-ind-min-primary-books"]
    assert books.options[books.correct[0]] == "石门镇中心小学"
    assert cv.source == "indicators:2026"
    assert await _count(services, SchoolFigureChange) == result.changed
