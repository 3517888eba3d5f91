"""OpenAI-compatible REST endpoints on the loaded models: the routes, and the model list they share.

Each endpoint lives in its own module (``rest_chat``, ``rest_transcribe``, ``rest_speech``); :func:`endpoint`
gives them all OpenAI-style errors and request counting. See docs/rest-api.md for what each accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from omni.server.rest_chat import chat_completions
from omni.server.rest_common import RequestError, endpoint
from omni.server.rest_speech import speech
from omni.server.rest_transcribe import transcriptions
from omni.server.state import ServerState


def rest_routes(state: ServerState) -> list[BaseRoute]:
    def route(path: str, name: str, handler: Callable[[ServerState, Request], Awaitable[Response]],
              method: str) -> Route:
        return Route(path, endpoint(state, name, partial(handler, state)), methods=[method])

    return [
        route("/v1/models", "models", list_models, "GET"),
        route("/v1/models/{model_id:path}", "models", retrieve_model, "GET"),
        route("/v1/chat/completions", "chat", chat_completions, "POST"),
        route("/v1/audio/transcriptions", "transcriptions", transcriptions, "POST"),
        route("/v1/audio/speech", "speech", speech, "POST"),
    ]


def _model(model_id: str) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "omni"}


async def list_models(state: ServerState, request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [_model(i) for i in dict.fromkeys(state.model_ids.values())]})


async def retrieve_model(state: ServerState, request: Request) -> Response:
    model_id = request.path_params["model_id"]
    if model_id not in state.model_ids.values():
        listed = ", ".join(dict.fromkeys(state.model_ids.values()))
        raise RequestError(f"the model {model_id!r} does not exist; this server has: {listed}", param="model",
                           status=404, code="model_not_found")
    return JSONResponse(_model(model_id))
