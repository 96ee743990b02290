"""How an import preview, its row errors and its result read, in a chat or a terminal.

`html=True` escapes parameters for a Telegram message; `html=False` gives plain text for
the command line (the catalog texts of this feature carry no tags, so both read the same).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import callbacks
from bot.core.keyboard import Button, Keyboard
from bot.tables.planner import ImportPreview
from bot.tables.rows import RowError
from bot.texts import Markup, Texts

MAX_NAMES = 10
MAX_WARNINGS = 10


def _text(texts: Texts, lang: str, key: str, html: bool, **params: object) -> str:
    return texts.get(lang, key, **params) if html else texts.plain(lang, key, **params)


def row_error(texts: Texts, lang: str, error: RowError, *, html: bool) -> str:
    message = _text(texts, lang, error.message_id, html, **error.params)
    return _text(
        texts, lang, "tables.row_error", html,
        row=error.row, column=error.column, message=Markup(message) if html else message,
    )


def _names(texts: Texts, lang: str, names: Sequence[str], html: bool) -> str:
    shown = "、".join(names[:MAX_NAMES])
    if len(names) <= MAX_NAMES:
        return shown
    return texts.plain(lang, "tables.names_more", names=shown, count=len(names))


def preview_text(
    texts: Texts, lang: str, preview: ImportPreview, *, html: bool, max_errors: int | None
) -> str:
    """Counts, what would be created, then the row errors (the first `max_errors`)."""

    def line(key: str, **params: object) -> str:
        return _text(texts, lang, key, html, **params)

    lines = [
        line("tables.preview.title", file=preview.file_name),
        line("tables.preview.counts", rows=preview.rows, new=preview.new_tasks,
             updated=preview.updated_tasks, unchanged=preview.unchanged_tasks),
    ]
    for key, names in (
        ("tables.preview.new_units", preview.new_units),
        ("tables.preview.new_people", preview.new_people),
        ("tables.preview.new_indicators", preview.new_indicators),
    ):
        if names:
            lines.append(line(key, count=len(names), names=_names(texts, lang, names, html)))
    if preview.absent_tasks:
        lines.append(line("tables.preview.absent", count=preview.absent_tasks))
    if preview.warnings and (max_errors is None or max_errors > 0 or not preview.errors):
        lines.append("")
        lines.append(line("tables.preview.warnings", count=len(preview.warnings)))
        limit = (len(preview.warnings) if max_errors is None
                 else min(MAX_WARNINGS, max_errors or MAX_WARNINGS // 2))
        shown_warnings = preview.warnings[:limit]
        lines.extend("• " + row_error(texts, lang, w, html=html) for w in shown_warnings)
        if len(shown_warnings) < len(preview.warnings):
            lines.append(line("tables.preview.more_warnings",
                              count=len(preview.warnings) - len(shown_warnings)))
    if preview.errors:
        lines.append("")
        lines.append(line("tables.preview.errors", count=len(preview.errors)))
        shown = preview.errors if max_errors is None else preview.errors[:max_errors]
        lines.extend("• " + row_error(texts, lang, e, html=html) for e in shown)
        if len(shown) < len(preview.errors):
            lines.append(line("tables.preview.more_errors",
                              count=len(preview.errors) - len(shown)))
    elif preview.new_tasks or preview.updated_tasks:
        lines.append(line("tables.preview.ok"))
    else:
        lines.append(line("tables.preview.ok_unchanged"))
    return "\n".join(lines)


def result_text(texts: Texts, lang: str, result: ImportPreview, *, html: bool) -> str:
    return _text(
        texts, lang, "tables.result.done", html,
        new=result.new_tasks, updated=result.updated_tasks, unchanged=result.unchanged_tasks,
        units=len(result.new_units), people=len(result.new_people),
        indicators=len(result.new_indicators),
    )


def confirm_keyboard(texts: Texts, lang: str, import_id: int) -> Keyboard:
    return Keyboard.of([[
        Button(texts.plain(lang, "tables.button.confirm"),
               callbacks.build(callbacks.IMPORT, "ok", import_id)),
        Button(texts.plain(lang, "tables.button.cancel"),
               callbacks.build(callbacks.IMPORT, "no", import_id)),
    ]])
