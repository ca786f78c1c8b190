"""Celery's consumer, reconnecting to a broker that comes back within about a second, and at once to another
node of a cluster.

Stock Celery retries a lost broker connection after 2, 4, 6, 8 … seconds (kombu's ensure_connection
defaults): a worker then sits idle for up to 8 s after a broker restart while Slack keeps sending. Here
the retries start at 0.2 s and stay at most 1 s apart; with a failover list (amqp://a;amqp://b;...) kombu
tries the next node at once, and waits only after a round of all of them. Set as `worker_consumer` in
settings.

On quorum queues the consumer also sets up the delay exchanges and queues of countdown tasks each time it
connects (Celery's DelayedDelivery step). Celery's own step does it on every node of the failover list, as if
each were a broker of its own, retrying a node that is down for about 17 s before it gives up on it — and
the consumer takes no message meanwhile. The nodes of a failover list are one cluster, where what is declared
on one node is there on all: ClusterDelayedDelivery does it once, on the first node that answers, starting
with the one the consumer is connected to.
"""
from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from celery.worker.consumer import Consumer
from celery.worker.consumer.delayed_delivery import DelayedDelivery

log = logging.getLogger(__name__)
RECONNECT_INTERVALS = {"interval_start": 0.2, "interval_step": 0.4, "interval_max": 1.0}
CELERY_DELAYED_DELIVERY_STEP = "celery.worker.consumer.delayed_delivery:DelayedDelivery"


class ClusterDelayedDelivery(DelayedDelivery):
    # Private API: DelayedDelivery._validate_configuration and _setup_delayed_delivery(c, broker_url), and the
    # step's place in Consumer.Blueprint.default_steps; checked against celery 5.7.0.

    def start(self, c) -> None:
        self._validate_configuration(c.app)
        nodes = _nodes_from(c.app.conf.broker_url, connected=c.connection)
        for url in nodes:
            try:
                self._setup_delayed_delivery(c, url)
                return
            except Exception as exc:  # this node did not answer or failed: the next one of the cluster
                log.warning("delayed delivery not set up on %s (%s: %s); trying the next node", _host(url),
                            type(exc).__name__, exc)
        log.critical("delayed delivery could not be set up on any node (%s): a countdown task cannot be sent "
                     "until the worker reconnects", ", ".join(_host(url) for url in nodes))


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5672}"


def _nodes_from(broker_url, connected=None) -> list[str]:
    """The failover list in order, the node the consumer is connected to first."""
    urls = broker_url if isinstance(broker_url, (list, tuple)) else str(broker_url).split(";")
    nodes = [url.strip() for url in urls if url.strip()]
    if connected is not None:
        here = f"{connected.hostname}:{connected.port or 5672}"
        nodes.sort(key=lambda url: _host(url) != here)
    return nodes


class QuickReconnectConsumer(Consumer):
    class Blueprint(Consumer.Blueprint):
        default_steps = [
            f"{ClusterDelayedDelivery.__module__}:{ClusterDelayedDelivery.__name__}"
            if step == CELERY_DELAYED_DELIVERY_STEP else step for step in Consumer.Blueprint.default_steps]

    def ensure_connected(self, conn):
        # Private API: Consumer.ensure_connected calls conn.ensure_connection(errback, max_retries,
        # callback=...), so the intervals are bound onto that one call. Checked against celery 5.7.0.
        conn.ensure_connection = functools.partial(conn.ensure_connection, **RECONNECT_INTERVALS)
        try:
            return super().ensure_connected(conn)
        finally:
            del conn.ensure_connection  # back to the class's method
