"""How well the drill scorer agrees with people: a labelled set of answers, scored.

Each labelled answer names its question, a category (paraphrase, negation …), whether an
inspector would accept it, and the key points it states or gets wrong. The figures are the
precision and recall of "passes" (an answer the scorer passes that people would too, and
the other way round), overall, per category and per set, and how often the scorer's
judgement of a single key point matches the label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.quiz.bank import QuestionSpec
from bot.quiz.drill import DrillScore, score_answer
from bot.quiz.lexicon import Lexicon


@dataclass(frozen=True)
class LabelledAnswer:
    question: str
    category: str
    answer: str
    passes: bool
    covered: frozenset[int] = frozenset()
    wrong: frozenset[int] = frozenset()
    set: str = "dev"


@dataclass
class Tally:
    """Pass/fail agreement: true and false passes, missed passes, true fails."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, *, predicted: bool, labelled: bool) -> None:
        if predicted and labelled:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif labelled:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else 1.0


@dataclass
class Report:
    overall: Tally = field(default_factory=Tally)
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_set: dict[str, Tally] = field(default_factory=dict)
    points: Tally = field(default_factory=Tally)  # "this key point is covered"
    wrong_points: Tally = field(default_factory=Tally)  # "this key point is said wrong"
    disagreements: list[tuple[LabelledAnswer, DrillScore]] = field(default_factory=list)


def parse_labelled(content: str) -> list[LabelledAnswer]:
    data: Any = yaml.safe_load(content) or {}
    answers = []
    for raw in data.get("answers") or []:
        answers.append(LabelledAnswer(
            question=str(raw["q"]), category=str(raw["category"]), answer=str(raw["answer"]),
            passes=bool(raw["pass"]), covered=frozenset(raw.get("covered") or ()),
            wrong=frozenset(raw.get("wrong") or ()), set=str(raw.get("set", "dev")),
        ))
    return answers


def load_labelled(path: Path) -> list[LabelledAnswer]:
    return parse_labelled(path.read_text(encoding="utf-8"))


def score(item: LabelledAnswer, question: QuestionSpec, lexicon: Lexicon | None) -> DrillScore:
    return score_answer(item.answer, question.key_points, question=question.text,
                        question_key=question.key, lexicon=lexicon)


def evaluate(
    answers: Iterable[LabelledAnswer],
    questions: Mapping[str, QuestionSpec],
    lexicon: Lexicon | None = None,
) -> Report:
    report = Report()
    for item in answers:
        question = questions[item.question]
        result = score(item, question, lexicon)
        passed = result.passed
        report.overall.add(predicted=passed, labelled=item.passes)
        report.by_category.setdefault(item.category, Tally()).add(
            predicted=passed, labelled=item.passes)
        report.by_set.setdefault(item.set, Tally()).add(predicted=passed, labelled=item.passes)
        for index, point in enumerate(question.key_points):
            report.points.add(predicted=point in result.covered, labelled=index in item.covered)
            report.wrong_points.add(predicted=point in result.wrong, labelled=index in item.wrong)
        if passed != item.passes:
            report.disagreements.append((item, result))
    return report


def _ratio(value: float, defined: bool) -> str:
    return f"{value:.3f}" if defined else "–"


def _row(name: str, tally: Tally) -> str:
    # A category of answers that should all fail has no recall; one the scorer never
    # passes has no precision. Its false passes are what counts there.
    precision = _ratio(tally.precision, tally.tp + tally.fp > 0)
    recall = _ratio(tally.recall, tally.tp + tally.fn > 0)
    return (f"| {name} | {tally.total} | {tally.tp + tally.fn} | {tally.tp} | {tally.fp} | "
            f"{tally.fn} | {precision} | {recall} |")


def as_table(report: Report) -> list[str]:
    """The figures as the Markdown table docs/quiz.md shows."""
    lines = ["| answers | n | labelled pass | passed, right | passed, wrong | failed, wrong "
             "| precision | recall |", "| --- | --- | --- | --- | --- | --- | --- | --- |",
             _row("**all**", report.overall)]
    lines += [_row(f"set: {name}", tally) for name, tally in sorted(report.by_set.items())]
    lines += [_row(name, tally) for name, tally in sorted(report.by_category.items())]
    points, wrong = report.points, report.wrong_points
    lines += [
        "",
        f"Key points judged covered: precision {points.precision:.3f}, recall "
        f"{points.recall:.3f} ({points.tp + points.fn} labelled covered of {points.total}).",
        f"Key points judged wrong: precision {wrong.precision:.3f}, recall {wrong.recall:.3f} "
        f"({wrong.tp + wrong.fn} labelled wrong).",
    ]
    return lines


def describe_disagreements(report: Report, questions: Mapping[str, QuestionSpec]) -> list[str]:
    lines = []
    for item, result in report.disagreements:
        verdict = "passed, labelled fail" if result.passed else "failed, labelled pass"
        lines.append(f"{item.question} [{item.category}] {verdict} ({result.percent}): "
                     f"{item.answer}")
        lines.append(f"    covered {list(result.covered)}; wrong {list(result.wrong)}")
    return lines


def questions_by_key(questions: Sequence[QuestionSpec]) -> dict[str, QuestionSpec]:
    return {q.key: q for q in questions}
