"""Write the password file of Airflow's simple auth manager from the environment
(``AIRFLOW_ADMIN_USER``, ``AIRFLOW_ADMIN_PASSWORD``): run by the compose file's ``airflow-init``.
The password never appears on a command line, in a log or in the file's neighbourhood: the file is
written with mode 0600 and JSON-encoded, so any character is safe."""

from __future__ import annotations

import json
import os
import sys


def main(path: str) -> None:
    user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
    password = os.environ.get("AIRFLOW_ADMIN_PASSWORD") or ""
    if len(password) < 12 or password.lower().startswith("change-me"):
        sys.exit("AIRFLOW_ADMIN_PASSWORD must be set to at least 12 characters, not a placeholder")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({user: password}, handle)
    sys.stdout.write(f"password file written for user {user}\n")  # never the password


if __name__ == "__main__":
    main(sys.argv[1])
