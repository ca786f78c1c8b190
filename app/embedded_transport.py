"""The embedded broker's transport class (see app/embedded_broker.py).

In a module of its own so that SQLAlchemy is imported only by processes that use the embedded broker:
kombu resolves the alias to this class on first use. On RabbitMQ that saves ~16 MB in every process.
"""
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class EmbeddedTransport(SQLAlchemyTransport):
    polling_interval = 0.1
