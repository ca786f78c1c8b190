"""A real HTTP server on 127.0.0.1 that serves agenda feeds the test sets up."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    content_type: str | None = "application/json"
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class FeedServer:
    """Serves whatever the test puts in `routes` (path -> Route) and counts the requests it got."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                route = server.routes.get(self.path.split("?")[0], Route(404, "text/plain", b"not found"))
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, path: str, body: bytes | str, content_type: str | None = "application/json",
              status: int = 200, **headers) -> str:
        self.routes[path] = Route(status, content_type, body.encode() if isinstance(body, str) else body, headers)
        return self.base_url + path

    def start(self) -> "FeedServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
