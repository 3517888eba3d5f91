"""A sound card for tests: PortAudio streams whose callbacks the test calls as the device would."""

from __future__ import annotations

from typing import Any


class FakeStream:
    """Stands in for a PortAudio stream: the test calls its callback as the sound card would."""

    def __init__(self, **options: Any) -> None:
        self.callback = options["callback"]
        self.blocksize: int = options["blocksize"]

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSoundDevice:
    def __init__(self) -> None:
        self.streams: list[FakeStream] = []

    def OutputStream(self, **options: Any) -> FakeStream:  # sounddevice's names
        self.streams.append(FakeStream(**options))
        return self.streams[-1]

    InputStream = OutputStream
