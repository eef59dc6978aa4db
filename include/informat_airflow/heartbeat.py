"""A dead man's switch: a run that never happened is noticed from outside Airflow. A deadline
alert exists only once a run exists, so a paused DAG or a stopped scheduler raises nothing. Each
scheduled DAG therefore pings an optional HTTP connection ``informat_heartbeat`` (a self-hosted
Uptime Kuma push monitor, healthchecks, ...) when a scheduled run succeeds; that monitor, set to
the DAG's period, alerts when the pings stop. Manual runs do not ping: they say nothing about the
schedule. Without the connection nothing is sent (one log line).

The connection: ``host`` with its scheme and path, e.g. ``https://hc.example/ping/<project-key>``:
a DAG is pinged at ``<host>/<dag_id>`` (healthchecks' ping by slug). A monitor with a URL of its
own per DAG (an Uptime Kuma push token) is a connection of its own,
``informat_heartbeat__<dag_id>``, pinged at its URL as it is. (The HTTP provider's hook sends a
connection's extra as headers, so the extra holds no paths.)"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from informat_airflow.wiring import HEARTBEAT_CONN_ID

log = logging.getLogger(__name__)


def ping(dag_id: str, http_conn_id: str = HEARTBEAT_CONN_ID) -> bool:
    """One GET that tells the monitor ``dag_id`` ran; False (and a log line) without a
    connection. The answer is checked: a monitor that refuses is worth a warning."""
    from informat_airflow.notify import connection_exists

    own = f"{http_conn_id}__{dag_id}"
    if connection_exists(own):
        conn_id, endpoint = own, None
    elif connection_exists(http_conn_id):
        conn_id, endpoint = http_conn_id, dag_id
    else:
        log.info("no connection %r: no heartbeat sent for %s", http_conn_id, dag_id)
        return False
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="GET", http_conn_id=conn_id)
    hook.run(endpoint=endpoint, extra_options={"check_response": True, "timeout": 10})
    log.info("heartbeat of %s sent", dag_id)
    return True


def _scheduled(context: Any) -> bool:
    """Whether the run is the scheduler's (by its run type; by its id where only that is known)."""
    run = context.get("dag_run")
    run_type = run.get("run_type") if isinstance(run, Mapping) else getattr(run, "run_type", None)
    if run_type is not None:
        return str(getattr(run_type, "value", run_type)) == "scheduled"
    return str(context.get("run_id", "")).startswith("scheduled__")


class HeartbeatPing:
    """A DAG's ``on_success_callback``: a scheduled run that succeeded pings the monitor. It
    never fails the callback (a monitor down costs at most a false alarm there)."""

    def __init__(self, http_conn_id: str = HEARTBEAT_CONN_ID) -> None:
        self.http_conn_id = http_conn_id

    def __call__(self, context: Any) -> None:
        dag_id = context["dag"].dag_id
        if not _scheduled(context):
            return
        try:
            ping(dag_id, self.http_conn_id)
        except Exception as error:  # the error's name only: a URL may hold the monitor's token
            log.warning("heartbeat of %s not sent (%s)", dag_id, type(error).__name__)
