"""Telegram's HTML parse mode and automatic entities, offsets in UTF-16 code units."""

from __future__ import annotations

import pytest

from sandbox.errors import ApiError
from sandbox.textfmt import detect_entities, format_text, parse_html, utf16_len


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_len("欢迎") == 2
    assert utf16_len("😀") == 2


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>粗</b>体", "粗体", [{"type": "bold", "offset": 0, "length": 1}]),
        ("😀<i>x</i>", "😀x", [{"type": "italic", "offset": 2, "length": 1}]),
        ("a &lt;b&gt; &amp; &nbsp;", "a <b> & &nbsp;", []),
        (
            '<a href="https://example.org/?a=1&amp;b=2">链接</a>',
            "链接",
            [
                {
                    "type": "text_link",
                    "offset": 0,
                    "length": 2,
                    "url": "https://example.org/?a=1&b=2",
                }
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<span class="tg-spoiler">秘</span><blockquote expandable>引</blockquote>',
            "秘引",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "expandable_blockquote", "offset": 1, "length": 1},
            ],
        ),
        (
            "<b><u>嵌</u>套</b>",
            "嵌套",
            [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "underline", "offset": 0, "length": 1},
            ],
        ),
    ],
)
def test_parse_html(source: str, text: str, entities: list[dict[str, object]]) -> None:
    assert parse_html(source) == (text, entities)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("你<b", "Unclosed start tag at byte offset 3"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_parse_html_refusals_match_telegram(source: str, reason: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.description == f"Bad Request: can't parse entities: {reason}"


def test_commands_mentions_hashtags_and_links_are_detected() -> None:
    found = detect_entities("😀 /start@sandbox_bot abc #任务 #12 @zhang_san https://a.cn/x.")
    assert [(e["type"], e["offset"], e["length"]) for e in found] == [
        ("bot_command", 3, 18),
        ("hashtag", 26, 3),
        ("mention", 34, 10),
        ("url", 45, 14),
    ]


def test_entities_inside_code_are_not_detected() -> None:
    _, entities = format_text("<code>/start</code> /help", "HTML", None)
    assert [e["type"] for e in entities] == ["code", "bot_command"]


def test_markdown_is_refused_as_unsupported() -> None:
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("*x*", "MarkdownV2", None)
