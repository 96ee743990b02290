"""Drill scoring against the labelled answers: precision and recall of "passes".

    .venv/bin/python -m bench.drill [LABELS.yaml] [--bank BANK.yaml] [--synonyms EXTRA.yaml]

Defaults: tests/data/drill_answers.yaml against the shipped bank and synonyms. The table
printed is the one in docs/quiz.md; disagreements follow it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.quiz.bank import STARTER_BANK, parse_yaml
from bot.quiz.drill import score_answer
from bot.quiz.drillcheck import (
    as_table,
    describe_disagreements,
    evaluate,
    load_labelled,
    questions_by_key,
)
from bot.quiz.lexicon import load_lexicon

LABELLED_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "drill_answers.yaml"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drill")
    parser.add_argument("labels", nargs="?", type=Path, default=LABELLED_SET)
    parser.add_argument("--bank", type=Path, default=STARTER_BANK)
    parser.add_argument("--synonyms", default=None, help="the office's extra synonyms file")
    args = parser.parse_args(argv)
    bank = parse_yaml(args.bank.read_text(encoding="utf-8"))
    questions = questions_by_key(bank.questions)
    answers = load_labelled(args.labels)
    lexicon = load_lexicon(args.synonyms)
    score_answer("预热", ["预热"])  # jieba loads its dictionary on first use; not part of the figure
    started = time.perf_counter()
    report = evaluate(answers, questions, lexicon)
    elapsed = time.perf_counter() - started
    asked = len({a.question for a in answers})
    print(f"{len(answers)} labelled answers to {asked} open questions, "
          f"scored in {elapsed:.1f} s ({elapsed / max(1, len(answers)) * 1000:.1f} ms each)\n")
    print("\n".join(as_table(report)))
    if report.disagreements:
        print("\nDisagreements:")
        print("\n".join(describe_disagreements(report, questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
