"""The Informat page in Airflow's navigation: a FastAPI app in the API server (``/informat``)
shown in Airflow's UI as an external view. The page itself lives in ``include/informat_ui``."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from informat_ui.app import PREFIX, LazyApp


class InformatPlugin(AirflowPlugin):
    name = "informat"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": LazyApp(), "url_prefix": PREFIX, "name": "Informat"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Informat",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "url_route": "informat",
        }
    ]
