"""Celery beat's scheduler, made to survive a broker outage.

Stock beat keeps one producer for its whole life. After the broker goes away, that producer can
keep a dead channel (seen with the embedded SQLite transport), so every later tick fails with
"channel disconnected" even when the broker is back. Here a failed send drops the producer and its
connection; the next tick opens fresh ones. Set as `beat_scheduler` in settings.
"""
from celery.beat import PersistentScheduler, SchedulingError


class ResilientScheduler(PersistentScheduler):
    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        try:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        except SchedulingError:
            self._forget_connection()
            raise

    def _forget_connection(self) -> None:
        # Private API: Scheduler.producer and Scheduler.connection are cached_property values kept in the
        # instance's __dict__; popping them makes the next use build new ones. Checked against celery 5.7.0.
        self.__dict__.pop("producer", None)
        connection = self.__dict__.pop("connection", None)
        if connection is not None:
            try:
                connection.release()
            except Exception:  # it is already broken; all we want is a new one
                pass
