"""The drop zone's sensor: waits in the triggerer, without holding a worker slot, until the
inbox holds a file the push would take. It and its trigger
(``informat_airflow.triggers.DropZoneTrigger``) ask the drop zone itself (``inbox()``, local or
S3), so the sensor fires on exactly the files ``push_drops`` takes: any name, in any case, but
never a half-written ``.part``, and in a local folder only a file that has settled.

Not the providers' sensors. The standard ``FileSensor`` matches a glob: ``*.csv`` missed
``SCHOOL.CSV``, and any CSV pattern misses the file a school drops in another format, which
the push would answer with a report, so the school never heard of it. The amazon
``S3KeySensor``, deferred, needs aiobotocore, which cannot be installed beside the boto3 the
project pins (aiobotocore 3.10 wants botocore < 1.43.118), so it failed each time it had to
wait; and importing it when the DAG is parsed costs 0.3 s (boto3), paid by the dag-processor at
every parse. Here boto3 is imported only when the task or its trigger runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException


class DropZoneSensor(BaseSensorOperator):
    """Succeeds when the drop zone's inbox holds a file to push.

    :param kind: ``s3`` (connection ``informat_s3``) or ``local`` (the folder of the connection
        ``informat_dropzone``), as ``informat_airflow.dropzones.location()`` reads it.
    :param bucket: an S3 drop zone's bucket.
    :param prefix: an S3 drop zone's prefix in it.
    :param deferrable: wait in the triggerer (the default), or poke as any sensor does.
    """

    template_fields = ("bucket", "prefix")

    def __init__(
        self, *, kind: str, bucket: str, prefix: str, deferrable: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.kind = kind
        self.bucket = bucket
        self.prefix = prefix

    def poke(self, context: Any) -> bool:
        from informat_airflow.dropzones import inbox

        return bool(inbox(self.kind, self.bucket, self.prefix))

    def execute(self, context: Any) -> None:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # a file is there already: no wait in the triggerer
            return None
        # imported here, not when the DAG is parsed (as boto3)
        from informat_airflow.triggers import DropZoneTrigger

        trigger = DropZoneTrigger(self.kind, self.bucket, self.prefix, self.poke_interval)
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        # an exception here is a skip with soft_fail (BaseSensorOperator.resume_execution)
        if event.get("status") != "found":
            raise AirflowException(event.get("message", f"unexpected event {event!r}"))
        self.log.info("%d file(s) in the drop zone's inbox", event["files"])
