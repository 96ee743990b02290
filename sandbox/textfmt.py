"""Telegram's text rules: UTF-16 offsets, the HTML parse mode and automatic entities.

The HTML parser follows tdlib's ``parse_html`` so that refusals carry the same
wording and byte offsets a bot would see from the real server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request

JSON = dict[str, Any]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "span", "tg-emoji", "blockquote"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram entity offset."""
    return len(text.encode("utf-16-le")) // 2


def _cant_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    byte_offset: int


@dataclass
class _HtmlParser:
    src: str
    out: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[JSON] = field(default_factory=list)
    pos: int = 0

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def skip_spaces(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos].isspace():
            self.pos += 1

    def run(self) -> tuple[str, list[JSON]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                match = _ENTITY_RE.match(src, self.pos)
                decoded = _decode_entity(match) if match else None
                if match and decoded is not None:
                    self.emit(decoded)
                    self.pos = match.end()
                    continue
                # tdlib keeps an unknown entity verbatim rather than refusing the message
                self.emit("&")
                self.pos += 1
            elif char == "<":
                if self.pos + 1 < len(src) and src[self.pos + 1] == "/":
                    self.close_tag()
                else:
                    self.open_tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            raise _cant_parse(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return "".join(self.out), _finish_entities(self.entities)

    def open_tag(self) -> None:
        src, begin = self.src, self.pos
        end = begin + 1
        while end < len(src) and not src[end].isspace() and src[end] != ">":
            end += 1
        if end >= len(src):
            raise _cant_parse(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 1 : end].lower()
        if name not in _ALLOWED_TAGS:
            raise _cant_parse(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        self.pos = end
        attrs = self.read_attributes(name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _cant_parse(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(_OpenTag(name, attrs, self.length, self.byte_offset(begin)))

    def read_attributes(self, tag: str, begin: int) -> dict[str, str]:
        src = self.src
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if self.pos >= len(src):
                raise _cant_parse(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            start = self.pos
            while self.pos < len(src) and src[self.pos] not in " \t\r\n=>":
                self.pos += 1
            attr = src[start : self.pos].lower()
            if not attr:
                raise _cant_parse(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{self.byte_offset(begin)}"
                )
            self.skip_spaces()
            value = ""
            if self.pos < len(src) and src[self.pos] == "=":
                self.pos += 1
                self.skip_spaces()
                value = self.read_attribute_value(begin)
            attrs[attr] = value

    def read_attribute_value(self, begin: int) -> str:
        src = self.src
        if self.pos >= len(src):
            raise _cant_parse(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        if src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end < 0:
                raise _cant_parse(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            value = html.unescape(src[self.pos + 1 : end])
            self.pos = end + 1
            return value
        start = self.pos
        while self.pos < len(src) and not src[self.pos].isspace() and src[self.pos] != ">":
            self.pos += 1
        return src[start : self.pos]

    def close_tag(self) -> None:
        src, begin = self.src, self.pos
        if not self.stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        end = begin + 2
        while end < len(src) and not src[end].isspace() and src[end] != ">":
            end += 1
        name = src[begin + 2 : end].lower()
        while end < len(src) and src[end].isspace():
            end += 1
        if end >= len(src) or src[end] != ">":
            raise _cant_parse(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack.pop()
        if name and name != top.name:
            raise _cant_parse(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        entity = _entity_for(top, self.length - top.start)
        if entity is not None:
            self.entities.append(entity)


def _decode_entity(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _entity_for(tag: _OpenTag, length: int) -> JSON | None:
    if length <= 0:
        return None
    entity: JSON = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        language = tag.attrs.get("class", "")
        if tag.name == "code" and language.startswith("language-"):
            entity["_language"] = language.removeprefix("language-")
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        entity.update(type="text_link", url=href)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    else:
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs.get("emoji-id", ""))
    return entity


def _finish_entities(entities: list[JSON]) -> list[JSON]:
    # <pre><code class="language-x"> is one pre entity with a language, not two entities
    pres = {(e["offset"], e["length"]) for e in entities if e["type"] == "pre"}
    result: list[JSON] = []
    languages: dict[tuple[int, int], str] = {}
    for entity in entities:
        key = (entity["offset"], entity["length"])
        language = entity.pop("_language", None)
        if entity["type"] == "code" and key in pres:
            if language:
                languages[key] = language
            continue
        result.append(entity)
    for entity in result:
        key = (entity["offset"], entity["length"])
        if entity["type"] == "pre" and key in languages:
            entity["language"] = languages[key]
    return sorted(result, key=lambda e: (e["offset"], -e["length"]))


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Turn Telegram-flavoured HTML into plain text plus entities, or refuse like Telegram."""
    return _HtmlParser(text).run()


_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#(?!\d+(?!\w))\w{1,256}")),
    ("url", re.compile(r"(?<![\w/])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")),
)


def detect_entities(text: str) -> list[JSON]:
    """The entities Telegram finds on its own: commands, mentions, hashtags and links."""
    found: list[JSON] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                }
            )
    return sorted(found, key=lambda e: e["offset"])


def merge_entities(explicit: list[JSON], text: str) -> list[JSON]:
    """Explicit formatting plus auto-detected entities that do not overlap it."""
    opaque = {"code", "pre", "text_link", "custom_emoji"}
    spans = [(e["offset"], e["offset"] + e["length"]) for e in explicit if e["type"] in opaque]
    known = {(e["type"], e["offset"], e["length"]) for e in explicit}
    merged = list(explicit)
    for entity in detect_entities(text):
        start, end = entity["offset"], entity["offset"] + entity["length"]
        # inside code and links Telegram does not look for further entities
        if any(s < end and start < e for s, e in spans):
            continue
        if (entity["type"], start, entity["length"]) not in known:
            merged.append(entity)
    return sorted(merged, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None
) -> tuple[str, list[JSON]]:
    """Apply parse_mode or explicit entities the way sendMessage does."""
    if parse_mode:
        if parse_mode.lower() != "html":
            raise bad_request("unsupported parse_mode")
        plain, parsed = parse_html(text)
        return plain, merge_entities(parsed, plain)
    return text, merge_entities(list(entities or []), text)
