"""Create the first admin of the compose deployment in the FAB auth manager's user table, from the
environment (``AIRFLOW_ADMIN_USER``, ``AIRFLOW_ADMIN_PASSWORD``, ``AIRFLOW_ADMIN_EMAIL``): run by
``airflow-init`` after ``airflow db migrate``. FAB's own ``airflow users create`` takes the password
as an argument, visible in the process list; here it never leaves the environment of the init
container, and is never printed.

An existing user is left as it is: after the first start, users and passwords are managed in
Airflow's UI (Security > Users), and a restart of the stack must not undo a changed password."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from informat_airflow.check_secrets import Rule, problem

ADMIN_ROLE = "Admin"  # FAB's built-in role with every permission
PASSWORD_RULE = Rule("AIRFLOW_ADMIN_PASSWORD", 12)


@dataclass(frozen=True)
class Admin:
    user: str
    password: str
    email: str

    def __repr__(self) -> str:  # never the password, should the object reach a log
        return f"Admin(user={self.user!r}, email={self.email!r})"


def admin_from(environ: Mapping[str, str]) -> Admin:
    """The admin the environment describes; SystemExit naming the variable when the password is
    missing, a placeholder or short."""
    refused = problem(PASSWORD_RULE, environ.get(PASSWORD_RULE.name))
    if refused:
        raise SystemExit(refused)
    user = environ.get("AIRFLOW_ADMIN_USER") or "admin"
    # FAB keeps an address per user (unique); a local one when none is given
    email = environ.get("AIRFLOW_ADMIN_EMAIL") or f"{user}@localhost"
    return Admin(user, environ[PASSWORD_RULE.name], email)


def _fab_application_builder() -> AbstractContextManager[Any]:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    return get_application_builder()


def create(admin: Admin, builder: Callable[[], AbstractContextManager[Any]]) -> bool:
    """Add ``admin`` with FAB's Admin role unless a user of that name exists; True when added."""
    with builder() as appbuilder:
        security = appbuilder.sm
        if security.find_user(username=admin.user):
            return False
        role = security.find_role(ADMIN_ROLE)
        if role is None:
            raise SystemExit(f"FAB has no role {ADMIN_ROLE!r}: did airflow db migrate run?")
        made = security.add_user(
            admin.user, "Informat", "Admin", admin.email, role, admin.password
        )  # fmt: skip
        if not made:
            raise SystemExit(f"FAB did not create the user {admin.user!r}")
        return True


def main(
    environ: Mapping[str, str] | None = None,
    builder: Callable[[], AbstractContextManager[Any]] = _fab_application_builder,
) -> None:
    admin = admin_from(os.environ if environ is None else environ)
    if create(admin, builder):
        sys.stdout.write(f"admin user {admin.user} created with role {ADMIN_ROLE}\n")
    else:
        sys.stdout.write(f"user {admin.user} exists: left as it is (manage it in the UI)\n")


if __name__ == "__main__":
    main()
