"""`manage.py slack_manifest`: print the Slack app manifest filled in with this deployment's URL.

    ./charla manifest --url https://bot.example.org > slack-manifest.json   # on your machine
    heroku run -a my-bot python manage.py slack_manifest                   # on Heroku, URL found by itself
    ./charla manifest --socket-mode > slack-manifest.json                  # Socket Mode: no URL at all

The user pastes the output into https://api.slack.com/apps → Create New App → From a manifest
(JSON tab), instead of clicking through scopes, events and the slash command.

URL, first found: --url; APP_URL; https://$HEROKU_APP_DEFAULT_DOMAIN_NAME (set on dynos when
`heroku labs:enable runtime-dyno-metadata` is on) — the last two read by app/environment.py. Exit status 1 with a message when none is found
or the URL is not an https origin (Slack only calls https request URLs). With --socket-mode, no URL: the
manifest turns Socket Mode on and has no request URLs (Slack sends everything over the socket process's
WebSocket).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import BaseCommand, CommandError

PLACEHOLDER = "https://YOUR-APP.herokuapp.com"
TEMPLATE = Path(__file__).resolve().parents[2] / "slack_app_manifest.json"


def normalise_origin(url: str, allow_http: bool = False) -> str:
    """https://host[:port] with no path, query or trailing slash; CommandError otherwise."""
    parts = urlsplit(url.strip())
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise CommandError(f"{url!r} is not an https URL of the app, e.g. https://my-bot-1a2b3c.herokuapp.com "
                           "(Slack only sends events to https request URLs).")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CommandError(f"{url!r}: give the app's base URL only, without a path; "
                           "the manifest adds /slack/events and /slack/commands.")
    return f"{parts.scheme}://{parts.netloc}"


def for_socket_mode(template: dict) -> dict:
    """A copy of the manifest for Socket Mode: socket_mode_enabled, and no request URL anywhere."""
    manifest = copy.deepcopy(template)
    manifest["settings"]["socket_mode_enabled"] = True
    manifest["settings"]["event_subscriptions"].pop("request_url", None)
    for command in manifest["features"].get("slash_commands", []):
        command.pop("url", None)
    return manifest


def fill(template: dict, origin: str, name: str | None = None) -> dict:
    """A copy of the manifest with every URL pointing at `origin` (and the app renamed, if asked)."""
    def replace(value):
        if isinstance(value, str):
            return value.replace(PLACEHOLDER, origin)
        if isinstance(value, list):
            return [replace(v) for v in value]
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        return value

    manifest = replace(copy.deepcopy(template))
    if name:
        manifest["display_information"]["name"] = name[:35]
        manifest["features"]["bot_user"]["display_name"] = name.lower().replace(" ", "-")[:80]
    leftover = json.dumps(manifest)
    if "YOUR-APP" in leftover:
        raise CommandError("the manifest template still has a YOUR-APP placeholder after filling it in")
    return manifest


class Command(BaseCommand):
    help = "Print the Slack app manifest (JSON) with this app's request URLs filled in."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="the app's public base URL, e.g. https://my-bot-1a2b3c.herokuapp.com "
                                          "(default: APP_URL, or HEROKU_APP_DEFAULT_DOMAIN_NAME on Heroku)")
        parser.add_argument("--name", help="the app's name in Slack (default: Charlandero)")
        parser.add_argument("--allow-http", action="store_true", help="accept an http:// URL (local tests only)")
        parser.add_argument("--socket-mode", action="store_true",
                            help="a Socket Mode app (SLACK_APP_TOKEN, the socket process): no request URLs")

    def handle(self, *args, **options):
        template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
        if options["socket_mode"]:
            if options["url"]:
                raise CommandError("--socket-mode takes no --url: Slack reaches a Socket Mode app over the "
                                   "WebSocket the socket process opens, not at a URL.")
            manifest = fill(for_socket_mode(template), PLACEHOLDER, options["name"])
            self.stdout.write(json.dumps(manifest, indent=2, ensure_ascii=False))
            return
        url = options["url"] or settings.CONFIG.app_url
        if not url:
            raise CommandError("no URL: pass --url https://YOUR-PUBLIC-HOST, the https address Slack reaches this "
                               "app at (on Heroku: `heroku info -s | grep web_url`), or set APP_URL.")
        origin = normalise_origin(url, allow_http=options["allow_http"])
        manifest = fill(template, origin, options["name"])
        self.stdout.write(json.dumps(manifest, indent=2, ensure_ascii=False))
