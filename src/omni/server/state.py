"""What every endpoint of one server shares: the settings, the loaded models, the metrics, the open sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

from omni.config import Settings
from omni.server.metrics import Metrics
from omni.session.session import Backends


@dataclass
class ServerState:
    settings: Settings
    backends: Backends
    metrics: Metrics = field(default_factory=Metrics)
    open_sessions: int = 0

    @property
    def model_ids(self) -> dict[str, str]:
        """The ids ``/v1/models`` lists, by what they are for. Requests naming another model are served too:
        clients written for OpenAI send their own model names, and this server has one model per job."""
        settings = self.settings
        return {
            "realtime": "omni-realtime",
            "chat": _short(settings.llm.model if settings.llm.backend == "llama" else settings.llm.remote_model),
            "transcription": _short(settings.stt.model if settings.stt.backend == "whisper"
                                    else settings.stt.remote_model),
            "speech": "omni-tts",
        }


def _short(name: str) -> str:
    """A model given as a path is listed by its file or folder name."""
    return name.rstrip("/").rsplit("/", 1)[-1]
