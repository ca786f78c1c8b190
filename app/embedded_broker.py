"""The embedded broker: kombu's SQLAlchemy transport on an SQLite file, polled every 0.1 s.

Chosen over kombu's filesystem transport because each message is written in a transaction (a reader
can never see half a message) and the file survives restarts. The stock transport polls once a second
and hands every transport option to SQLAlchemy's create_engine, so the interval is set on a subclass
(app/embedded_transport.py), registered here under its own URL scheme.
"""
from kombu.transport import TRANSPORT_ALIASES

SCHEME = "charla-sqlite"


def register() -> None:
    TRANSPORT_ALIASES[SCHEME] = "app.embedded_transport:EmbeddedTransport"


def url_for(path) -> str:
    return f"{SCHEME}+sqlite:///{path}"
