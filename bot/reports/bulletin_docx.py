"""The bulletin as a printable Word document (python-docx), laid out as a county office's
通报: the title, 第 N 期, the issuing office and date over a rule, numbered sections with
headings, the ranking as tables per peer group.

Fonts follow the usual government-document look (GB/T 9704): the title in 方正小标宋简体,
headings in 黑体, the body in 仿宋 — set as East Asian font names in the styles, so Word
and WPS use them (or their nearest installed face) for Chinese text; Latin text uses
Times New Roman. A4, margins as printed circulars have them. Blocking: run it in a thread.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from bot.core.xmltext import xml_safe
from bot.reports.bulletin import Bulletin
from bot.reports.bulletin_words import word_bulletin
from bot.texts import Texts

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
BODY_FONT = "仿宋"
TABLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)


def _fonts(target: Any, east_asian: str, size: float, *, bold: bool = False) -> None:
    """Latin and East Asian font names on a style or a run (Word keeps them apart)."""
    font = target.font
    font.name = LATIN_FONT
    font.size = Pt(size)
    font.bold = bold
    element = target.element if hasattr(target, "element") else target._element
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attribute), east_asian if attribute == "w:eastAsia" else LATIN_FONT)


def _rule_below(paragraph: Any) -> None:
    """The red line under the masthead, as a paragraph border."""
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"),
                       ("w:color", "C00000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    properties.append(borders)


def _text(value: str) -> str:
    # Chat HTML is not used here, but names and notes come from people: XML-safe only.
    return xml_safe(value)


def build_document(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo,
                   issuer: str) -> Any:
    wording = word_bulletin(texts, lang, bulletin, zone, issuer, html=False, chat=False)
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    styles = document.styles
    _fonts(styles["Normal"], BODY_FONT, 16)
    styles["Normal"].paragraph_format.line_spacing = Pt(28)
    for name in ("Heading 1", "Heading 2"):
        _fonts(styles[name], HEADING_FONT, 16)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
        styles[name].paragraph_format.space_before = Pt(6)
        styles[name].paragraph_format.space_after = Pt(0)
    _fonts(styles["Title"], TITLE_FONT, 22)
    styles["Title"].font.color.rgb = RED

    title = document.add_paragraph(_text(wording.title), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    issue = document.add_paragraph(_text(wording.issue))
    issue.alignment = WD_ALIGN_PARAGRAPH.CENTER
    masthead = document.add_paragraph(_text(wording.masthead))
    masthead.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _rule_below(masthead)

    for part in wording.sections:
        document.add_heading(_text(part.heading), level=1)
        if part.notes:
            # The ranking prints as one table per peer group, between the rule and notes.
            document.add_paragraph(_text(part.notes[0]))
            for table in part.tables:
                document.add_heading(_text(table.group), level=2)
                _table(document, table.header, table.rows)
            for note in part.notes[1:]:
                document.add_paragraph(_text(note))
            continue
        for line in part.lines:
            paragraph = document.add_paragraph(_text(line))
            paragraph.paragraph_format.first_line_indent = Pt(32)
    return document


def _table(document: Any, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(_text(text))
        _fonts(run, HEADING_FONT, 12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            run = cell.paragraphs[0].add_run(_text(text))
            _fonts(run, TABLE_FONT, 12)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The header repeats on every printed page.
    header_row = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row.append(repeat)


def docx_name(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo) -> str:
    local = bulletin.until.astimezone(zone)
    return texts.plain(lang, "reports.bulletin_docx_name", issue=bulletin.issue,
                       date=f"{local:%Y%m%d}") + ".docx"


def docx_bytes(texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo,
               issuer: str) -> bytes:
    buffer = io.BytesIO()
    build_document(texts, lang, bulletin, zone, issuer).save(buffer)
    return buffer.getvalue()


def write_docx(path: Path, texts: Texts, lang: str, bulletin: Bulletin, zone: ZoneInfo,
               issuer: str) -> Path:
    """Write the DOCX to `path` (replaced only once complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = build_document(texts, lang, bulletin, zone, issuer)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
        document.save(part)
    Path(part.name).replace(path)
    return path
