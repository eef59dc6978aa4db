"""A real browser for the project's tests: Debian's Chromium (installed from Debian's packages
when missing, as ``make e2e`` does for PostgreSQL and Redis) driven by Playwright for Python with
``executable_path``; Playwright's own browser download cannot work on a closed network."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# as root, without a sandbox; no background connections, which a closed network refuses
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    if not CHROMIUM.exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = "/usr/bin/apt-get"
        # fixed arguments, no input of anyone's
        subprocess.run([apt, "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
        subprocess.run(  # noqa: S603
            [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return CHROMIUM


def launch(playwright: Any) -> Any:
    """A headless Chromium browser of ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)
