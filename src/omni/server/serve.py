"""Running the app: uvicorn configured from the server settings, on the host and port they name."""

from __future__ import annotations

import ipaddress

import uvicorn

from omni.config import ServerSettings
from omni.errors import ConfigError
from omni.server.app import create_app
from omni.server.state import ServerState


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(server: ServerSettings) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not is_loopback(server.host) and not server.api_keys:
        raise ConfigError(
            f"refusing to listen on {server.host} without an API key: anyone who can reach it could use it. "
            "Set one with --api-key KEY (or OMNI_SERVER__API_KEYS='[\"KEY\"]'), or listen on 127.0.0.1"
        )


GRACEFUL_SHUTDOWN_SECONDS = 5


def uvicorn_config(state: ServerState, *, port: int | None = None) -> uvicorn.Config:
    server = state.settings.server
    check_exposure(server)
    return uvicorn.Config(
        create_app(state),
        host=server.host,
        port=server.port if port is None else port,
        ws="websockets-sansio",
        ws_max_size=server.max_message_bytes,
        log_level="warning",
        lifespan="off",
        # Ctrl-C waits this long for open connections to finish, then cancels them: a connection whose handler
        # never returns (one left behind by a browser that went away) must not keep the server up forever.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
