"""The S3 drop zone's sensor: waits in the triggerer, without holding a worker slot, until the
inbox holds a file the push would take.

Not the amazon provider's ``S3KeySensor``: deferred, its trigger needs aiobotocore, which cannot
be installed beside the boto3 the project pins (aiobotocore 3.10 wants botocore < 1.43.118), so
it failed each time it had to wait; and importing it when the DAG is parsed costs 0.3 s (boto3),
paid by the dag-processor at every parse. Here boto3 is imported only when the task or its
trigger (``informat_airflow.triggers.DropZoneTrigger``) runs, and both ask the drop zone itself
(``S3DropZone.inbox``), so the sensor fires on exactly the files ``push_drops`` takes (not only
``*.csv``; never a half-written ``.part``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException


class DropZoneSensor(BaseSensorOperator):
    """Succeeds when the S3 drop zone ``s3://bucket/prefix/inbox/`` holds a file to push.

    :param aws_conn_id: the connection of the bucket.
    :param bucket: the drop zone's bucket.
    :param prefix: the drop zone's prefix in it.
    :param deferrable: wait in the triggerer (the default), or poke as any sensor does.
    """

    template_fields = ("bucket", "prefix")

    def __init__(
        self, *, aws_conn_id: str, bucket: str, prefix: str, deferrable: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.aws_conn_id = aws_conn_id
        self.bucket = bucket
        self.prefix = prefix

    def poke(self, context: Any) -> bool:
        from informat_airflow.dropzones import s3_inbox

        return bool(s3_inbox(self.aws_conn_id, self.bucket, self.prefix))

    def execute(self, context: Any) -> None:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # a file is there already: no wait in the triggerer
            return None
        # imported here, not when the DAG is parsed (as boto3)
        from informat_airflow.triggers import DropZoneTrigger

        trigger = DropZoneTrigger(self.aws_conn_id, self.bucket, self.prefix, self.poke_interval)
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
