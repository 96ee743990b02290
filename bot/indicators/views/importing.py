"""The data workbook sent back: the preview with every row error (the first ones shown, the
rest counted), the buttons to confirm or cancel, and the result."""

from __future__ import annotations

from typing import Any

from bot.core.keyboard import Button, Keyboard
from bot.indicators.importing import ImportPreview, ImportResult
from bot.indicators.views.common import ind_cb, phrase
from bot.indicators.workbook.book import BookError
from bot.texts import Markup, Texts

MAX_ERRORS = 20


def book_error(texts: Texts, lang: str, error: BookError, *, html: bool) -> str:
    message = phrase(texts, lang, html, error.message_id, **error.params)
    return phrase(texts, lang, html, "indicators.import.row_error", sheet=error.sheet,
                row=error.row, column=error.column or "—",
                message=Markup(message) if html else message)


def import_preview_text(texts: Texts, lang: str, preview: ImportPreview, *, html: bool,
                        max_errors: int | None = MAX_ERRORS) -> str:
    def say(key: str, **params: Any) -> str:
        return phrase(texts, lang, html, key, **params)

    lines = [say("indicators.import.title", file=preview.file_name, year=preview.year,
                 standard=preview.standard)]
    if preview.other_standard:
        lines.append(say("indicators.import.other_standard", other=preview.other_standard))
    lines.append(say("indicators.import.counts", rows=preview.school_rows,
                     schools=preview.schools, changed=preview.changed,
                     unchanged=preview.unchanged))
    if preview.new_levels:
        lines.append(say("indicators.import.new_levels", schools="、".join(preview.new_levels)))
    others = [(preview.survey, "indicators.import.survey"),
              (preview.budgets, "indicators.import.budgets"),
              (preview.disabled, "indicators.import.disabled"),
              (preview.marks, "indicators.import.marks")]
    lines.extend(say(key, count=count) for count, key in others if count)
    if preview.blank and not preview.errors:
        lines.append(say("indicators.import.blank", count=preview.blank))
    if preview.errors:
        lines += ["", say("indicators.import.errors", count=len(preview.errors))]
        shown = preview.errors if max_errors is None else preview.errors[:max_errors]
        lines.extend("• " + book_error(texts, lang, e, html=html) for e in shown)
        if len(shown) < len(preview.errors):
            lines.append(say("indicators.import.more_errors",
                             count=len(preview.errors) - len(shown)))
    elif preview.writes:
        lines.append(say("indicators.import.ok"))
    else:
        lines.append(say("indicators.import.nothing"))
    return "\n".join(lines)


def import_keyboard(texts: Texts, lang: str, import_id: int) -> Keyboard:
    return Keyboard.of([[Button(texts.plain(lang, "indicators.button.confirm_import"),
                                ind_cb("iok", import_id)),
                         Button(texts.plain(lang, "indicators.button.cancel"),
                                ind_cb("ino", import_id))]])


def import_result_text(texts: Texts, lang: str, result: ImportResult, *, html: bool = True
                       ) -> str:
    return phrase(texts, lang, html, "indicators.import.done", year=result.year,
                changed=result.changed, schools=result.schools, survey=result.survey,
                budgets=result.budgets, disabled=result.disabled, marks=result.marks)
