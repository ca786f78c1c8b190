"""Empty the deliveries and inbox queues between ingest runs (nothing consumes during them), print how many went.

    CELERY_BROKER_URL=amqp://... python -m bench.purge [queue ...]
"""
from __future__ import annotations

import os
import sys

from kombu import Connection


def main() -> None:
    queues = sys.argv[1:] or ["deliveries", "inbox"]
    with Connection(os.environ["CELERY_BROKER_URL"], connect_timeout=10) as conn:
        channel = conn.default_channel
        for name in queues:
            try:
                print(name, channel.queue_purge(name) or 0)
            except Exception as exc:  # the queue does not exist yet: nothing to purge
                print(name, f"not purged ({type(exc).__name__})")
                channel = conn.channel()


if __name__ == "__main__":
    main()
