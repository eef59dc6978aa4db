"""A free TCP port on 127.0.0.1 (servers in tests and benchmarks bind loopback only)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
