"""Indicators: what inspectors compute from school data, against a standard set.

Pure functions over plain dataclasses: standard sets read from YAML, the 差异系数 and the
per-school minimums, certification status, self-assessment scores, satisfaction, what-if
changes and the improvement planner. Nothing here touches Telegram or the database.
"""
