"""The port `bin/process all` gives web, prints, and hands to every process."""
from __future__ import annotations

import dataclasses
import socket

from app.environment import load
from app.web_address import web_port
from tests.support.stack import free_port


def test_a_busy_default_port_moves_a_local_run_to_the_next_free_one(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        busy = taken.getsockname()[1]
        local = load({"CHARLA_LOCAL": "1", "DATA_DIR": str(tmp_path), "PORT": str(busy)})
        moved = web_port(dataclasses.replace(local, port_given=False))  # as if `busy` were the default and PORT unset
        assert busy < moved < busy + 20
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", moved))  # free indeed
        # A port someone chose is theirs: gunicorn then says it is in use, nothing moves silently.
        assert local.port_given and web_port(local) == busy
        deployed = load({"SECRET_KEY": "k" * 50, "DATA_DIR": str(tmp_path), "PORT": str(busy)})
        assert web_port(dataclasses.replace(deployed, port_given=False)) == busy  # Docker's `all` binds its container's port
