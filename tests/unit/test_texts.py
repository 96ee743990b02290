from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.texts import LANGUAGES, Label, Markup, Texts, load_catalog


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_the_same_ids_and_placeholders() -> None:
    catalogs = {lang: load_catalog(lang) for lang in LANGUAGES}
    zh, en = catalogs["zh"], catalogs["en"]
    assert set(zh) == set(en), set(zh) ^ set(en)
    mismatched = {k for k in zh if _fields(zh[k]) != _fields(en[k])}
    assert not mismatched


def test_parameters_are_escaped_but_markup_is_not() -> None:
    texts = Texts({"zh": {"x": "<b>{a}</b> {b}"}, "en": {}})
    assert texts.get("zh", "x", a="<i>&", b=Markup("<i>ok</i>")) == "<b>&lt;i&gt;&amp;</b> <i>ok</i>"
    assert texts.plain("zh", "x", a="<i>", b="") == "<b><i></b> "


def test_english_falls_back_to_chinese_and_unknown_ids_fail() -> None:
    texts = Texts({"zh": {"only": "仅中文"}, "en": {}})
    assert texts.get("en", "only") == "仅中文"
    assert texts.get("fr", "only") == "仅中文"
    with pytest.raises(KeyError):
        texts.get("zh", "missing")


def test_a_key_defined_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "a.toml").write_text('[x]\ny = "1"\n', encoding="utf-8")
    (tmp_path / "zh" / "b.toml").write_text('[x]\ny = "2"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="defined twice"):
        load_catalog("zh", tmp_path)


def test_plural_words_follow_the_number() -> None:
    texts = Texts({"zh": {"x": "{n} 天"}, "en": {"x": "{n} {n:plural:day|days} <b>left</b>"}})
    assert texts.get("en", "x", n=1) == "1 day <b>left</b>"
    assert texts.get("en", "x", n=3) == "3 days <b>left</b>"
    assert texts.get("en", "x", n=0) == "0 days <b>left</b>"
    assert texts.plain("en", "x", n=1) == "1 day <b>left</b>"
    assert texts.get("zh", "x", n=1) == "1 天"


def test_a_label_parameter_is_shown_in_the_readers_language() -> None:
    texts = Texts({"zh": {"s": "已通过", "x": "已审核（{status}）"},
                   "en": {"s": "approved & kept", "x": "reviewed ({status})"}})
    assert texts.get("zh", "x", status=Label("s")) == "已审核（已通过）"
    assert texts.get("en", "x", status=Label("s")) == "reviewed (approved &amp; kept)"
    assert texts.plain("en", "x", status=Label("s")) == "reviewed (approved & kept)"


_COUNTED = re.compile(
    r"\{(\w+)\} (?:new |more |open |other )?(days?|hours?|minutes?|tasks?|units?|people|persons?"
    r"|files?|pieces?|questions?|errors?|items?|answers?|cards?|options?|rows?|indicators?"
    r"|phases?|times)\b"
)


def test_english_counts_agree_with_their_number() -> None:
    """No "day(s)" and no "{count} tasks" that would read "1 tasks": each counted noun
    takes its form from the number (`{n:plural:task|tasks}`)."""
    english = load_catalog("en")
    lazy = {key: text for key, text in english.items() if "(s)" in text}
    assert not lazy
    # The indicators' texts belong to the indicator data work and are checked there.
    fixed = {key: [m.group(0) for m in _COUNTED.finditer(text)]
             for key, text in english.items() if not key.startswith("indicators.")}
    assert {key: found for key, found in fixed.items() if found} == {}
