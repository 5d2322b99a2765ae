"""Thin HTTP routes of the local Connectors API: parse the request, call the backend, serialise the answer.

The named dependencies (settings, backend, current workspace) are declared here once and reused by the
test-control routes in ``controls.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from pulumi_mistral.local.backend import Backend
from pulumi_mistral.local.bodies import SafeJSONResponse as JSONResponse
from pulumi_mistral.local.bodies import StrictJSONRoute
from pulumi_mistral.local.schemas import CallToolRequest, CreateConnectorRequest, UpdateConnectorRequest
from pulumi_mistral.local.settings import LocalSettings
from pulumi_mistral.local.workspaces import Workspace


def get_settings(request: Request) -> LocalSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_backend(request: Request) -> Backend:
    return request.app.state.backend  # type: ignore[no-any-return]


BackendDep = Annotated[Backend, Depends(get_backend)]


async def current_workspace(request: Request, backend: BackendDep) -> Workspace:
    return backend.keys.authenticate(request.headers.get("authorization"))


SettingsDep = Annotated[LocalSettings, Depends(get_settings)]
WorkspaceDep = Annotated[Workspace, Depends(current_workspace)]

router = APIRouter(prefix="/v1/connectors", tags=["beta.connectors"], route_class=StrictJSONRoute)


@router.post("", status_code=201, operation_id="connector_create_v1")
async def create_connector(body: CreateConnectorRequest, ws: WorkspaceDep, backend: BackendDep) -> Response:
    return JSONResponse(await backend.acreate(ws, body.model_dump()), status_code=201)


@router.get("", operation_id="connector_list_v1")
async def list_connectors(
    ws: WorkspaceDep,
    backend: BackendDep,
    page_size: int = 100,
    cursor: str | None = None,
    active: bool | None = None,
    fetch_connection_secrets: bool = False,
) -> Response:
    return JSONResponse(
        await backend.alist(ws, page_size=page_size, cursor=cursor, active=active, secrets=fetch_connection_secrets)
    )


@router.get("/{connector_id_or_name}", operation_id="connector_get_v1")
async def get_connector(
    connector_id_or_name: str,
    ws: WorkspaceDep,
    backend: BackendDep,
    fetch_customer_data: bool = False,  # accepted for the SDK; no effect
    fetch_connection_secrets: bool = False,
) -> Response:
    return JSONResponse(await backend.aget(ws, connector_id_or_name, secrets=fetch_connection_secrets))


@router.patch("/{connector_id_or_name}", operation_id="connector_update_v1")
async def update_connector(
    connector_id_or_name: str, body: UpdateConnectorRequest, ws: WorkspaceDep, backend: BackendDep
) -> Response:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return JSONResponse(await backend.aupdate(ws, connector_id_or_name, changes))


@router.delete("/{connector_id_or_name}", operation_id="connector_delete_v1")
async def delete_connector(connector_id_or_name: str, ws: WorkspaceDep, backend: BackendDep) -> Response:
    return JSONResponse(await backend.adelete(ws, connector_id_or_name))


@router.get("/{connector_id_or_name}/tools", operation_id="connector_list_tools_v1")
async def list_tools(
    connector_id_or_name: str,
    ws: WorkspaceDep,
    backend: BackendDep,
    page: int = 1,
    page_size: int = 100,
    refresh: bool = False,
    pretty: bool = False,
) -> Response:
    return JSONResponse(
        await backend.list_tools(
            ws, connector_id_or_name, page=page, page_size=page_size, refresh=refresh, pretty=pretty
        )
    )


@router.post("/{connector_id_or_name}/tools/{tool_name}/call", operation_id="connector_call_tool_v1")
async def call_tool(
    connector_id_or_name: str,
    tool_name: str,
    body: CallToolRequest,
    ws: WorkspaceDep,
    backend: BackendDep,
    credentials_name: str | None = None,
) -> Response:  # accepted; one credential per connector
    return JSONResponse(await backend.call_tool(ws, connector_id_or_name, tool_name, body.arguments))


@router.get("/{connector_id_or_name}/auth_url", operation_id="connector_get_auth_url_v1")
async def get_auth_url(
    connector_id_or_name: str, ws: WorkspaceDep, backend: BackendDep, app_return_url: str | None = None
) -> Response:
    return JSONResponse(await backend.get_auth_url(ws, connector_id_or_name, app_return_url))


oauth_router = APIRouter(tags=["oauth"], route_class=StrictJSONRoute)


@oauth_router.get("/oauth/callback", include_in_schema=False)
async def oauth_callback(
    backend: BackendDep,
    code: str | None = None,
    state: str | None = None,
    iss: str | None = None,
    error: str | None = None,
    error_description: Annotated[str | None, Query()] = None,
) -> Response:
    # No API key here: a browser arrives from the authorization server. The state is the credential.
    done = await backend.oauth_callback(code=code, state=state, iss=iss, error=error)
    if done["app_return_url"]:
        return RedirectResponse(done["app_return_url"], status_code=303)
    return JSONResponse(
        {
            "status": "connected",
            "connector_id": done["connector_id"],
            "message": "The connector is authorized; you can close this window.",
        }
    )
