import time


def eventually(check, timeout: float = 20.0, interval: float = 0.1):
    """Retry `check` (a callable that asserts or returns a truthy value) until it passes or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result is None or result:
                return result
            raise AssertionError(f"{check} returned {result!r}")
        except Exception:  # not yet: an assertion, or a row that does not exist yet
            if time.monotonic() > deadline:
                raise
        time.sleep(interval)
