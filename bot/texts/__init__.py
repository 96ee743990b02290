"""Message catalogs keyed by id, Chinese first and English second.

Each feature keeps its own `<lang>/<feature>.toml`; the loader merges them and refuses a
key defined twice. Every message is HTML (the bot sends with parse_mode=HTML), so
parameters are escaped unless wrapped in `Markup`.

Two things a template may ask of a parameter:
- `{days:plural:day|days}` is the word in the form the number needs (English has two;
  Chinese has none and never uses it), so "1 day" and "3 days" come from one text;
- a `Label("status.done")` parameter is another text of the catalog, shown in the
  reader's language, so a rule can name a status without knowing who will read it.
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).parent
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class Markup(str):
    """Text that is already safe HTML and must not be escaped again."""

    __slots__ = ()


class Label:
    """A parameter that is itself a catalog text, rendered in the reader's language."""

    __slots__ = ("params", "text_id")

    def __init__(self, text_id: str, /, **params: Any) -> None:
        self.text_id = text_id
        self.params = params

    def __repr__(self) -> str:
        return f"Label({self.text_id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Label) and (self.text_id, self.params) == (
            other.text_id, other.params)

    def __hash__(self) -> int:
        return hash(self.text_id)


PLURAL = "plural:"


def escape(value: object) -> str:
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=False)


def plural_form(value: object, forms: str) -> str:
    """`forms` is "one|other": the first for exactly one, the second for any other count."""
    one, _, other = forms.partition("|")
    try:
        count = float(str(value))
    except ValueError:
        return other or one
    return one if count == 1 else (other or one)


def _field(texts: Texts, language: str | None, html_out: bool, value: Any, spec: str) -> str:
    """One parameter as the reader sees it: plural words, labels, escaping."""
    if spec.startswith(PLURAL):
        return plural_form(value, spec[len(PLURAL):])
    if isinstance(value, Label):
        value = texts.plain(language, value.text_id, **value.params)
    if isinstance(value, Markup) and not spec:
        return value
    text = format(value, spec)
    return html.escape(text, quote=False) if html_out else text


class _Formatter(string.Formatter):
    """Renders one template for one reader (the general path `_parts` declines)."""

    def __init__(self, texts: Texts, language: str | None, *, html_out: bool) -> None:
        super().__init__()
        self.texts = texts
        self.language = language
        self.html_out = html_out

    def format_field(self, value: Any, format_spec: str) -> str:
        return _field(self.texts, self.language, self.html_out, value, format_spec)


_PARSER = string.Formatter()
_Part = tuple[str, str | None, str]  # literal text, then the parameter's name and spec


@lru_cache(maxsize=8192)
def _parts(template: str) -> tuple[_Part, ...] | None:
    """The template split once into literals and plain named parameters; None when it
    asks for more (an index, an attribute, a conversion, a nested spec), which
    `string.Formatter` renders. Every text is rendered many times; parsing it each time
    was about a third of the cost of rendering a reminder."""
    parts: list[_Part] = []
    for literal, name, spec, conversion in _PARSER.parse(template):
        if name is not None and (not name.isidentifier() or conversion or "{" in (spec or "")):
            return None
        parts.append((literal, name, spec or ""))
    return tuple(parts)


def _flatten(prefix: str, tree: Mapping[str, Any], into: dict[str, str], origin: str) -> None:
    for key, value in tree.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, into, origin)
        elif isinstance(value, str):
            if full in into:
                raise ValueError(f"text id {full!r} defined twice (again in {origin})")
            into[full] = value
        else:
            raise ValueError(f"text id {full!r} in {origin} is not a string")


def load_catalog(language: str, directory: Path = CATALOG_DIR) -> dict[str, str]:
    catalog: dict[str, str] = {}
    for path in sorted((directory / language).glob("*.toml")):
        _flatten("", tomllib.loads(path.read_text(encoding="utf-8")), catalog, path.name)
    return catalog


class Texts:
    """Looks up a text by id in the reader's language, falling back to Chinese."""

    def __init__(self, catalogs: Mapping[str, Mapping[str, str]], default: str = DEFAULT_LANGUAGE):
        self._catalogs = catalogs
        self.default = default

    @classmethod
    def load(cls, default: str = DEFAULT_LANGUAGE) -> Texts:
        return cls({lang: load_catalog(lang) for lang in LANGUAGES}, default)

    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogs)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogs.get(language, {}))

    def raw(self, language: str | None, key: str) -> str:
        lang = language if language is not None and language in self._catalogs else self.default
        template = self._catalogs[lang].get(key)
        if template is None:
            template = self._catalogs[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise KeyError(f"no text with id {key!r}")
        return template

    def get(self, language: str | None, key: str, /, **params: Any) -> str:
        template = self.raw(language, key)
        if not params:
            return template
        return self._render(language, template, params, html_out=True)

    def plain(self, language: str | None, key: str, /, **params: Any) -> str:
        """The text without HTML escaping, for files, button labels and command menus."""
        template = self.raw(language, key)
        if not params:
            return template
        return self._render(language, template, params, html_out=False)

    def _render(self, language: str | None, template: str, params: Mapping[str, Any], *,
                html_out: bool) -> str:
        parts = _parts(template)
        if parts is None:
            return _Formatter(self, language, html_out=html_out).vformat(template, (), params)
        out: list[str] = []
        for literal, name, spec in parts:
            if literal:
                out.append(literal)
            if name is not None:
                out.append(_field(self, language, html_out, params[name], spec))
        return "".join(out)
