"""The bank as an Anki deck (.apkg) for offline study.

Model and deck ids are fixed and every note's guid derives from its question id, so
importing a newer export into Anki updates the cards instead of duplicating them.
"""

from __future__ import annotations

import html
from pathlib import Path

import genanki

from bot.quiz.bank import Bank, QuestionSpec
from db.models import QuestionKind

MODEL_ID = 1_607_392_319
DECK_ID = 2_059_400_110
_CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: left; } ol { padding-left: 1.4em; }"

MODEL = genanki.Model(
    MODEL_ID,
    "inspectbot question",
    fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Explanation"}, {"name": "Source"}],
    templates=[{
        "name": "Card 1",
        "qfmt": "{{Question}}",
        "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}<p>{{Explanation}}</p>"
                "<p><small>{{Source}}</small></p>",
    }],
    css=_CSS,
)


def _front(q: QuestionSpec) -> str:
    text = html.escape(q.text)
    if not q.kind.is_poll:
        return text
    items = "".join(f"<li>{html.escape(o)}</li>" for o in q.options)
    return f"{text}<ol type=A>{items}</ol>"


def _back(q: QuestionSpec) -> str:
    if q.kind is QuestionKind.OPEN:
        points = "".join(f"<li>{html.escape(p)}</li>" for p in q.key_points)
        return f"<ul>{points}</ul><p>{html.escape(q.model_answer)}</p>"
    return "<br>".join(
        f"{chr(ord('A') + i)}. {html.escape(q.options[i])}" for i in q.correct
    )


def build_package(bank: Bank, deck_name: str) -> genanki.Package:
    names = {i.code: i.name for i in bank.indicators}
    deck = genanki.Deck(DECK_ID, deck_name)
    for q in bank.questions:
        deck.add_note(genanki.Note(
            model=MODEL,
            fields=[_front(q), _back(q), html.escape(q.explanation),
                    html.escape(f"{q.indicator} {names.get(q.indicator, '')} · {q.source}")],
            # Anki tags cannot contain spaces.
            tags=[q.indicator, q.kind.value, f"difficulty{q.difficulty}"],
            guid=genanki.guid_for("inspectbot", q.key),
        ))
    return genanki.Package(deck)


def write_apkg(bank: Bank, path: Path, deck_name: str) -> int:
    """Write the deck; returns the number of notes."""
    build_package(bank, deck_name).write_to_file(str(path))
    return len(bank.questions)
