"""The exception tree. Every error Omni raises on purpose is an :class:`OmniError` with a message a person can use."""


class OmniError(Exception):
    """Base of Omni's own errors."""


class ConfigError(OmniError):
    """A setting is missing or invalid."""


class ModelNotFoundError(OmniError):
    """A model file or directory does not exist or is incomplete."""


class ModelChecksumError(OmniError):
    """An assembled model's SHA-256 differs from the pinned one."""


class AudioInputError(OmniError):
    """Audio that cannot be read or used: not audio, empty, unreadable."""


class ImageInputError(OmniError):
    """An image that cannot be used: not an image, an unsupported format, too large, a URL this server cannot fetch."""


class BackendUnavailableError(OmniError):
    """A backend's optional dependency is not installed; the message names the install command."""


class BackendError(OmniError):
    """A backend failed while working (a model crashed, a remote server answered with an error)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage


class NoAudioDeviceError(OmniError):
    """No microphone or speaker is available."""
