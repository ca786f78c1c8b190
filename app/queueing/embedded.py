"""The embedded broker: kombu's SQLAlchemy transport on an SQLite file, polled every 0.1 s.

Chosen over kombu's filesystem transport because each message is written in a transaction (a reader
can never see half a message) and the file survives restarts. The stock transport polls once a second
and hands every transport option to SQLAlchemy's create_engine, so the interval is set on a subclass
(app/queueing/embedded_transport.py), registered here under its own URL scheme.
"""
from kombu.transport import TRANSPORT_ALIASES

from app.environment import EMBEDDED_BROKER_SCHEME

SCHEME = EMBEDDED_BROKER_SCHEME.split("+", 1)[0]  # kombu names the transport by the part before "+"


def register() -> None:
    # Private API: kombu's alias table (kombu.transport.TRANSPORT_ALIASES); checked against kombu 5.7.0.
    TRANSPORT_ALIASES[SCHEME] = "app.queueing.embedded_transport:EmbeddedTransport"
