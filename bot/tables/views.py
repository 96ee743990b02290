"""How an import preview, its row errors and its result read, in a chat or a terminal.

`html=True` escapes parameters for a Telegram message; `html=False` gives plain text for
the command line (the catalog texts of this feature carry no tags, so both read the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.tables.importer import ImportPreview
from bot.tables.rows import RowError
from bot.texts import Markup, Texts

MAX_NAMES = 10


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


def needs_writing(preview: ImportPreview) -> bool:
    return preview.ok and bool(preview.new_tasks or preview.updated_tasks)


# Callback data of the preview's buttons: `import:ok:<pending id>` / `import:no:<pending id>`.
IMPORT = "import"
IMPORT_ACTIONS = ("ok", "no")


@dataclass(frozen=True)
class ImportCallback:
    action: str
    import_id: int


def import_cb(action: str, import_id: int) -> str:
    return f"{IMPORT}:{action}:{import_id}"


def parse_import(data: str) -> ImportCallback | None:
    """`import:ok:7` → ImportCallback('ok', 7); anything malformed → None."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != IMPORT or parts[1] not in IMPORT_ACTIONS:
        return None
    if not parts[2].isdigit():
        return None
    return ImportCallback(parts[1], int(parts[2]))


def confirm_keyboard(texts: Texts, lang: str, import_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.plain(lang, "tables.button.confirm"),
                             callback_data=import_cb("ok", import_id)),
        InlineKeyboardButton(texts.plain(lang, "tables.button.cancel"),
                             callback_data=import_cb("no", import_id)),
    ]])
