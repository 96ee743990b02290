from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.arguments import Words
from bot.core.errors import InvalidInput
from bot.core.parsing import as_deadline, parse_date, parse_deadline, parse_percent, parse_task_id
from bot.core.roster import nearest_names

ZONE = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(17, 30)


@pytest.mark.parametrize(
    "text",
    ["2026-12-15", "2026/12/15", "2026.12.15", "2026年12月15日", "2026年12月15", "20261215",
     " 2026-12-15 "],
)
def test_dates_in_the_forms_people_write(text: str) -> None:
    assert parse_date(text) == date(2026, 12, 15)


@pytest.mark.parametrize("text", ["", "12月15日", "2026-13-01", "2026-02-30", "明天", "15/12/2026"])
def test_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_date(text)
    assert err.value.message_id == "error.bad_date"


def test_bare_date_means_end_of_office_day_local() -> None:
    due = parse_deadline("2026-12-15", ZONE, END_OF_DAY)
    assert due == datetime(2026, 12, 15, 17, 30, tzinfo=ZONE)
    assert due.utcoffset() is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-12-15 09:05", time(9, 5)), ("2026-12-15T23:59", time(23, 59)),
     ("2026-12-15 8：30", time(8, 30))],
)
def test_date_with_time(text: str, expected: time) -> None:
    assert parse_deadline(text, ZONE, END_OF_DAY).timetz().replace(tzinfo=None) == expected


@pytest.mark.parametrize("text", ["2026-12-15 25:00", "2026-12-15 9", "2026-12-15 noon"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_deadline(text, ZONE, END_OF_DAY)


def test_spreadsheet_cells() -> None:
    assert as_deadline(date(2026, 12, 1), ZONE, END_OF_DAY) == datetime(2026, 12, 1, 17, 30, tzinfo=ZONE)
    midnight = datetime(2026, 12, 1)
    assert as_deadline(midnight, ZONE, END_OF_DAY).hour == 17
    assert as_deadline(datetime(2026, 12, 1, 9, 0), ZONE, END_OF_DAY).hour == 9
    assert as_deadline("2026/12/01", ZONE, END_OF_DAY).day == 1


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("60", 60), ("100%", 100), ("75％", 75)])
def test_percent(text: str, value: int) -> None:
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["-1", "101", "abc", "", "50.5"])
def test_bad_percent(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_percent(text)


def test_task_ids() -> None:
    assert parse_task_id("#12") == 12
    assert parse_task_id("12") == 12
    with pytest.raises(InvalidInput):
        parse_task_id("十二")


@pytest.mark.parametrize("text", ["²", "٣", "1²", "99999999999999999999999", "2147483648", "0",
                                  "-1", "+1", "1.0", " ", "#", "一"])
def test_task_ids_are_ascii_digits_in_range(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_task_id(text)
    assert err.value.message_id == "error.bad_task_id"


def test_full_width_digits_are_folded() -> None:
    assert parse_task_id("＃１２") == 12
    assert parse_percent("８０％") == 80
    assert parse_date("２０２６年１２月１５日") == date(2026, 12, 15)


@pytest.mark.parametrize("text", ["²", "1²", "٥٠", "1000", "100000000000000000000"])
def test_percent_is_ascii_and_in_range(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_percent(text)
    assert err.value.message_id == "error.progress_range"


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_dates_far_outside_a_campaign_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_deadline(text, ZONE, END_OF_DAY)
    assert err.value.message_id == "error.date_range"


def test_unicode_digits_are_not_a_date() -> None:
    with pytest.raises(InvalidInput):
        parse_date("٢٠٢٦-١٢-١٥")


@pytest.mark.parametrize(
    ("typed", "roster", "offered"),
    [
        ("教育局", ["县教育局", "县财政局", "城关镇中心小学"], ["县教育局"]),
        ("县教肓局", ["县财政局", "县教育局", "迎检办"], ["县教育局"]),
        ("王小明", ["王晓明", "王明"], ["王明", "王晓明"]),
        ("李 四", ["张三", "李四", "王五"], ["李四"]),
        ("县人社局", ["城关镇中心小学", "迎检办"], []),
        ("县教育局", ["县教育局"], []),  # the same name is found, not suggested
    ],
)
def test_the_nearest_names_on_the_roster(typed: str, roster: list[str],
                                          offered: list[str]) -> None:
    assert nearest_names(typed, roster) == offered


def test_a_commands_words_in_either_language() -> None:
    words = Words({"week": ("本周", "周"), "all": ("总体", "全部")})
    assert [words.canonical(w) for w in ("week", "WEEK", " 本周 ", "周", "总体", "all")] == [
        "week", "week", "week", "week", "all", "all"]
    assert words.canonical("month") is None and words.canonical("") is None
    assert words.listing("zh", "、") == "本周（week）、总体（all）"
    assert words.listing("en", ", ") == "week (本周), all (总体)"
    with pytest.raises(ValueError, match="would mean both"):
        Words({"on": ("开",), "off": ("开",)})
