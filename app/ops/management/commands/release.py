"""`manage.py release`: what every deploy runs once before the new processes start. Safe to repeat."""
from django.conf import settings
from django.core.management import BaseCommand, call_command

from app.agenda.services import load_sample_if_empty, refresh_agenda


class Command(BaseCommand):
    help = "Apply migrations and load the agenda (feed, or the sample on first run) and the catalogue. Idempotent."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("migrations: up to date")
        url = settings.CONFIG.agenda_feed_url
        if url:
            # Fetch the real agenda now instead of showing sample meetups until beat's first refresh.
            self.stdout.write(f"agenda feed: {refresh_agenda(url).as_dict()}")
        loaded = load_sample_if_empty(include_agenda=not url)
        self.stdout.write(f"sample data loaded where empty: {loaded}")
