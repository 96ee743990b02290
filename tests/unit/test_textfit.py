"""Fitting texts into Telegram's limits: measuring as Telegram counts, splitting, shortening.

Telegram's own HTML parser, as the sandbox models it (`sandbox.textfmt.parse_html`), is
the judge: every part must parse there and fit the limit there.
"""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.textfit import (
    MAX_CAPTION,
    MAX_TEXT,
    clip,
    plain_text,
    shorten_html,
    split_html,
    visible_length,
)
from sandbox.textfmt import parse_html, utf16_len

Styled = list[tuple[str, frozenset[str]]]


def styled(markup: str) -> Styled:
    """Each character Telegram shows, with the formatting it carries."""
    plain, entities = parse_html(markup)
    offsets: list[int] = []
    unit = 0
    for char in plain:
        offsets.append(unit)
        unit += utf16_len(char)
    result: Styled = []
    for char, start in zip(plain, offsets, strict=True):
        kinds = {
            f"{e['type']}:{e.get('url', '')}" for e in entities
            if e["offset"] <= start < e["offset"] + e["length"]
        }
        if "pre:" in kinds:
            # Telegram reads <pre><code> spanning the same text as one pre block, so a
            # part that holds only the inner code loses nothing by showing it as pre.
            kinds.discard("code:")
        result.append((char, frozenset(kinds)))
        continue
    return result


def rebuilds(original: Styled, parts: list[Styled]) -> bool:
    """The parts, in order, are the original with only whitespace left out between them."""
    pos = 0
    for part in parts:
        while original[pos:pos + len(part)] != part:
            if pos >= len(original) or not original[pos][0].isspace():
                return False
            pos += 1
        pos += len(part)
    return all(char.isspace() for char, _ in original[pos:])


def test_counts_what_telegram_counts() -> None:
    assert visible_length("<b>粗体</b> &lt;tag&gt; &amp;") == 10
    assert visible_length("😀") == 2  # outside the BMP: two UTF-16 code units
    assert visible_length('<a href="https://example.org/a?b=1&amp;c=2">链接</a>') == 2
    assert visible_length("&nbsp;") == 6  # an entity Telegram does not know stays as typed
    assert plain_text("<i>a&lt;b</i>") == "a<b"


def test_a_text_that_fits_is_one_part_unchanged() -> None:
    text = "<b>标题</b>\n" + "内容" * 100
    assert split_html(text) == [text]


def test_splits_at_the_last_line_break_that_fits() -> None:
    lines = [f"第 {n} 行：" + "字" * 40 for n in range(200)]
    parts = split_html("\n".join(lines))
    assert len(parts) > 1
    assert all(visible_length(p) <= MAX_TEXT for p in parts)
    # no line is cut: each part is whole lines
    assert "\n".join(parts).split("\n") == lines


def test_a_long_line_without_spaces_is_cut_between_characters() -> None:
    description = "📝 " + "迎检资料" * 1041 + "。"  # 4,165 characters in one line
    parts = split_html(f"<b>任务 #1</b>\n{description}")
    assert len(parts) == 2
    assert all(visible_length(p) <= MAX_TEXT for p in parts)
    # the early line break would leave a stub: the cut falls inside the description
    assert plain_text(parts[0]) + plain_text(parts[1]) == "任务 #1\n" + description
    assert visible_length(parts[0]) == MAX_TEXT


def test_a_tag_open_at_a_split_is_closed_and_opened_again() -> None:
    text = '<a href="https://example.org/?a=1&amp;b=2"><b>' + "一二三 " * 10 + "</b></a>"
    parts = split_html(text, 12)
    assert len(parts) > 1
    for part in parts:
        parse_html(part)  # valid on its own
        assert part.startswith('<a href="https://example.org/?a=1&amp;b=2"><b>')
        assert part.endswith("</b></a>")


def test_never_cuts_an_entity() -> None:
    parts = split_html("&lt;&amp;&gt;" * 10, 4)
    assert all(visible_length(p) <= 4 for p in parts)
    assert "".join(plain_text(p) for p in parts) == "<&>" * 10


def test_whitespace_only_parts_are_left_out() -> None:
    assert [p.strip() for p in split_html("甲" + "\n" * 50 + "乙", 10)] == ["甲", "乙"]
    assert split_html("   \n  ") == []


def test_shorten_keeps_within_the_limit_and_closes_tags() -> None:
    caption = "<b>审核</b>\n<i>" + "说明" * 600 + "</i>"
    short = shorten_html(caption, MAX_CAPTION)
    assert visible_length(short) <= MAX_CAPTION
    plain, _ = parse_html(short)
    assert plain.endswith("…") and short.endswith("</i>")
    assert shorten_html("短", MAX_CAPTION) == "短"


def test_clip_for_titles_and_labels() -> None:
    assert clip("完善控辍保学台账", 20) == "完善控辍保学台账"
    assert clip("一二三四五六", 4) == "一二三…"


def test_a_limit_below_one_character_is_refused() -> None:
    with pytest.raises(ValueError):
        split_html("abc", 1)


# Property-based: any well-formed message the views could produce ------------------------

_ALPHABET = st.sampled_from(
    [*"ab xy", "\n", "\n", " ", "迎", "检", "😀", "<", ">", "&", '"', "\t", "\u0301"]
)
_TAGS = ["b", "i", "u", "s", "code", "pre", "tg-spoiler", "blockquote"]


def _wrap(children: list[str], tag: str) -> str:
    if tag == "a":
        return '<a href="https://example.org/?q=1&amp;r=2">' + "".join(children) + "</a>"
    return f"<{tag}>" + "".join(children) + f"</{tag}>"


_LEAF = st.text(_ALPHABET, max_size=25).map(lambda t: html.escape(t, quote=False))
_HTML = st.recursive(
    _LEAF,
    lambda inner: st.builds(_wrap, st.lists(inner, min_size=1, max_size=4),
                            st.sampled_from([*_TAGS, "a"])),
    max_leaves=20,
).flatmap(lambda first: st.lists(
    st.one_of(_LEAF, st.just(first)), max_size=6).map(lambda rest: first + "".join(rest)))


@settings(max_examples=400, deadline=None)
@given(text=_HTML, limit=st.integers(2, 60))
def test_every_part_fits_parses_and_together_they_are_the_input(text: str, limit: int) -> None:
    parts = split_html(text, limit)
    for part in parts:
        plain, _ = parse_html(part)  # balanced, valid HTML as Telegram reads it
        assert utf16_len(plain) <= limit
        assert plain.strip()
    assert rebuilds(styled(text), [styled(p) for p in parts])


@settings(max_examples=300, deadline=None)
@given(text=_HTML, limit=st.integers(1, 60))
def test_shortened_text_fits_and_is_a_prefix(text: str, limit: int) -> None:
    short = shorten_html(text, limit)
    plain, _ = parse_html(short)
    assert utf16_len(plain) <= limit
    original = plain_text(text)
    if short != text:
        assert plain.endswith("…")
        assert original.startswith(plain[:-1].rstrip())
