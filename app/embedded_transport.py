"""The embedded broker's transport class (see app/embedded_broker.py).

In a module of its own so that SQLAlchemy is imported only by processes that use the embedded broker:
kombu resolves the alias to this class on first use. On RabbitMQ that saves ~16 MB in every process.
"""
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class EmbeddedTransport(SQLAlchemyTransport):
    polling_interval = 0.1
    # The worker's delivery consumer reports a failed hand-on as a ConnectionError so that Celery reconnects
    # (app/bot/delivery_consumer.py); the stock transport only counts SQLAlchemy's OperationalError.
    connection_errors = (*SQLAlchemyTransport.connection_errors, ConnectionError)
