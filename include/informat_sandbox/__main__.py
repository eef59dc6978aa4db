"""``python -m informat_sandbox``: start the Informat sandbox on 127.0.0.1.

The client secret comes from ``INFORMAT_SANDBOX_CLIENT_SECRET`` (never from the command line,
where other users could read it); without it a random one is made and written to
``--secret-file`` when given.
"""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import date
from pathlib import Path

from .app import SandboxState
from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="informat-sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42, help="same seed, same data")
    parser.add_argument("--students", type=int, default=4000, help="students in the school group")
    parser.add_argument(
        "--instellingen", type=int, default=0,
        help="0: the default school group (six instellingen, four toegangsgroepen); N: N "
        "instellingen of equal size, each with a toegangsgroep of its own",
    )  # fmt: skip
    parser.add_argument(
        "--client-id", default=os.environ.get("INFORMAT_SANDBOX_CLIENT_ID", "sandbox-client")
    )
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the sandbox's date")
    parser.add_argument("--pdf-delay", type=float, default=2.0, help="seconds until a PDF is ready")
    parser.add_argument("--secret-file", type=Path, help="write a generated secret here (0600)")
    parser.add_argument(
        "--container",
        action="store_true",
        help="allow a non-loopback --host: inside a container, whose port the host publishes "
        "on 127.0.0.1 only",
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.container:
        parser.error("the sandbox binds a loopback address only (inside a container: --container)")
    secret = os.environ.get("INFORMAT_SANDBOX_CLIENT_SECRET") or secrets.token_urlsafe(24)
    if args.secret_file and not os.environ.get("INFORMAT_SANDBOX_CLIENT_SECRET"):
        args.secret_file.parent.mkdir(parents=True, exist_ok=True)
        args.secret_file.touch(mode=0o600)
        args.secret_file.write_text(secret)
    state = SandboxState(
        seed=args.seed,
        students=args.students,
        instellingen=args.instellingen,
        client_id=args.client_id,
        client_secret=secret,
        today=args.today,
        pdf_delay=args.pdf_delay,
    )
    print(
        f"Informat sandbox on http://{args.host}:{args.port} "
        f"({state.group.all_students()} students, schooljaar {state.schooljaar}, "
        f"client_id {args.client_id}); control plane: /_sandbox/docs",
        flush=True,
    )
    serve(state, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
