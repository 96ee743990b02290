"""Benchmark: indicator figures for a province, and the improvement planner.

    .venv/bin/python -m bench indicators
    .venv/bin/python -m bench.indicators [--counties 40] [--schools 50] [--years 10]
                                         [--planner-schools 60] [--repeat 3]

province  `--counties` × `--schools` schools (two nine-year schools per county, split
          into their two parts) over `--years` school years, as plain rows (dicts of
          numbers, the shape an import produces). For every county and year: build the
          records from the rows (the baseline), then the certification status under
          both national sets (every coefficient, every school against the minimums,
          vetoes and assessments from a survey, budgets and scores). Reports the
          median, 95th percentile and maximum per county-year, each also as a ratio to
          the median baseline measured in the same run.
planner   A county of `--planner-schools` schools (two thirds primary) whose coefficients
          are above the thresholds (basic) or whose schools miss minimums (quality);
          `plan_improvements` timed as the median of `--repeat` runs, with the count,
          whether count and cost are proven, the nodes searched, and the ratio to
          building that county's records from its rows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.indicators.balance import county_balance
from bot.indicators.certification import CertificationInputs, certification_status
from bot.indicators.funding import BudgetYear, DisabledEnrolment
from bot.indicators.library import load_library
from bot.indicators.planner import plan_improvements
from bot.indicators.records import Level, SchoolRecord, make_record, split_nine_year
from bot.indicators.satisfaction import GroupResult
from bot.indicators.standards import SetKind, StandardSet

Row = dict[str, Any]

# Typical amounts per student (primary, junior), near the 2017 minimums.
PER_STUDENT = {
    "teaching_area": (4.9, 6.3), "sports_area": (8.2, 11.0), "equipment_value": (2300, 2900),
    "books": (26, 36), "computers": (0.12, 0.15), "multimedia_classrooms": (0.026, 0.027),
    "teachers": (0.055, 0.08), "qualified_teachers": (0.049, 0.060),
    "senior_title_teachers": (0.03, 0.045), "backbone_teachers": (0.013, 0.013),
    "pe_art_teachers": (0.011, 0.011),
}
TEACHER_KINDS = ("teachers", "qualified_teachers", "senior_title_teachers", "backbone_teachers",
                 "pe_art_teachers")


def _amounts(rng: random.Random, level_index: int, students: int, spread: float,
             scale: float = 1.0) -> dict[str, int]:
    return {resource: max(0, round(base[level_index] * scale * students * rng.lognormvariate(0, spread)))
            for resource, base in PER_STUDENT.items()}


def province_rows(counties: int, schools: int, years: int, seed: int = 20261129) -> list[Row]:
    """Plain rows: one per school (or nine-year school) and year."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for county in range(counties):
        for n in range(schools - 2):
            level = Level.PRIMARY if n < (schools - 2) * 2 // 3 else Level.JUNIOR
            students = int(rng.lognormvariate(6.0, 0.7)) + 30
            amounts = _amounts(rng, 0 if level is Level.PRIMARY else 1, students, 0.35)
            for year in range(2015, 2015 + years):
                grown = {k: round(v * (1.03 ** (year - 2015))) for k, v in amounts.items()}
                rows.append({"county": county, "school_id": f"c{county}s{n}", "name": f"第{n}学校",
                             "level": level.value, "year": year,
                             "students": max(1, students + rng.randint(-20, 20)), **grown})
        for n in range(2):
            primary, junior = int(rng.lognormvariate(5.5, 0.5)) + 30, int(rng.lognormvariate(5.0, 0.5)) + 20
            shared = _amounts(rng, 0, primary + junior, 0.3)
            for year in range(2015, 2015 + years):
                rows.append({"county": county, "school_id": f"c{county}n{n}", "name": f"九年制{n}",
                             "level": "nine_year", "year": year, "primary": primary, "junior": junior,
                             **{k: v for k, v in shared.items() if k not in TEACHER_KINDS},
                             **{f"primary_{k}": round(shared[k] * 0.55) for k in TEACHER_KINDS},
                             **{f"junior_{k}": round(shared[k] * 0.5) for k in TEACHER_KINDS}})
    return rows


def build_records(rows: list[Row], weights: dict[Level, Any]) -> list[SchoolRecord]:
    records: list[SchoolRecord] = []
    for row in rows:
        if row["level"] == "nine_year":
            records.extend(split_nine_year(
                school_id=row["school_id"], name=row["name"], year=row["year"],
                students={Level.PRIMARY: row["primary"], Level.JUNIOR: row["junior"]},
                shared={k: row[k] for k in PER_STUDENT if k not in TEACHER_KINDS},
                own={lvl: {k: row[f"{lvl.value}_{k}"] for k in TEACHER_KINDS} for lvl in Level},
                weights=weights))
        else:
            records.append(make_record(
                school_id=row["school_id"], name=row["name"], level=row["level"], year=row["year"],
                students=row["students"], resources={k: row[k] for k in PER_STUDENT}))
    return records


INPUTS = CertificationInputs(
    survey=[GroupResult("parents", 600, 540), GroupResult("teachers", 200, 188),
            GroupResult("deputies", 30, 26)],
    disabled=DisabledEnrolment(enrolled=96, population=100),
    budgets=[BudgetYear.of(y, 100 + 12 * n, 1000 + 50 * n, 5000 + 200 * n, 800 + 30 * n)
             for n, y in enumerate(range(2010, 2026))],
    scores={"school_standards": Decimal(90), "government_effort": Decimal(88)},
)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def bench_province(args: argparse.Namespace) -> None:
    library = load_library()
    sets = [library.standard("basic-balance-2012"), library.standard("quality-balance-2017")]
    weights = dict(sets[0].nine_year_split)
    rows = province_rows(args.counties, args.schools, args.years)
    groups: dict[tuple[int, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row["county"], row["year"]), []).append(row)
    base: list[float] = []
    took: list[float] = []
    total = time.perf_counter()
    for group in groups.values():
        started = time.perf_counter()
        records = build_records(group, weights)
        base.append((time.perf_counter() - started) * 1000)

        def status(records: list[SchoolRecord] = records) -> None:
            for standard in sets:
                certification_status(standard, records, INPUTS)

        took.append(_timed(status))
    total = time.perf_counter() - total
    base_median = statistics.median(base)
    took.sort()
    p95 = took[int(len(took) * 0.95) - 1]
    print(f"province: {args.counties} counties × {args.schools} schools × {args.years} years "
          f"= {len(rows):,} rows, {len(groups)} county-years, {total:.1f} s in all")
    print(f"  build records (baseline)   median {base_median:7.1f} ms")
    for label, value in (("median", statistics.median(took)), ("p95", p95), ("max", took[-1])):
        print(f"  both sets' status  {label:<7} {value:7.1f} ms  {value / base_median:5.1f}× baseline")


def _planner_county(schools: int, standard: StandardSet, seed: int) -> list[Row]:
    rng = random.Random(seed)
    quality = standard.id.startswith("quality")
    rows: list[Row] = []
    primary = schools * 2 // 3
    for n in range(schools):
        level = Level.PRIMARY if n < primary else Level.JUNIOR
        students = int(rng.lognormvariate(5.8, 0.8)) + 20
        # Quality: a county that passed basic balance, a few schools still short of minimums.
        scale = (0.85 if n % 8 == 0 else 1.15) if quality else 1.0
        amounts = _amounts(rng, 0 if level is Level.PRIMARY else 1, students,
                           0.15 if quality else 0.7, scale)
        rows.append({"school_id": f"s{n:02d}", "name": f"学校{n}", "level": level.value,
                     "year": 2024, "students": students, **amounts})
    return rows


def bench_planner(args: argparse.Namespace) -> None:
    library = load_library()
    print(f"\nplanner: {args.planner_schools} schools, median of {args.repeat}")
    for set_id, seed in (("basic-balance-2012", 1), ("basic-balance-2012", 3),
                         ("quality-balance-2017", 1), ("quality-balance-2017", 2)):
        standard = library.standard(set_id)
        rows = _planner_county(args.planner_schools, standard, seed)
        def build(rows: list[Row] = rows) -> object:
            return build_records(rows, {})

        # Building 60 records takes about a millisecond: take many samples for a steady base.
        base = statistics.median(_timed(build) for _ in range(31))
        records = build_records(rows, {})
        samples = []
        plan = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            plan = plan_improvements(standard, records)
            samples.append((time.perf_counter() - started) * 1000)
        assert plan is not None
        took = statistics.median(samples)
        before = county_balance(standard, records)
        if standard.kind is SetKind.BASIC:
            state = ", ".join(f"{lb.level.value} composite {lb.composite:.3f}" for lb in before.levels
                              if lb.composite is not None)
        else:
            state = (f"{len(before.failing_schools)} schools below the minimums rule, largest CV "
                     + ", ".join(f"{lb.level.value} {max(d.cv or 0 for d in lb.dispersions):.3f}"
                                 for lb in before.levels))
        print(f"  {set_id} seed {seed} before: {state}")
        levels = "; ".join(
            f"{lp.level.value} {lp.count} ({'count proven' if lp.count_proven else 'count open'}, "
            f"{'cost proven' if lp.cost_proven else 'cost best found'}, {lp.nodes} nodes)"
            for lp in plan.levels)
        print(f"  {set_id} seed {seed}: {took:7.1f} ms  {took / base:6.0f}× baseline "
              f"({base:.2f} ms); plan {levels}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=40)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--planner-schools", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_province(args)
    bench_planner(args)


if __name__ == "__main__":
    main()
