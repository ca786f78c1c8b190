"""A database that restarts is waited out in place; inside a caller's transaction it is the caller's to retry."""
from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from app.bot import retrying


def test_a_transient_database_error_is_retried_until_it_passes():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return "done"

    assert retrying.with_database_retries(flaky, waits=(0.01, 0.01, 0.01)) == "done"
    assert len(calls) == 3


def test_when_the_waits_are_used_up_the_error_is_raised():
    def down():
        raise OperationalError("could not connect to server")

    with pytest.raises(OperationalError):
        retrying.with_database_retries(down, waits=(0.01,))


def test_other_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        retrying.with_database_retries(broken, waits=(0.01, 0.01))
    assert calls == [1]


@pytest.mark.django_db
def test_inside_a_transaction_the_error_goes_to_the_caller():
    calls = []

    def flaky():
        calls.append(1)
        raise OperationalError("terminating connection due to administrator command")

    with transaction.atomic(), pytest.raises(OperationalError):
        retrying.with_database_retries(flaky, waits=(0.01, 0.01))
    assert calls == [1]


def test_backoff_grows_and_is_capped():
    assert 0.5 <= retrying.backoff(0) <= 1.0
    assert 4.0 <= retrying.backoff(3) <= 8.0
    assert retrying.backoff(30, cap=60) <= 60
