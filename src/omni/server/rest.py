"""OpenAI-compatible REST endpoints on the loaded models."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from omni.server.state import ServerState


def rest_routes(state: ServerState) -> list[BaseRoute]:
    async def models(request: Request) -> Response:
        data = [{"id": model_id, "object": "model", "created": 0, "owned_by": "omni"}
                for model_id in dict.fromkeys(state.model_ids.values())]
        return JSONResponse({"object": "list", "data": data})

    return [Route("/v1/models", models)]
