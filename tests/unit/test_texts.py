from __future__ import annotations

import string
from pathlib import Path

import pytest

from bot.texts import LANGUAGES, Markup, Texts, load_catalog


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
