"""The roster export: the clean layer turned into the files Microsoft School Data Sync (SDS CSV
v2.1) and OneRoster 1.2 CSV importers take, one zip of each per opted-in instelling, held for
approval when it would drop too many of a school's users or classes. No Airflow import."""
