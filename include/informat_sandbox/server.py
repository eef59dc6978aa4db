"""Run the sandbox with uvicorn on 127.0.0.1, in a thread (tests, benchmarks) or in the
foreground (``python -m informat_sandbox``)."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
import uvicorn

from informat_client import masking

from .app import SandboxState, create_app


class SandboxServer:
    """The sandbox on a free port of 127.0.0.1, in a background thread."""

    def __init__(self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = state or SandboxState()
        self.app = create_app(self.state)
        config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="informat-sandbox", daemon=True
        )
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # control plane helpers
    def set_faults(self, **faults: Any) -> dict[str, Any]:
        response = requests.put(f"{self.url}/_sandbox/faults", json=faults, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self, **changes: Any) -> None:
        requests.post(f"{self.url}/_sandbox/reset", json=changes, timeout=120).raise_for_status()

    def stats(self) -> dict[str, int]:
        return requests.get(f"{self.url}/_sandbox/stats", timeout=10).json()


def serve(state: SandboxState, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve in the foreground until interrupted."""
    masking.install()
    config = uvicorn.Config(create_app(state), host=host, port=port, log_level="info")
    server = uvicorn.Server(config)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        masking.get_logger(name)
    server.run()
