"""The embedded broker's transport class (see app/queueing/embedded.py).

In a module of its own so that SQLAlchemy is imported only by processes that use the embedded broker:
kombu resolves the alias to this class on first use, which spares every process on RabbitMQ the memory
(bench/README.md).
"""
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class EmbeddedTransport(SQLAlchemyTransport):
    polling_interval = 0.1
    # The worker's delivery consumer reports a failed hand-on as a ConnectionError so that Celery reconnects
    # (app/queueing/deliveries.py); the stock transport only counts SQLAlchemy's OperationalError.
    # Private API: Transport.connection_errors of kombu.transport.sqlalchemy; checked against kombu 5.7.0.
    connection_errors = (*SQLAlchemyTransport.connection_errors, ConnectionError)
