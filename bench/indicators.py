"""Benchmark: indicator figures for a province, and the improvement planner.

    .venv/bin/python -m bench indicators
    .venv/bin/python -m bench.indicators [--counties 40] [--schools 50] [--years 10]
                                         [--planner-schools 60] [--repeat 3]
                                         [--only province|planner|database]

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
database  The same province stored as the bot stores it (a migrated SQLite file: school
          units under county units, `schools`, one `school_figures` row per school part,
          year and figure), and the planner's counties beside it. Per county and year:
          reading its rows through the repository the bot uses (the baseline), then the
          computation — building the records (nine-year schools split) and the
          certification status under both national sets. Per planner county: reading
          its rows, then `plan_improvements`. Medians, 95th percentile and maximum, each
          as a ratio to the read measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from bot.indicators.balance import county_balance
from bot.indicators.certification import CertificationInputs, certification_status
from bot.indicators.data import build_records as records_of
from bot.indicators.data import figures_of, school_infos
from bot.indicators.funding import BudgetYear, DisabledEnrolment
from bot.indicators.library import load_library
from bot.indicators.names import resources_of
from bot.indicators.planner import plan_improvements
from bot.indicators.records import Level, SchoolRecord, make_record, split_nine_year
from bot.indicators.satisfaction import GroupResult
from bot.indicators.standards import SetKind, StandardSet
from db.migrate import upgrade
from db.models import FigurePart, School, SchoolFigure, SchoolLevel, Unit, UnitKind
from db.repositories import indicators as repo
from db.session import Database

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


# The province in the database ------------------------------------------------------------
SHARED = tuple(k for k in PER_STUDENT if k not in TEACHER_KINDS)


def _figure_rows(unit_id: int, row: Row) -> list[dict[str, Any]]:
    """One plain row (as `province_rows` makes them) as the bot stores it."""
    year = row["year"]

    def figures(part: FigurePart, values: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"unit_id": unit_id, "year": year, "part": part, "resource": k,
                 "amount": Decimal(v)} for k, v in values.items()]

    if row["level"] != "nine_year":
        return figures(FigurePart(row["level"]),
                       {"students": row["students"], **{k: row[k] for k in PER_STUDENT}})
    found = figures(FigurePart.WHOLE, {k: row[k] for k in SHARED})
    for level in Level:
        found += figures(FigurePart(level.value), {
            "students": row[level.value], **{k: row[f"{level.value}_{k}"] for k in TEACHER_KINDS}})
    return found


def _store(url: str, counties: dict[str, list[Row]]) -> tuple[dict[str, list[int]], int]:
    """County name → its school unit ids; and how many figure rows were written."""
    engine = create_engine(url)
    next_id = 1
    ids: dict[str, list[int]] = {}
    written = 0
    with engine.begin() as conn:
        for county, rows in counties.items():
            county_id, next_id = next_id, next_id + 1
            conn.execute(insert(Unit), [{"id": county_id, "name": county, "kind": UnitKind.COUNTY}])
            by_school: dict[str, int] = {}
            for row in rows:
                if row["school_id"] not in by_school:
                    by_school[row["school_id"]] = next_id
                    conn.execute(insert(Unit), [{"id": next_id, "name": f"{county}{row['name']}",
                                                 "kind": UnitKind.SCHOOL, "parent_id": county_id}])
                    conn.execute(insert(School), [{"unit_id": next_id,
                                                   "level": SchoolLevel(row["level"]),
                                                   "teaching_point": False}])
                    next_id += 1
            figures = [f for row in rows for f in _figure_rows(by_school[row["school_id"]], row)]
            for start in range(0, len(figures), 20000):
                conn.execute(insert(SchoolFigure), figures[start:start + 20000])
            written += len(figures)
            ids[county] = list(by_school.values())
    engine.dispose()
    return ids, written


async def _read(db: Database, unit_ids: list[int], year: int) -> tuple[Any, Any]:
    async with db.session() as session:
        schools = await school_infos(session, unit_ids)
        rows = await repo.figures(session=session, year=year, unit_ids=unit_ids)
    return schools, figures_of(rows)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _spread(label: str, values: list[float], base: float) -> None:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    for name, value in (("median", statistics.median(values)), ("p95", p95), ("max", values[-1])):
        print(f"  {label:<28} {name:<6} {value:8.1f} ms  {value / base:6.1f}× the read")


async def _bench_database(args: argparse.Namespace, url: str) -> None:
    library = load_library()
    sets = [library.standard("basic-balance-2012"), library.standard("quality-balance-2017")]
    resources = resources_of(sets)
    province: dict[str, list[Row]] = {}
    for row in province_rows(args.counties, args.schools, args.years):
        province.setdefault(f"县{row['county']:02d}", []).append(row)
    planner_sets = (("basic-balance-2012", 1), ("basic-balance-2012", 3),
                    ("quality-balance-2017", 1), ("quality-balance-2017", 2))
    planners = {f"规划县{n}": _planner_county(args.planner_schools, library.standard(set_id), seed)
                for n, (set_id, seed) in enumerate(planner_sets)}
    started = time.perf_counter()
    ids, written = await asyncio.to_thread(_store, url, {**province, **planners})
    print(f"database: {args.counties} counties × {args.schools} schools × {args.years} years, "
          f"{written:,} figure rows (with the planner counties), stored in "
          f"{(time.perf_counter() - started):.0f} s")
    db = Database(url)
    try:
        years = sorted({row["year"] for rows in province.values() for row in rows})
        await _read(db, ids[next(iter(province))], years[0])  # warm the engine
        reads: list[float] = []
        computes: list[float] = []
        for county in province:
            for year in years:
                started = time.perf_counter()
                schools, figures = await _read(db, ids[county], year)
                reads.append(_ms(started))
                started = time.perf_counter()
                for standard in sets:
                    records, _ = records_of(standard, schools, figures, year, resources)
                    certification_status(standard, records, INPUTS)
                computes.append(_ms(started))
        base = statistics.median(reads)
        print(f"  per county-year ({len(reads)}): read its rows (baseline) median {base:.1f} ms")
        _spread("records + both sets' status", computes, base)

        print(f"\nplanner from the database: {args.planner_schools} schools, "
              f"median of {args.repeat}")
        for (county, rows), (set_id, seed) in zip(planners.items(), planner_sets, strict=True):
            standard = library.standard(set_id)
            year = rows[0]["year"]
            samples = []
            for _ in range(max(args.repeat, 5)):
                started = time.perf_counter()
                schools, figures = await _read(db, ids[county], year)
                samples.append(_ms(started))
            read = statistics.median(samples)
            records, _ = records_of(standard, schools, figures, year, resources)
            took = []
            plan = None
            for _ in range(args.repeat):
                started = time.perf_counter()
                plan = plan_improvements(standard, records)
                took.append(_ms(started))
            assert plan is not None
            median = statistics.median(took)
            count = "proven" if all(lp.count_proven for lp in plan.levels) else "open"
            cost = "proven" if all(lp.cost_proven for lp in plan.levels) else "best found"
            print(f"  {set_id} seed {seed}: read {read:5.1f} ms; plan {median:7.1f} ms "
                  f"{median / read:6.0f}× the read; {plan.count} improvements "
                  f"(count {count}, cost {cost})")
    finally:
        await db.dispose()


def bench_database(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'province.db'}"
        upgrade(url)
        asyncio.run(_bench_database(args, url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=40)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--planner-schools", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("province", "planner", "database"))
    args = parser.parse_args()
    if args.only in (None, "province"):
        bench_province(args)
    if args.only in (None, "planner"):
        bench_planner(args)
    if args.only in (None, "database"):
        bench_database(args)


if __name__ == "__main__":
    main()
