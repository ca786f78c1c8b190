"""HTTP/1.1 requests written byte by byte, for headers no HTTP client would send (any bytes in a value,
odd names, a Content-Length that is not a number)."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int          # 0: the server closed the connection without answering
    headers: dict[str, str]
    body: bytes


def raw_post(base_url: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes,
             content_length: bytes | None = None, timeout: float = 15) -> RawResponse:
    """POST `body` with exactly these header lines (after Host and Content-Length), then read the answer.
    `content_length` replaces the true length as the Content-Length value."""
    url = urlsplit(base_url)
    length = str(len(body)).encode() if content_length is None else content_length
    lines = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: " + url.netloc.encode(),
             b"Content-Length: " + length, b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)  # nothing more comes: a server waiting for more body sees the end
        except OSError:
            pass  # the server answered and closed before reading everything; read what it said
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return _parsed(received)


def _parsed(received: bytes) -> RawResponse:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return RawResponse(0, {}, received)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return RawResponse(int(parts[1]), headers, body)
