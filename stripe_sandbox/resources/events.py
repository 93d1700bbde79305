"""Events and webhook endpoints."""

from __future__ import annotations

from typing import Any

from ..errors import missing_param, missing_resource
from ..forms import as_bool, as_list, merge_metadata
from ..messages import Request
from ..objects import (
    from_fixture,
    new_id,
    new_secret,
)
from ..store import PLATFORM
from .base import (
    APPLICATION_ID,
    ApiBase,
)


class EventsApi(ApiBase):
    def retrieve_event(self, req: Request) -> dict[str, Any]:
        return self.find("event", req.path_args["id"], req.scope, param="id")

    def list_events(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("event", req.scope))
        wanted = set(as_list(req.params, "types"))
        if req.params.get("type"):
            wanted.add(req.params["type"])
        if wanted:
            items = [e for e in items if e["type"] in wanted or any(
                w.endswith("*") and e["type"].startswith(w[:-1]) for w in wanted)]
        return self.list_response(req, items, "/v1/events")

    def create_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        params = req.params
        if not params.get("url"):
            raise missing_param("url")
        events = as_list(params, "enabled_events")
        if not events:
            raise missing_param("enabled_events")
        endpoint = self.new_webhook_endpoint(
            params["url"], enabled_events=events, connect=as_bool(params, "connect"),
            description=params.get("description"),
            metadata=merge_metadata({}, params.get("metadata")),
            api_version=params.get("api_version") or None)
        return {**endpoint, "secret": endpoint["_secret"]}

    def new_webhook_endpoint(self, url: str, *, secret: str | None = None, connect: bool = False,
                             enabled_events: list[str] | None = None,
                             description: str | None = None,
                             metadata: dict | None = None,
                             api_version: str | None = None) -> dict[str, Any]:
        # Stripe keeps the version an endpoint was created with (null: the account's default)
        # and it cannot be changed afterwards
        # (https://docs.stripe.com/api/webhook_endpoints/create#create_webhook_endpoint-api_version).
        endpoint = from_fixture(
            "webhook_endpoint", id=new_id("we"), url=url, created=self.now(),
            enabled_events=list(enabled_events or ["*"]), status="enabled",
            description=description, metadata=metadata or {},
            api_version=api_version)
        endpoint["_secret"] = secret or f"whsec_{new_secret(32)}"
        endpoint["_connect"] = connect
        # Stripe only shows "application" for Connect endpoints; keep the key, typed the same.
        endpoint["application"] = APPLICATION_ID if connect else None
        return self.store.add(endpoint, PLATFORM)

    def retrieve_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        endpoint = self.find("webhook_endpoint", req.path_args["id"], PLATFORM)
        if endpoint.get("_deleted"):
            raise missing_resource("webhook_endpoint", endpoint["id"])
        return endpoint

    def update_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        endpoint = self.retrieve_webhook_endpoint(req)
        params = req.params
        if params.get("url"):
            endpoint["url"] = params["url"]
        if "enabled_events" in params:
            endpoint["enabled_events"] = as_list(params, "enabled_events")
        if "disabled" in params:
            endpoint["status"] = "disabled" if as_bool(params, "disabled") else "enabled"
        if "description" in params:
            endpoint["description"] = params["description"] or None
        if "metadata" in params:
            endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
        return endpoint

    def delete_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        endpoint = self.retrieve_webhook_endpoint(req)
        endpoint["_deleted"] = True
        return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}

    def list_webhook_endpoints(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        items = [e for e in self.store.all("webhook_endpoint", PLATFORM) if not e.get("_deleted")]
        return self.list_response(req, items, "/v1/webhook_endpoints")
