"""The port `bin/process all` gives web: printed once, handed to every process, so the URL shown is the one served.

    python -m app.web_address     prints the port on stdout, and on stderr the line a person reads

PORT is read (and checked) by app/environment.py like every other variable. On a local run (./charla)
with no PORT given, a busy default port is not an error: the next free one is used, and printed.
"""
from __future__ import annotations

import socket
import sys

from app.environment import Config, load_or_exit

LOCAL_HOST = "127.0.0.1"  # where gunicorn.conf.py binds on a local run
PORTS_TO_TRY = 20


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError:
            return False
    return True


def web_port(config: Config) -> int:
    if config.port_given or not config.local:
        return config.port
    return next((p for p in range(config.port, config.port + PORTS_TO_TRY) if _free(p)), config.port)


def main() -> None:
    config = load_or_exit()
    port = web_port(config)
    url = f"http://127.0.0.1:{port}/"
    if port != config.port:
        sys.stderr.write(f"charlandero: port {config.port} is taken; web uses {port} (set PORT to choose)\n")
    what = "the local console" if config.console_enabled else "web"
    sys.stderr.write(f"charlandero: {what} on {url}\n")
    print(port)


if __name__ == "__main__":
    main()
