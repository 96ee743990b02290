"""Telegram's size limits for what the bot sends, and fitting HTML texts into them.

Telegram counts a message after parsing its entities: the text without HTML tags, with
`&lt;` and the like as one character, in UTF-16 code units (an emoji outside the Basic
Multilingual Plane counts two). A text over the limit is refused outright (400 "message is
too long"), so every view passes through here on its way out: long texts are split at line
boundaries, captions are shortened, and no part ever cuts a tag or an entity in two.
Tags open at a split are closed at the end of one part and opened again at the start of
the next, so each part is valid HTML on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.core import callbacks
from bot.core.callbacks import MAX_BYTES as MAX_CALLBACK_BYTES
from bot.core.keyboard import MAX_BUTTONS, Button

MAX_TEXT = 4096  # a message's text
MAX_CAPTION = 1024  # a photo's or document's caption
MAX_ALBUM = 10  # items in one media group
MAX_ANSWER = 200  # the text of a callback query's answer
ELLIPSIS = "…"
# A list line shows the start of a task's title (its card shows all of it), so a page
# fits; a button shows less.
LIST_TITLE = 80
BUTTON_TITLE = 24

__all__ = [
    "ELLIPSIS", "MAX_ALBUM", "MAX_ANSWER", "MAX_BUTTONS", "MAX_CALLBACK_BYTES", "MAX_CAPTION",
    "MAX_TEXT", "clip", "plain_text", "shorten_html", "split_html", "task_button",
    "visible_length",
]

# Named entities Telegram decodes; any other `&name;` stays in the text as typed.
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(
    r"(?P<tag></?[A-Za-z][^<>]*>)"
    r"|(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});)"
    r"|(?P<text>[^<&]+|[<&])",
)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9-]*)")
_SPACES = (" ", "\t")


class _Kind(Enum):
    OPEN = "open"
    CLOSE = "close"
    TEXT = "text"  # a run of characters, or one entity


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    raw: str
    name: str = ""
    shown: str = ""  # what Telegram displays for a text token
    width: int = 0  # `shown` in UTF-16 code units

    @property
    def entity(self) -> bool:
        """An entity like `&lt;`: one character shown, never cut."""
        return self.raw != self.shown


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit in which Telegram counts."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _fitting(run: str, room: int) -> int:
    """How many characters from the start of `run` fit in `room` UTF-16 code units."""
    if room <= 0:
        return 0
    if run.isascii():
        return min(len(run), room)
    data = run.encode("utf-16-le", "surrogatepass")
    if len(data) <= 2 * room:
        return len(run)
    head = data[:2 * room]
    if 0xD800 <= int.from_bytes(head[-2:], "little") <= 0xDBFF:
        head = head[:-2]  # never half of a surrogate pair
    return len(head.decode("utf-16-le", "surrogatepass"))


def _text(raw: str, shown: str | None = None) -> _Token:
    shown = raw if shown is None else shown
    return _Token(_Kind.TEXT, raw, shown=shown, width=utf16_len(shown))


def _decode(entity: str) -> str | None:
    body = entity[1:-1]
    if not body.startswith("#"):
        return _NAMED.get(body)
    code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _tokens(html: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(html):
        raw = match.group()
        if match.lastgroup == "tag":
            name_match = _TAG_NAME.match(raw)
            name = name_match.group(1).lower() if name_match else ""
            kind = _Kind.CLOSE if raw.startswith("</") else _Kind.OPEN
            tokens.append(_Token(kind, raw, name))
        elif match.lastgroup == "entity":
            decoded = _decode(raw)
            # Telegram keeps an entity it does not know as typed.
            tokens.append(_text(raw) if decoded is None else _text(raw, decoded))
        else:
            tokens.append(_text(raw))
    return tokens


def visible_length(html: str) -> int:
    """What Telegram counts against its limits: the parsed text in UTF-16 code units."""
    if "<" not in html and "&" not in html:
        return utf16_len(html)
    return sum(t.width for t in _tokens(html) if t.kind is _Kind.TEXT)


def plain_text(html: str) -> str:
    """The text Telegram shows for `html` (tags dropped, entities decoded)."""
    return "".join(t.shown for t in _tokens(html) if t.kind is _Kind.TEXT)


def _closing(stack: list[_Token] | tuple[_Token, ...]) -> str:
    return "".join(f"</{tag.name}>" for tag in reversed(stack))


def _opening(stack: list[_Token] | tuple[_Token, ...]) -> str:
    return "".join(tag.raw for tag in stack)


def _apply(stack: list[_Token], token: _Token) -> None:
    if token.kind is _Kind.OPEN:
        stack.append(token)
    elif token.kind is _Kind.CLOSE:
        # Close the innermost tag of that name (HTML from the catalogs is well nested).
        for index in range(len(stack) - 1, -1, -1):
            if stack[index].name == token.name:
                del stack[index]
                break


@dataclass(frozen=True)
class _Cut:
    """Where a part ends (token `index`, `offset` characters into a run) and where the
    next one resumes (after the whitespace the split replaces, if any)."""

    index: int
    offset: int
    resume: tuple[int, int]
    stack: tuple[_Token, ...]  # tags open at the cut
    width: int = 0  # what the part before the cut shows


def split_html(html: str, limit: int = MAX_TEXT) -> list[str]:
    """`html` as parts that each fit `limit`, split at the last line break that fits.

    A line break is used when it leaves the part at least half full; otherwise the part
    ends at its last space, and failing that (Chinese has none) between two characters,
    so a long line is not spread over more messages than it needs. The newline or space
    at a split is dropped; a part that would show only whitespace is left out, because
    Telegram refuses it.
    """
    if limit < 2:
        raise ValueError("a part must hold at least one character of two code units")
    if utf16_len(html) <= limit:
        # Tags and entities only ever shorten what Telegram counts.
        return [html] if plain_text(html).strip() else []
    tokens = _tokens(html)
    parts: list[str] = []
    start = 0
    reopen: tuple[_Token, ...] = ()
    while start < len(tokens):
        cut = _next_cut(tokens, start, reopen, limit)
        if cut is None:
            if _shows_text(tokens[start:]):
                parts.append(_opening(reopen) + "".join(t.raw for t in tokens[start:]))
            break
        body = "".join(t.raw for t in tokens[start:cut.index])
        tail = tokens[cut.index].raw[:cut.offset] if cut.offset else ""
        if _shows_text(tokens[start:cut.index]) or tail.strip():
            parts.append(_opening(reopen) + body + tail + _closing(cut.stack))
        start, offset = cut.resume
        if offset:
            tokens[start] = _text(tokens[start].raw[offset:])
        reopen = cut.stack
    return parts


def _shows_text(tokens: list[_Token]) -> bool:
    return any(t.kind is _Kind.TEXT and t.shown.strip() for t in tokens)


def _next_cut(
    tokens: list[_Token], start: int, reopen: tuple[_Token, ...], limit: int
) -> _Cut | None:
    """Where the part starting at `start` ends, or None when the rest fits."""
    stack = list(reopen)
    width = 0
    seen_text = False  # a break is useful only after something visible
    line: _Cut | None = None
    word: _Cut | None = None
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.kind is not _Kind.TEXT:
            _apply(stack, token)
            continue
        fits = token.width if width + token.width <= limit else (
            0 if token.entity else _fitting(token.shown, limit - width))
        shown = token.shown if token.entity else token.shown[:fits]
        if not token.entity or fits:
            # The last line break and the last space among what fits, if something
            # visible comes before them in this part.
            for kind, found in (("line", shown.rfind("\n")),
                                ("word", max(shown.rfind(c) for c in _SPACES))):
                if found < 0 or not (seen_text or shown[:found].strip()):
                    continue
                before = width + utf16_len(shown[:found])
                if token.entity:
                    cut = _Cut(index, 0, (index + 1, 0), tuple(stack), before)
                else:
                    cut = _Cut(index, found, (index, found + 1), tuple(stack), before)
                if kind == "line":
                    line = cut
                else:
                    word = cut
        if width + token.width <= limit:
            width += token.width
            seen_text = seen_text or bool(token.shown.strip())
            continue
        # A natural break only when it keeps the part at least half full: an early
        # line break would leave a stub part and make one more message.
        half = limit // 2
        if line is not None and line.width >= half:
            return line
        if word is not None and word.width >= half:
            return word
        if fits:
            return _Cut(index, fits, (index, fits), tuple(stack), width)
        if width == 0:
            # Not even one character fits: take it anyway rather than loop.
            return _Cut(index + 1, 0, (index + 1, 0), tuple(stack), width)
        return _hard_cut(tokens, start, index, stack)
    return None


def _hard_cut(tokens: list[_Token], start: int, index: int, stack: list[_Token]) -> _Cut:
    """A cut before token `index`; tags opened right before it move to the next part."""
    open_now = list(stack)
    while (index > start and tokens[index - 1].kind is _Kind.OPEN and open_now
           and open_now[-1] is tokens[index - 1]):
        index -= 1
        open_now.pop()
    return _Cut(index, 0, (index, 0), tuple(open_now))


def shorten_html(html: str, limit: int = MAX_CAPTION, ellipsis: str = ELLIPSIS) -> str:
    """`html` cut to fit `limit`, ending in `ellipsis`, its open tags closed."""
    if visible_length(html) <= limit:
        return html
    room = limit - utf16_len(ellipsis)
    if room < 0:
        raise ValueError("the limit leaves no room for the ellipsis")
    stack: list[_Token] = []
    kept: list[str] = []
    width = 0
    for token in _tokens(html):
        if token.kind is not _Kind.TEXT:
            _apply(stack, token)
            kept.append(token.raw)
            continue
        if width + token.width <= room:
            width += token.width
            kept.append(token.raw)
            continue
        if not token.entity:
            kept.append(token.raw[:_fitting(token.shown, room - width)])
        break
    # Trailing whitespace before the ellipsis reads as a stray gap.
    return "".join(kept).rstrip() + ellipsis + _closing(stack)


def clip(text: str, length: int, ellipsis: str = ELLIPSIS) -> str:
    """Plain text (a title in a list, a button label) cut to `length` characters."""
    if len(text) <= length:
        return text
    return text[: max(0, length - len(ellipsis))].rstrip() + ellipsis


def task_button(task_id: int, title: str) -> Button:
    """A list's button to a task's card: "#id" and the start of its title."""
    return Button(f"#{task_id} {clip(title, BUTTON_TITLE)}", callbacks.task("open", task_id))
