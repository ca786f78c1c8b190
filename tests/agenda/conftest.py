"""Fixtures for the agenda tests: a real HTTP feed server on 127.0.0.1 and feed builders."""
from __future__ import annotations

import socket

import pytest

from tests.support.feed_server import FeedServer


@pytest.fixture
def feed_server():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
