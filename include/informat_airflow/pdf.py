"""Old home of the PDF trigger and operator, kept so that a trigger stored by an earlier version
(classpath ``informat_airflow.pdf.PdfJobsTrigger``) still resumes. New code imports from
``informat_airflow.triggers`` and ``informat_airflow.operators``."""

from informat_airflow.operators import ArchivePdfsOperator
from informat_airflow.triggers import PdfJobsTrigger

__all__ = ["ArchivePdfsOperator", "PdfJobsTrigger"]
