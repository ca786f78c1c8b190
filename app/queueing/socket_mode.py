"""The `socket` process (`bin/process socket`): Slack's Socket Mode connection, for a bot with no public URL.

It calls `apps.connections.open` with the app-level token (SLACK_APP_TOKEN), keeps the WebSocket Slack
answers with open, and for every envelope hands the delivery to the same durable path as web — the
`deliveries` queue through app/bot/ingress.py's hand_off, which returns once the broker confirmed it or the
database kept it (parked) — and only then acknowledges the envelope (with a slash command's "On it…" as the
ack's payload). An envelope that was not handed on is not acknowledged, so Slack sends it again; one that was
handed on twice (an ack lost with a dropped connection) is recorded once by the worker (event_id). No work is
done here: the worker does it, exactly as for deliveries that came over HTTP.

Client: slack_sdk's aiohttp one (slack_sdk.socket_mode.aiohttp), measured against the other three on this
kind of machine (/work/shared/docs/socket-mode.md, bench/README.md): the `builtin` client acked the first
envelope after a reconnect only past Slack's 3-second deadline and noticed a dropped TCP connection only
after several failed pings; `websocket_client` took seconds to reconnect after a `disconnect`; the
`websockets` variant is as quick as aiohttp but needs aiohttp anyway (slack_sdk's AsyncWebClient, which
opens the connection, is built on it), so aiohttp alone is the one new dependency. Its own check for a
connection that ended without a close frame runs only every ping interval; the watchdog below reconnects
as soon as the session is closed, so envelopes are not left waiting for it.

Hand-offs block (a broker confirm, a database write), so they run in a few threads beside the event loop,
each with its own broker connection (DeliveryPublisher is per thread) and database connection; the loop
only reads envelopes and writes acks. Exactly one socket process per Slack app (every recipe runs one).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("app.socket")

# Hand-offs under way at once. A thread (with its own broker and database connections) is made only when all
# are busy: few in steady operation; while the broker stalls, each hand-off may take about 2 s before parking.
HANDOFF_THREADS = 16
WATCH_INTERVAL = 0.05        # seconds between looks at the session (a flag read, no I/O)
PING_INTERVAL = 5.0          # slack_sdk's default: pings, and aiohttp's heartbeat for silent (NAT) drops
ACK_RETRY_WITHIN = 2.0       # seconds an ack waits for a reconnect before it is given up (Slack re-sends)
# Slack's answers to apps.connections.open that no retry will change: stop with one line instead.
FATAL_ERRORS = {"invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked",
                "missing_scope", "no_permission"}


class SocketModeConnection:
    """One Socket Mode connection (reconnected as needed) and the hand-off threads behind it."""

    def __init__(self, app_token: str, api_url: str):
        # slack_sdk's async modules import aiohttp: only this process loads them.
        from slack_sdk.socket_mode.aiohttp import SocketModeClient
        from slack_sdk.web.async_client import AsyncWebClient

        self.client = SocketModeClient(app_token=app_token, web_client=AsyncWebClient(base_url=api_url),
                                       ping_interval=PING_INTERVAL, logger=logging.getLogger("app.socket.sdk"))
        self.client.socket_mode_request_listeners.append(self._on_request)
        self.handoffs = ThreadPoolExecutor(HANDOFF_THREADS, thread_name_prefix="handoff")
        self.stopping = asyncio.Event()

    async def _on_request(self, client, request) -> None:
        from app.bot.socket_edge import answer_envelope  # queueing reaches the bot only here, at run time

        loop = asyncio.get_running_loop()
        received_at = time.monotonic()  # an envelope that waits long for a thread is parked (socket_edge)
        try:
            ack = await loop.run_in_executor(self.handoffs, answer_envelope, request.type, request.payload,
                                             received_at)
        except Exception:  # a bug, not bad input (answer_envelope refuses that itself): Slack will re-send
            log.exception("socket: envelope %s not handed on; not acknowledged", request.envelope_id)
            return
        if ack is None:
            log.error("socket: neither the broker nor the database took envelope %s; not acknowledged, so Slack "
                      "sends it again", request.envelope_id)
            return
        message = {"envelope_id": request.envelope_id}
        if ack.payload is not None and request.accepts_response_payload:
            message["payload"] = ack.payload
        await self._send_ack(message)

    async def _send_ack(self, message: dict) -> None:
        """The ack goes on whichever connection is current; if it was just lost, on the next one."""
        deadline = asyncio.get_running_loop().time() + ACK_RETRY_WITHIN
        while True:
            try:
                await self.client.send_socket_mode_response(message)
                return
            except Exception as exc:  # aiohttp's connection errors while the session is being replaced
                if asyncio.get_running_loop().time() > deadline or self.stopping.is_set():
                    log.warning("socket: ack of envelope %s not sent (%s: %s); Slack will send it again and the "
                                "worker records it once", message["envelope_id"], type(exc).__name__, exc)
                    return
            await asyncio.sleep(WATCH_INTERVAL)

    async def connect(self) -> None:
        """The first connection: retried while Slack or the network is not there; a token Slack refuses stops
        the process (SystemExit 2) with one line."""
        from slack_sdk.errors import SlackApiError

        while not self.stopping.is_set():
            try:
                # Asked here rather than inside slack_sdk's connect(), which retries every error for ever,
                # so that a token Slack refuses is reported.
                self.client.wss_uri = await self.client.issue_new_wss_url()
                await self.client.connect()
                log.info("socket: connected to Slack (Socket Mode); handing deliveries to the broker")
                return
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error in FATAL_ERRORS:
                    sys.stderr.write(f"charlandero: Slack refused SLACK_APP_TOKEN ({error}). Use an app-level token "
                                     "(xapp-...) with the connections:write scope, from your Slack app's Basic "
                                     "Information page, and turn Socket Mode on for the app.\n")
                    raise SystemExit(2) from None
                log.warning("socket: apps.connections.open failed (%s); trying again", error)
            except Exception as exc:
                log.warning("socket: cannot reach Slack (%s: %s); trying again", type(exc).__name__, exc)
            await self._pause(2.0)

    async def watch(self) -> None:
        """Reconnect as soon as the session is closed (a TCP connection dropped without a close frame, a
        heartbeat that timed out), instead of at slack_sdk's next ping. A `disconnect` from Slack is handled
        by slack_sdk itself (it opens the new connection first); then there is nothing to do here."""
        while not self.stopping.is_set():
            session = self.client.current_session
            # Private API: SocketModeClient.current_session (aiohttp's ClientWebSocketResponse) and
            # connect_operation_lock, held while slack_sdk itself replaces the session; checked against
            # slack_sdk 3.47.0 and aiohttp 3.14.5.
            replacing = self.client.connect_operation_lock.locked()
            if session is not None and session.closed and not self.client.closed and not replacing:
                log.info("socket: connection to Slack lost; reconnecting")
                try:
                    await self.client.connect_to_new_endpoint()
                except Exception as exc:
                    log.warning("socket: reconnect failed (%s: %s); trying again", type(exc).__name__, exc)
                    await self._pause(1.0)
            await self._pause(WATCH_INTERVAL)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def close(self) -> None:
        await self.client.close()
        # Hand-offs under way finish (each is bounded well inside 3 s); their acks cannot go out any more,
        # so Slack sends those envelopes again and the worker records each once.
        await asyncio.get_running_loop().run_in_executor(None, self.handoffs.shutdown)


async def serve(app_token: str, api_url: str) -> None:
    connection = SocketModeConnection(app_token, api_url)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, connection.stopping.set)
    try:
        await connection.connect()
        await connection.watch()
    finally:
        log.info("socket: stopping")
        await connection.close()


def run() -> int:
    import django
    from django.conf import settings

    django.setup()  # the first read of settings: a configuration error stops here, in one line
    config = settings.CONFIG
    if not config.socket_mode:
        sys.stderr.write("charlandero: configuration error: bin/process socket needs SLACK_APP_TOKEN. Set it to your "
                         "Slack app's app-level token (xapp-..., Basic Information > App-Level Tokens, scope "
                         "connections:write), or do not run the socket process (Slack then comes over HTTP to web).\n")
        return 2
    asyncio.run(serve(config.slack_app_token, config.slack_api_url))
    return 0
