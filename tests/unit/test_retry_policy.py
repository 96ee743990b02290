"""How long a reply may keep trying: transient failures, flood waits, the budget."""

from __future__ import annotations

from bot.core.retry import ALBUM, INTERACTIVE, RetryPolicy


def test_transient_failures_back_off_within_three_tries() -> None:
    assert INTERACTIVE.wait_before_retry(1, 0.0) == 0.5
    assert INTERACTIVE.wait_before_retry(2, 0.5) == 1.5
    assert INTERACTIVE.wait_before_retry(3, 2.0) is None


def test_a_short_flood_wait_is_waited_out_a_long_one_given_up() -> None:
    assert INTERACTIVE.wait_before_retry(1, 0.0, retry_after=1) == 1
    assert INTERACTIVE.wait_before_retry(1, 0.0, retry_after=60) is None
    # an album chunk may wait for the chat's pace, but not forever
    assert ALBUM.wait_before_retry(1, 0.0, retry_after=10) == 10
    assert ALBUM.wait_before_retry(1, 0.0, retry_after=60) is None


def test_all_waiting_stays_within_the_budget() -> None:
    policy = RetryPolicy(tries=10, backoff=(1.0,), budget=2.5, longest_flood_wait=5.0)
    assert policy.wait_before_retry(1, 1.0) == 1.0
    assert policy.wait_before_retry(2, 2.0) is None
    assert policy.wait_before_retry(1, 0.0, retry_after=3) is None


def test_the_interactive_worst_case_is_a_few_seconds() -> None:
    waited, failed = 0.0, 1
    while (wait := INTERACTIVE.wait_before_retry(failed, waited)) is not None:
        waited += wait
        failed += 1
    assert failed == INTERACTIVE.tries and waited <= 5.0
