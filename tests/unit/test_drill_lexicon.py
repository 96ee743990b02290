"""The synonyms file: what it accepts, and how the office's own list extends the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.quiz.drill import score_answer
from bot.quiz.lexicon import LexiconError, load_lexicon, parse_lexicon, shipped


def test_the_shipped_list_loads() -> None:
    lexicon = shipped()
    assert lexicon.canonical("老师队伍") == "教师队伍"
    assert lexicon.canonical("省政府") == "省级人民政府"
    assert lexicon.canonical("县政府") == "县级人民政府"
    assert lexicon.canonical("弄虚造假") == "弄虚作假"  # one match, not 弄虚 + 造假
    assert lexicon.canonical("教学质量") == "教学质量"
    assert lexicon.canonical("教学质量", "q022") == "教育质量"


def test_the_office_adds_its_own_words(tmp_path: Path) -> None:
    extra = tmp_path / "ours.yaml"
    extra.write_text("synonyms:\n  - [控辍保学, 劝返复学]\n", encoding="utf-8")
    lexicon = load_lexicon(extra)
    assert score_answer("我们抓劝返复学。", ["控辍保学"], lexicon=lexicon).score == 1.0
    assert score_answer("我们抓劝返复学。", ["控辍保学"]).score == 0.0
    # The shipped words are still there.
    assert lexicon.canonical("老师") == "教师"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("synonyms: [[只有一个]]", "at least two"),
        ("synonyms:\n  - [甲, 乙]\n  - [乙, 丙]\n", "two groups"),
        ("words: [甲, 乙]", "unknown section"),
        ("synonyms: [甲", "not valid YAML"),
        ("- 甲\n- 乙", "expected a mapping"),
    ],
)
def test_a_broken_file_says_what_is_wrong(content: str, problem: str) -> None:
    with pytest.raises(LexiconError, match=problem):
        parse_lexicon(content, "ours.yaml")


def test_the_office_cannot_rewrite_a_shipped_word(tmp_path: Path) -> None:
    extra = tmp_path / "ours.yaml"
    extra.write_text("synonyms:\n  - [县级人民政府, 省级人民政府]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="two groups"):
        load_lexicon(extra)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"missing\.yaml"):
        load_lexicon(tmp_path / "missing.yaml")
