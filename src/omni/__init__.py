"""Omni: a local-first, real-time voice assistant that runs offline on an ordinary CPU.

The public surface: the settings tree, the session engine and its options, the typed messages and events,
and the exception tree. Backends are built from settings with :func:`omni.backends.registry.create`.
"""

from omni.config import Settings, load_settings
from omni.errors import (
    AudioInputError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    ImageInputError,
    ModelChecksumError,
    ModelNotFoundError,
    NoAudioDeviceError,
    OmniError,
)
from omni.types import AudioChunk, ChatMessage, ImageFrame, TextDelta, Tool, ToolCall, Transcript, Usage

__version__ = "0.1.0"

__all__ = [
    "AudioChunk",
    "AudioInputError",
    "BackendError",
    "BackendUnavailableError",
    "ChatMessage",
    "ConfigError",
    "ImageFrame",
    "ImageInputError",
    "ModelChecksumError",
    "ModelNotFoundError",
    "NoAudioDeviceError",
    "OmniError",
    "Settings",
    "TextDelta",
    "Tool",
    "ToolCall",
    "Transcript",
    "Usage",
    "__version__",
    "load_settings",
]
