"""Prometheus metrics for ``/metrics``: sessions, events, stage latencies and errors, one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from omni.events import SessionEvent, StageError
from omni.session.timing import TurnTiming

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.sessions_open = Gauge("omni_realtime_sessions_open", "Realtime sessions open now", registry=registry)
        self.sessions_total = Counter("omni_realtime_sessions_opened", "Realtime sessions opened", registry=registry)
        self.events = Counter("omni_session_events", "Session events by type", ["type"], registry=self.registry)
        self.client_events = Counter("omni_realtime_client_events", "Realtime client events received by type",
                                     ["type"], registry=self.registry)
        self.errors = Counter("omni_errors", "Errors by where they happened", ["where"], registry=self.registry)
        self.stage_seconds = Histogram("omni_stage_seconds", "Latency of each stage of a turn", ["stage"],
                                       buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.requests = Counter("omni_http_requests", "REST requests by endpoint and status",
                                ["endpoint", "status"], registry=self.registry)

    def observe(self, event: SessionEvent) -> None:
        """A session observer: count every engine event, and each stage error."""
        self.events.labels(type(event).__name__).inc()
        if isinstance(event, StageError):
            self.errors.labels(event.stage).inc()

    def turn(self, timing: TurnTiming) -> None:
        """The stage latencies of one answered turn."""
        stages = {"endpoint": timing.endpoint, "stt": timing.stt, "llm_first_token": timing.llm_first_token,
                  "tts_first_audio": timing.tts_first_audio, "total": timing.total}
        for name, seconds in stages.items():
            if seconds is not None:
                self.stage_seconds.labels(name).observe(max(0.0, seconds))

    def render(self) -> bytes:
        return generate_latest(self.registry)
