"""Texts are rendered from templates parsed once; the result is what `string.Formatter`
gives for every text of both catalogs, escaping, plurals and labels included."""

from __future__ import annotations

import string

import pytest

from bot.texts import LANGUAGES, Label, Markup, Texts, _Formatter, _parts

TEXTS = Texts.load()
VALUES = ("<b>A&B</b> 一中", Markup("<i>已转义</i>"), Label("status.done"), 7, 1, "")


def _params(template: str, turn: int) -> dict[str, object]:
    params: dict[str, object] = {}
    for n, (_, name, spec, _) in enumerate(string.Formatter().parse(template)):
        if name is None or name in params:
            continue
        if spec and not spec.startswith("plural:"):
            # a numeric spec such as ".1f" or ",d"
            params[name] = 1234 + n if spec.endswith("d") else 3.14159 + n
        elif spec:
            params[name] = (1, 3)[(turn + n) % 2]
        else:
            params[name] = VALUES[(turn + n) % len(VALUES)]
    return params


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("html_out", [True, False])
def test_every_text_renders_as_the_general_formatter_does(language: str, html_out: bool) -> None:
    checked = 0
    for key in sorted(TEXTS.keys(language)):
        template = TEXTS.raw(language, key)
        for turn in range(len(VALUES)):
            params = _params(template, turn)
            if not params:
                break
            expected = _Formatter(TEXTS, language, html_out=html_out).vformat(template, (), params)
            got = (TEXTS.get if html_out else TEXTS.plain)(language, key, **params)
            assert got == expected, key
            checked += 1
    assert checked > 1000


def test_parameters_are_escaped_labels_translated_and_plurals_chosen() -> None:
    texts = Texts({"zh": {"a": "{x} {s} {n:plural:天|天} {m}", "status.done": "已完成"},
                   "en": {"a": "{x} {s} {n} {n:plural:day|days}", "status.done": "done"}})
    assert texts.get("zh", "a", x="<b>", s=Label("status.done"), n=2, m=Markup("<i>")) == \
        "&lt;b&gt; 已完成 天 <i>"
    assert texts.get("en", "a", x="a&b", s=Label("status.done"), n=1) == "a&amp;b done 1 day"
    assert texts.plain("en", "a", x="a&b", s="s", n=3) == "a&b s 3 days"


def test_braces_and_templates_the_fast_path_declines() -> None:
    texts = Texts({"zh": {"brace": "{{字面}} {x}", "index": "{0} 与 {y!r}"}})
    assert texts.get("zh", "brace", x=1) == "{字面} 1"
    assert _parts("{0} 与 {y!r}") is None
    with pytest.raises(IndexError):
        texts.get("zh", "index", y="a")  # no positional parameters, as before


def test_a_missing_parameter_is_a_key_error() -> None:
    texts = Texts({"zh": {"a": "{x}{y}"}})
    with pytest.raises(KeyError):
        texts.get("zh", "a", x=1)
