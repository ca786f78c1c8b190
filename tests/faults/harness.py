"""What every suite that breaks a running system shares (tests/faults, tests/cluster): the system started under
a time budget with its clean-up guaranteed, the signed load sent while the faults are injected, and the books
read once the system has drained."""
from __future__ import annotations

import atexit
import signal
import threading
import time
from contextlib import contextmanager

from tests.faults.accounting import Summary, charged_to, drain, read_books


def _interrupted(signum, frame):
    # SIGTERM (a CI timeout) or SIGALRM (the suite's own budget): raised here, so the clean-up still runs
    raise KeyboardInterrupt(f"fault suite interrupted by signal {signal.Signals(signum).name}")


@contextmanager
def started_within(system, seconds: int):
    """Start the system; stop it (and everything it started) on the way out, whatever happened, and interrupt
    the test after `seconds` or at SIGTERM."""
    atexit.register(system.close)
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGALRM)}
    signal.alarm(seconds)
    try:
        system.start()
        yield system
    finally:
        signal.alarm(0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        system.close()
        atexit.unregister(system.close)


def load_through_faults(injector, sender, events: int) -> tuple[dict, float]:
    """Send at least `events` signed events while the injector runs its faults, in sequence. Returns which
    fault each item is charged to, and how long the load ran."""
    load_error: list[BaseException] = []
    load_started = time.monotonic()

    def load():
        try:
            sender.run(at_least=events, keep_going=lambda: not injector.done.is_set(), started=load_started)
        except BaseException as exc:  # surfaced in the test's thread below
            load_error.append(exc)
            injector.done.set()

    load_thread = threading.Thread(target=load, name="slack-load", daemon=True)
    load_thread.start()
    injector.run(load_started)
    load_thread.join(timeout=120)
    assert not load_thread.is_alive(), "the load did not finish sending within 2 minutes of the last fault"
    if load_error:
        raise load_error[0]
    charges = {seq: charged_to(at, injector.records) for seq, at in sender.item_sent_at.items()}
    return charges, time.monotonic() - load_started


def books_after_drain(system, injector, sender, charges: dict, load_seconds: float, deadline: float) -> Summary:
    """Wait (until `deadline`, monotonic) for the system to drain, then read what happened to every item."""
    def books():
        return read_books(system.postgres.url, system.fake.posts(), sender.items, sender.attempts, charges)

    drained = drain(books, system.rabbit, deadline)
    return Summary(books(), sender.attempts, sender.events_sent, load_seconds, injector.records, drained,
                   list(system.exits), system.error_summary())
