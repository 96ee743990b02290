"""The question bank as a file: YAML or CSV rows, validated against Telegram's poll limits,
and written back the same way.

Validation never stops at the first problem: the office fixes a file once, with every
row-level error listed (row number, question id, what is wrong).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import InvalidInput
from db.models import QuestionKind

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
    try:
        header = set(reader.fieldnames or [])
        records = [(reader.line_num, raw) for raw in reader]
    except csv.Error as exc:
        # A line break inside an unquoted cell (a stray carriage return) and the like.
        raise BankInvalid([RowError(reader.line_num or 1, "-", "quiz.bank.err.csv_broken",
                                    {"reason": str(exc)})]) from None
    missing = [c for c in ("id", "type", "indicator", "difficulty", "question") if c not in header]
    if missing:
        raise BankInvalid([RowError(1, "-", "quiz.bank.err.csv_header", {"columns": ", ".join(missing)})])
    rows = _Rows()
    questions: list[QuestionSpec] = []
    lines: dict[str, int] = {}
    for row, raw in records:
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
