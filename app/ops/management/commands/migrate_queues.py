"""`manage.py migrate_queues --to quorum|classic`: give every queue of the layout that type, moving what they
hold (app/queueing/migration.py). Stop the workers and beat first; web may keep running. Safe to repeat."""
from django.conf import settings
from django.core.management import BaseCommand, CommandError

from app.queueing import layout, migration


class Command(BaseCommand):
    help = ("Move every queue, with its messages, to the queue type given (RabbitMQ cannot change a queue's type). "
            "Stop the workers and beat first; then start everything with CHARLA_QUEUE_TYPE set to that type.")

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, choices=layout.QUEUE_TYPES, dest="queue_type",
                            help="the queue type every queue should have")

    def handle(self, *args, queue_type, **options):
        if not settings.CONFIG.broker_is_amqp:
            raise CommandError("migrate_queues needs RabbitMQ (queue types are RabbitMQ's); the broker is "
                               f"{settings.CONFIG.broker_url_source}.")
        from app.queueing.celery_app import celery_app

        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=3)
            try:
                results = migration.migrate(connection, queue_type, say=self.stdout.write)
            except migration.MigrationRefused as exc:
                raise CommandError(str(exc)) from None
        moved = sum(result.messages for result in results)
        self.stdout.write(f"every queue is now a {queue_type} queue ({', '.join(r.queue for r in results)}); "
                          f"{moved} message(s) moved")
        if settings.CONFIG.queue_type != queue_type:
            self.stdout.write(f"next: set CHARLA_QUEUE_TYPE={queue_type} for web, the workers and beat, then "
                              "restart web and start the workers and beat")
