"""The question bank as a file: parse YAML or CSV, validate every row against Telegram's poll
limits, and import all of it or nothing.

Validation never stops at the first problem: the office fixes a file once, with every
row-level error listed (row number, question id, what is wrong).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import InvalidInput
from bot.quiz.drill import normalise, weight, words
from db.models import Indicator, Question, QuestionKind
from db.repositories import people as people_repo
from db.repositories import quiz as quiz_repo

STARTER_BANK = Path(__file__).resolve().parent / "question_bank.yaml"

# Telegram's quiz-poll limits (PollLimit in the Bot API); the option count is kept at the
# long-standing 10 so a bank works with every client.
MAX_QUESTION = 300
MAX_OPTION = 100
MAX_EXPLANATION = 200
MAX_EXPLANATION_LINE_FEEDS = 2
MIN_OPTIONS, MAX_OPTIONS = 2, 10
DIFFICULTIES = (1, 2, 3)
MAX_KEY = 64
CSV_OPTION_COLUMNS = tuple(f"option{i}" for i in range(1, MAX_OPTIONS + 1))
CSV_COLUMNS = (
    "id", "type", "indicator", "difficulty", "question", *CSV_OPTION_COLUMNS,
    "correct", "explanation", "key_points", "model_answer", "source",
)
# Lists inside one CSV cell (correct indices, key points).
CSV_LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    parent: str | None = None
    veto: bool = False
    description: str = ""


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: QuestionKind
    indicator: str
    difficulty: int
    text: str
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()
    explanation: str = ""
    key_points: tuple[str, ...] = ()
    model_answer: str = ""
    source: str = ""


@dataclass(frozen=True)
class RowError:
    """One problem in one row; `message_id` is a catalog text rendered with `params`."""

    row: int
    ref: str
    message_id: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Bank:
    indicators: tuple[IndicatorSpec, ...]
    questions: tuple[QuestionSpec, ...]


class BankInvalid(InvalidInput):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("quiz.bank.invalid", count=len(errors))
        self.errors = tuple(errors)


@dataclass(frozen=True)
class ImportResult:
    indicators_created: int
    questions_created: int
    questions_updated: int


# Parsing ---------------------------------------------------------------------------------
class _LineLoader(yaml.SafeLoader):
    """Remembers the line each mapping starts on, so errors can name the row."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = dict(loader.construct_mapping(node, deep=True))
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_with_line,
)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int_list(value: Any) -> list[int] | None:
    """Indices from a YAML list or an `0|2` cell; None when something is not a number."""
    if value is None or value == "":
        return []
    items: Iterable[Any] = value if isinstance(value, list) else str(value).split(CSV_LIST_SEPARATOR)
    result = []
    for item in items:
        if isinstance(item, bool):
            return None
        try:
            result.append(int(str(item).strip()))
        except ValueError:
            return None
    return result


def _str_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [part.strip() for part in str(value).split(CSV_LIST_SEPARATOR)]


class _Rows:
    """Collects errors while raw rows are turned into specs."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def error(self, row: int, ref: str, message_id: str, **params: Any) -> None:
        self.errors.append(RowError(row, ref, message_id, params))

    def indicator(self, raw: Mapping[str, Any], row: int) -> IndicatorSpec | None:
        code, name = _text(raw.get("code")), _text(raw.get("name"))
        ref = code or "?"
        if not code:
            self.error(row, ref, "quiz.bank.err.missing", field="code")
        elif len(code) > 32:
            self.error(row, ref, "quiz.bank.err.too_long", field="code", length=len(code), limit=32)
        if not name:
            self.error(row, ref, "quiz.bank.err.missing", field="name")
        if not code or not name:
            return None
        parent = _text(raw.get("parent")) or None
        return IndicatorSpec(code, name[:200], parent, bool(raw.get("veto")),
                             _text(raw.get("description")))

    def question(self, raw: Mapping[str, Any], row: int) -> QuestionSpec | None:
        key = _text(raw.get("id"))
        ref = key or "?"
        before = len(self.errors)
        if not key:
            self.error(row, ref, "quiz.bank.err.missing", field="id")
        elif len(key) > MAX_KEY:
            self.error(row, ref, "quiz.bank.err.too_long", field="id", length=len(key), limit=MAX_KEY)
        try:
            kind = QuestionKind(_text(raw.get("type")))
        except ValueError:
            self.error(row, ref, "quiz.bank.err.bad_type", value=_text(raw.get("type")))
            kind = None
        indicator = _text(raw.get("indicator"))
        if not indicator:
            self.error(row, ref, "quiz.bank.err.missing", field="indicator")
        difficulty = raw.get("difficulty")
        try:
            level = int(str(difficulty).strip())
        except ValueError:
            level = 0
        if level not in DIFFICULTIES:
            self.error(row, ref, "quiz.bank.err.bad_difficulty", value=_text(difficulty))
        text = _text(raw.get("question"))
        self._length(row, ref, "question", text, MAX_QUESTION, required=True)
        explanation = _text(raw.get("explanation"))
        self._length(row, ref, "explanation", explanation, MAX_EXPLANATION, required=False)
        if explanation.count("\n") > MAX_EXPLANATION_LINE_FEEDS:
            self.error(row, ref, "quiz.bank.err.line_feeds", limit=MAX_EXPLANATION_LINE_FEEDS)
        options = [o for o in _str_list(raw.get("options"))]
        correct = _int_list(raw.get("correct"))
        key_points = [p for p in _str_list(raw.get("key_points")) if p]
        model_answer = _text(raw.get("model_answer"))
        if kind is not None and kind.is_poll:
            self._poll(row, ref, kind, options, correct)
        elif kind is QuestionKind.OPEN:
            if not key_points:
                self.error(row, ref, "quiz.bank.err.missing", field="key_points")
            if not model_answer:
                self.error(row, ref, "quiz.bank.err.missing", field="model_answer")
            if options:
                self.error(row, ref, "quiz.bank.err.open_has_options")
        if len(self.errors) > before or kind is None or correct is None:
            return None
        return QuestionSpec(
            key=key, kind=kind, indicator=indicator, difficulty=level, text=text,
            options=tuple(options), correct=tuple(sorted(set(correct))),
            explanation=explanation, key_points=tuple(key_points), model_answer=model_answer,
            source=_text(raw.get("source"))[:100],
        )

    def _length(self, row: int, ref: str, name: str, value: str, limit: int, *, required: bool) -> None:
        if required and not value:
            self.error(row, ref, "quiz.bank.err.missing", field=name)
        elif len(value) > limit:
            self.error(row, ref, "quiz.bank.err.too_long", field=name, length=len(value), limit=limit)

    def _poll(self, row: int, ref: str, kind: QuestionKind, options: list[str],
              correct: list[int] | None) -> None:
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            self.error(row, ref, "quiz.bank.err.option_count", count=len(options),
                       low=MIN_OPTIONS, high=MAX_OPTIONS)
        if kind is QuestionKind.TRUEFALSE and len(options) != 2:
            self.error(row, ref, "quiz.bank.err.truefalse_options")
        for number, option in enumerate(options, start=1):
            if not option:
                self.error(row, ref, "quiz.bank.err.empty_option", number=number)
            elif len(option) > MAX_OPTION:
                self.error(row, ref, "quiz.bank.err.option_too_long", number=number,
                           length=len(option), limit=MAX_OPTION)
        if len(set(options)) != len(options):
            self.error(row, ref, "quiz.bank.err.duplicate_option")
        if correct is None:
            self.error(row, ref, "quiz.bank.err.bad_correct")
            return
        if not correct:
            self.error(row, ref, "quiz.bank.err.no_correct")
        elif any(not 0 <= i < len(options) for i in correct):
            self.error(row, ref, "quiz.bank.err.correct_range", high=len(options) - 1)
        elif kind is not QuestionKind.MULTIPLE and len(set(correct)) != 1:
            self.error(row, ref, "quiz.bank.err.one_correct")


def _cross_check(rows: _Rows, bank: Bank, lines: Mapping[str, int],
                 known_indicators: Iterable[str]) -> None:
    """Errors that need the whole file: duplicates and references to indicators."""
    known = set(known_indicators)
    seen_codes: set[str] = set()
    for spec in bank.indicators:
        if spec.code in seen_codes:
            rows.error(lines.get("i:" + spec.code, 0), spec.code, "quiz.bank.err.duplicate_indicator")
        seen_codes.add(spec.code)
    codes = known | seen_codes
    for spec in bank.indicators:
        if spec.parent and spec.parent not in codes:
            rows.error(lines.get("i:" + spec.code, 0), spec.code, "quiz.bank.err.unknown_parent",
                       code=spec.parent)
    seen_keys: set[str] = set()
    for question in bank.questions:
        row = lines.get("q:" + question.key, 0)
        if question.key in seen_keys:
            rows.error(row, question.key, "quiz.bank.err.duplicate_id")
        seen_keys.add(question.key)
        if question.indicator not in codes:
            rows.error(row, question.key, "quiz.bank.err.unknown_indicator", code=question.indicator)


def parse_yaml(content: str, *, known_indicators: Iterable[str] = ()) -> Bank:
    """A bank from YAML (`version`, `indicators`, `questions`); raises BankInvalid."""
    try:
        data = yaml.load(content, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else 0
        raise BankInvalid([RowError(row, "-", "quiz.bank.err.syntax", {"detail": str(exc)[:200]})]) from None
    rows = _Rows()
    if not isinstance(data, dict):
        raise BankInvalid([RowError(0, "-", "quiz.bank.err.not_a_bank")])
    raw_indicators = data.get("indicators") or []
    raw_questions = data.get("questions") or []
    if not isinstance(raw_indicators, list) or not isinstance(raw_questions, list):
        raise BankInvalid([RowError(0, "-", "quiz.bank.err.not_a_bank")])
    indicators: list[IndicatorSpec] = []
    questions: list[QuestionSpec] = []
    lines: dict[str, int] = {}
    for raw in raw_indicators:
        row = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        if not isinstance(raw, dict):
            rows.error(row, "?", "quiz.bank.err.not_a_row")
            continue
        spec = rows.indicator(raw, row)
        if spec is not None:
            indicators.append(spec)
            lines.setdefault("i:" + spec.code, row)
    for raw in raw_questions:
        if not isinstance(raw, dict):
            rows.error(0, "?", "quiz.bank.err.not_a_row")
            continue
        row = raw.get("__line__", 0)
        question = rows.question(raw, row)
        if question is not None:
            questions.append(question)
            lines.setdefault("q:" + question.key, row)
    bank = Bank(tuple(indicators), tuple(questions))
    _cross_check(rows, bank, lines, known_indicators)
    if rows.errors:
        raise BankInvalid(sorted(rows.errors, key=lambda e: e.row))
    return bank


def parse_csv(content: str, *, known_indicators: Iterable[str] = ()) -> Bank:
    """Questions from CSV (header `CSV_COLUMNS`); indicators must already exist."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = set(reader.fieldnames or [])
    missing = [c for c in ("id", "type", "indicator", "difficulty", "question") if c not in header]
    if missing:
        raise BankInvalid([RowError(1, "-", "quiz.bank.err.csv_header", {"columns": ", ".join(missing)})])
    rows = _Rows()
    questions: list[QuestionSpec] = []
    lines: dict[str, int] = {}
    for raw in reader:
        row = reader.line_num
        options = [raw[c].strip() for c in CSV_OPTION_COLUMNS if (raw.get(c) or "").strip()]
        record = {**raw, "options": options}
        question = rows.question(record, row)
        if question is not None:
            questions.append(question)
            lines.setdefault("q:" + question.key, row)
    bank = Bank((), tuple(questions))
    _cross_check(rows, bank, lines, known_indicators)
    if rows.errors:
        raise BankInvalid(sorted(rows.errors, key=lambda e: e.row))
    return bank


def parse_file(name: str, content: str, *, known_indicators: Iterable[str] = ()) -> Bank:
    if name.lower().endswith(".csv"):
        return parse_csv(content, known_indicators=known_indicators)
    return parse_yaml(content, known_indicators=known_indicators)


# Near duplicates -------------------------------------------------------------------------
# Two questions teach the same thing when this share of what they say (question, right
# answer, explanation; words weighted by rarity) is shared. Measured on the bank as first
# shipped: its known twins (q131/q132 0.90, q129/q130 0.62, q087/q093 0.44, q122/q123 0.41)
# score above it, distinct questions on one topic (q058/q059) below.
NEAR_DUPLICATE = 0.4
# Or the questions are worded alike (rapidfuzz ratio) and share something: one template
# filled twice, as q096/q099 ("督查阶段"/"宣传动员阶段" with the same options).
SAME_WORDING, SAME_WORDING_SHARE = 85, 0.15


def _taught(question: QuestionSpec) -> frozenset[str]:
    if question.kind is QuestionKind.OPEN:
        answer = question.model_answer
    else:
        answer = "；".join(question.options[i] for i in question.correct)
    return frozenset(words(normalise(f"{question.text} {answer} {question.explanation}")))


def similarity(a: QuestionSpec, b: QuestionSpec) -> float:
    """Weighted share of the words two questions teach (0–1)."""
    wa, wb = _taught(a), _taught(b)
    union = sum(weight(w) for w in wa | wb)
    return sum(weight(w) for w in wa & wb) / union if union else 0.0


def near_duplicates(questions: Sequence[QuestionSpec]) -> list[tuple[str, str, float]]:
    """Pairs of polls (or of open questions) that ask the same thing: merge or differentiate.

    A poll and an open question on one fact are not duplicates: one is memorised, the
    other said aloud.
    """
    found = []
    for i, a in enumerate(questions):
        for b in questions[i + 1:]:
            if a.kind.is_poll != b.kind.is_poll:
                continue
            share = similarity(a, b)
            wording = fuzz.ratio(normalise(a.text), normalise(b.text))
            if share >= NEAR_DUPLICATE or (wording >= SAME_WORDING and share >= SAME_WORDING_SHARE):
                found.append((a.key, b.key, round(share, 2)))
    return found


# Writing ---------------------------------------------------------------------------------
def _question_dict(q: QuestionSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": q.key, "type": q.kind.value, "indicator": q.indicator,
        "difficulty": q.difficulty, "question": q.text,
    }
    if q.kind.is_poll:
        data["options"] = list(q.options)
        data["correct"] = list(q.correct)
    data["explanation"] = q.explanation
    if q.kind is QuestionKind.OPEN:
        data["key_points"] = list(q.key_points)
        data["model_answer"] = q.model_answer
    data["source"] = q.source
    return data


def to_yaml(bank: Bank) -> str:
    document = {
        "version": 1,
        "indicators": [
            {"code": i.code, "name": i.name, "parent": i.parent, "veto": i.veto,
             "description": i.description}
            for i in bank.indicators
        ],
        "questions": [_question_dict(q) for q in bank.questions],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def to_csv(bank: Bank) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for q in bank.questions:
        row = {
            "id": q.key, "type": q.kind.value, "indicator": q.indicator,
            "difficulty": q.difficulty, "question": q.text,
            "correct": CSV_LIST_SEPARATOR.join(str(i) for i in q.correct),
            "explanation": q.explanation,
            "key_points": CSV_LIST_SEPARATOR.join(q.key_points),
            "model_answer": q.model_answer, "source": q.source,
        }
        row.update(zip(CSV_OPTION_COLUMNS, q.options, strict=False))
        writer.writerow(row)
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return "\ufeff" + out.getvalue()


# Database --------------------------------------------------------------------------------
async def known_indicator_codes(session: AsyncSession) -> set[str]:
    return {i.code for i in await people_repo.all_indicators(session=session)}


async def import_bank(session: AsyncSession, bank: Bank) -> ImportResult:
    """Create missing indicators and upsert questions by id (the caller commits).

    Existing indicators are left as the office configured them; questions are matched by
    their `id` so people's cards survive a corrected re-import.
    """
    by_code = {i.code: i for i in await people_repo.all_indicators(session=session)}
    created_indicators = 0
    pending_parents: list[tuple[Indicator, str]] = []
    for spec in bank.indicators:
        if spec.code in by_code:
            continue
        indicator = Indicator(code=spec.code, name=spec.name, veto=spec.veto,
                              description=spec.description)
        await people_repo.add_indicator(session=session, indicator=indicator)
        by_code[spec.code] = indicator
        created_indicators += 1
        if spec.parent:
            pending_parents.append((indicator, spec.parent))
    for indicator, parent in pending_parents:
        indicator.parent_id = by_code[parent].id
    existing = {q.key: q for q in await quiz_repo.all_questions(session=session)}
    created = updated = 0
    for item in bank.questions:
        question = existing.get(item.key)
        if question is None:
            question = Question(key=item.key)
            created += 1
        else:
            updated += 1
        question.kind = item.kind
        question.indicator_id = by_code[item.indicator].id
        question.difficulty = item.difficulty
        question.text = item.text
        question.options = list(item.options)
        question.correct = list(item.correct)
        question.explanation = item.explanation
        question.key_points = list(item.key_points)
        question.model_answer = item.model_answer
        question.source = item.source
        session.add(question)
    await session.flush()
    return ImportResult(created_indicators, created, updated)


async def import_file(session: AsyncSession, name: str, content: str) -> ImportResult:
    known = await known_indicator_codes(session)
    return await import_bank(session, parse_file(name, content, known_indicators=known))


async def load_starter_if_empty(session: AsyncSession, path: Path = STARTER_BANK) -> ImportResult | None:
    """The shipped bank, the first time the product starts with an empty bank."""
    if await quiz_repo.count_questions(session=session) > 0:
        return None
    content = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return await import_file(session, path.name, content)


async def current_bank(session: AsyncSession) -> Bank:
    indicators = await people_repo.all_indicators(session=session)
    code_of = {i.id: i.code for i in indicators}
    used = set()
    questions = []
    for q in await quiz_repo.all_questions(session=session):
        used.add(q.indicator_id)
        questions.append(QuestionSpec(
            key=q.key, kind=q.kind, indicator=code_of[q.indicator_id], difficulty=q.difficulty,
            text=q.text, options=tuple(q.options), correct=tuple(q.correct),
            explanation=q.explanation, key_points=tuple(q.key_points),
            model_answer=q.model_answer, source=q.source,
        ))
    # Parents of the indicators that questions use, so the file imports on its own.
    needed = set(used)
    by_id = {i.id: i for i in indicators}
    for indicator_id in list(needed):
        parent = by_id[indicator_id].parent_id
        while parent is not None and parent not in needed:
            needed.add(parent)
            parent = by_id[parent].parent_id
    specs = tuple(
        IndicatorSpec(i.code, i.name, code_of.get(i.parent_id) if i.parent_id else None,
                      i.veto, i.description)
        for i in indicators if i.id in needed
    )
    return Bank(specs, tuple(questions))
