"""A stand-in for a dead man's switch monitor (healthchecks, an Uptime Kuma push monitor): an
HTTP server on 127.0.0.1 that answers every GET with 200 and keeps the paths it was asked."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HeartbeatCatcher:
    def __init__(self) -> None:
        self.paths: list[str] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                catcher.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> HeartbeatCatcher:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HeartbeatCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
