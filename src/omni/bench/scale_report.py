"""The throughput benchmark's pure parts: what one turn and one step measured, the rule that says whether a step
kept up with real time, which step to try next, and the printed table.

**Falling behind**, precisely. For every question a session speaks, the client knows the moment the last audible
sample of the speech went out (the *true end of speech*). The server announces the end of the turn with
``input_audio_buffer.speech_stopped`` once it has seen ``silence_duration_ms`` of silence, so at best that event
arrives ``silence_duration_ms`` after the true end of speech plus the VAD's own reaction (a frame or two). Its
**end-of-speech delay** is the arrival time minus the true end minus ``silence_duration_ms``. A server that keeps up
has a small, steady delay; one whose event loop cannot process the audio as fast as it arrives queues it, and the
delay grows. A step (N sessions for a fixed time) **keeps up** when

1. every turn whose speech ended inside the measured window got its ``speech_stopped`` and its reply (the reply's
   first audio and ``response.done``), and no ``error`` event came;
2. the p90 end-of-speech delay of those turns is at most ``max_delay_ms`` (250 ms by default);
3. the p90 delay of the reply's first audio (after the true end plus ``silence_duration_ms``) is at most
   ``max_reply_delay_ms`` (500 ms by default): the transcription and the reply also keep pace;

and the step counts only if the client itself kept pace: the 20 ms audio pieces went out at most
``max_client_late_ms`` (p99, 40 ms by default) after they were due. When they did not and the client used most of
its core (``client_bound_cpu``, 85%), the run ends as *client-bound*: the load generator, not the server, was the
limit there; late audio with an idle client means the machine or the server held the sends up, and the step fails.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from omni.bench.report import percentile

DEFAULT_MAX_DELAY_MS = 250.0
DEFAULT_MAX_REPLY_DELAY_MS = 500.0
DEFAULT_MAX_CLIENT_LATE_MS = 40.0


@dataclass
class Turn:
    """One question spoken by one session; times are ``time.monotonic()`` seconds in the client."""

    session: int
    index: int
    speech_start_ms: float
    """Where the speech starts and ends in the session's audio stream (ms since its first sample)."""
    speech_end_ms: float
    speech_end_at: float | None = None
    """When the last audible sample of the speech was sent."""
    stopped_at: float | None = None
    """When ``input_audio_buffer.speech_stopped`` arrived."""
    lag: float | None = None
    """Arrival of ``speech_stopped`` minus the sending of the audio that completed its silence wait (the audio up to
    the server's ``audio_end_ms`` + ``silence_duration_ms``): how far the server ran behind the audio."""
    transcript_at: float | None = None
    reply_audio_at: float | None = None
    done_at: float | None = None
    reply_seconds: float = 0.0
    status: str | None = None
    """``response.done``'s status."""
    error: str | None = None

    def delay(self, silence_s: float) -> float | None:
        """End-of-speech delay: ``speech_stopped`` after the true end of speech, beyond the silence wait."""
        if self.stopped_at is None or self.speech_end_at is None:
            return None
        return self.stopped_at - self.speech_end_at - silence_s

    def reply_delay(self, silence_s: float) -> float | None:
        """The reply's first audio after the true end of speech, beyond the silence wait."""
        if self.reply_audio_at is None or self.speech_end_at is None:
            return None
        return self.reply_audio_at - self.speech_end_at - silence_s

    @property
    def complete(self) -> bool:
        return (self.stopped_at is not None and self.reply_audio_at is not None and self.done_at is not None
                and self.status == "completed" and self.error is None)


@dataclass(frozen=True)
class Spread:
    """Milliseconds: median, p90 and max of some values."""

    count: int
    median: float
    p90: float
    maximum: float


def spread(seconds: Sequence[float]) -> Spread | None:
    if not seconds:
        return None
    ms = [s * 1000 for s in seconds]
    return Spread(len(ms), statistics.median(ms), percentile(ms, 90), max(ms))


@dataclass(frozen=True)
class Limits:
    max_delay_ms: float = DEFAULT_MAX_DELAY_MS
    max_reply_delay_ms: float = DEFAULT_MAX_REPLY_DELAY_MS
    max_client_late_ms: float = DEFAULT_MAX_CLIENT_LATE_MS
    client_bound_cpu: float = 85.0
    """A late client using at least this much of its core is the limit itself; below it, its sends were held up."""


@dataclass
class Step:
    """N sessions for a measured window, and what the server and the client cost meanwhile."""

    sessions: int
    window_s: float
    turns: int
    complete: int
    delay: Spread | None
    """End-of-speech delay (see :meth:`Turn.delay`)."""
    lag: Spread | None
    reply_delay: Spread | None
    errors: list[str] = field(default_factory=list)
    """``error`` events and failed turns, one line each (the first few are kept)."""
    extra_speech: int = 0
    """``speech_stopped`` events that match no question (the VAD split or invented a turn)."""
    server_cpu: float = 0.0
    """Percent of one core over the window (all threads of the server process)."""
    server_rss_mb: float = 0.0
    """Mean resident memory over the window."""
    server_rss_max_mb: float = 0.0
    idle_rss_mb: float = 0.0
    """The server's memory before the sessions connected (each step has a fresh server)."""
    rss_after_mb: float = 0.0
    """The server's memory after the step's sessions had closed: what it did not give back."""
    client_cpu: float = 0.0
    """Percent of one core: the load generator (this process) over the window."""
    machine_busy: float | None = None
    """Percent of all cores busy over the window (/proc/stat), everything on the machine together."""
    client_late_p99_ms: float = 0.0
    """How late the 20 ms audio pieces went out (p99), the client's own pacing."""
    load_average: tuple[float, float] = (0.0, 0.0)
    """1-minute load average at the start and the end of the step."""
    verdict: str = ""
    """Empty when the step kept up; otherwise why not."""
    client_bound: bool = False

    @property
    def kept_up(self) -> bool:
        return not self.verdict


def summarize_step(turns: Sequence[Turn], sessions: int, window_s: float, silence_s: float) -> Step:
    """The delays of the turns whose speech ended inside the window (the caller selects them)."""
    delays = [d for t in turns if (d := t.delay(silence_s)) is not None]
    lags = [t.lag for t in turns if t.lag is not None]
    replies = [d for t in turns if (d := t.reply_delay(silence_s)) is not None]
    failed = [t for t in turns if not t.complete]
    errors = [f"session {t.session} turn {t.index}: {_why(t)}" for t in failed[:10]]
    return Step(sessions, window_s, len(turns), len(turns) - len(failed), spread(delays), spread(lags),
                spread(replies), errors)


def _why(turn: Turn) -> str:
    if turn.error:
        return turn.error
    if turn.stopped_at is None:
        return "no speech_stopped"
    if turn.reply_audio_at is None:
        return "no reply audio"
    if turn.done_at is None:
        return "no response.done"
    return f"response status {turn.status}"


def judge(step: Step, limits: Limits) -> tuple[str, bool]:
    """Why the step fell behind real time ("" when it kept up), and whether the client was the limit (see the
    module's docstring)."""
    if step.client_late_p99_ms > limits.max_client_late_ms:
        late = f"{step.client_late_p99_ms:.0f} ms late (p99 > {limits.max_client_late_ms:.0f} ms)"
        if step.client_cpu >= limits.client_bound_cpu:
            return f"client-bound: the load generator ({step.client_cpu:.0f}% of a core) sent its audio {late}", True
        return (f"audio went out {late} with the client at {step.client_cpu:.0f}% of a core: the machine or the "
                "server's socket held it up", False)
    if step.turns == 0:
        return "no turn ended inside the window (make the step longer)", False
    if step.complete < step.turns or step.errors:
        return f"{step.turns - step.complete} of {step.turns} turns failed, {len(step.errors)} errors", False
    if step.delay is None or step.delay.p90 > limits.max_delay_ms:
        return f"end-of-speech delay p90 {_fmt(step.delay)} > {limits.max_delay_ms:.0f} ms", False
    if step.reply_delay is None or step.reply_delay.p90 > limits.max_reply_delay_ms:
        return f"reply delay p90 {_fmt(step.reply_delay)} > {limits.max_reply_delay_ms:.0f} ms", False
    return "", False


def _fmt(value: Spread | None) -> str:
    return "-" if value is None else f"{value.p90:.0f} ms"


def next_sessions(tried: Sequence[Step], max_sessions: int) -> int | None:
    """The next step's session count: 1, 2, 4, ... doubling (capped at ``max_sessions``) while steps keep up; after
    the first that does not, bisect between the last good and the first bad count until they are within a quarter
    of the good one. None when done. A client-bound step ends the run: more sessions would measure the client."""
    if not tried:
        return 1
    if any(step.client_bound for step in tried):
        return None
    good = [s.sessions for s in tried if s.kept_up]
    bad = [s.sessions for s in tried if not s.kept_up]
    best = max(good, default=0)
    if not bad:
        if best >= max_sessions:
            return None
        return min(best * 2, max_sessions)
    worst = min(b for b in bad)
    if best == 0 or worst - best <= max(1, best // 4):
        return None
    return (best + worst) // 2


def capacity(steps: Sequence[Step]) -> int:
    """The most sessions of a step that kept up, below every count that did not (0 when none did)."""
    bad = min((s.sessions for s in steps if not s.kept_up), default=None)
    good = [s.sessions for s in steps if s.kept_up and (bad is None or s.sessions < bad)]
    return max(good, default=0)


def per_session(steps: Sequence[Step]) -> dict[str, float | None]:
    """Marginal cost of one session over the steps that kept up: the least-squares slope of the server's CPU
    against the sessions, and of its memory above its idle self (a line through the origin)."""
    kept = [s for s in steps if s.kept_up]
    if not kept:
        return {"cpu_percent": None, "rss_mb": None}
    if len({s.sessions for s in kept}) >= 2:
        xs = [float(s.sessions) for s in kept]
        ys = [s.server_cpu for s in kept]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        denominator = sum((x - mean_x) ** 2 for x in xs)
        cpu = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / denominator
    else:
        cpu = kept[0].server_cpu / kept[0].sessions
    rss = sum(s.sessions * (s.server_rss_mb - s.idle_rss_mb) for s in kept) / sum(s.sessions**2 for s in kept)
    return {"cpu_percent": cpu, "rss_mb": rss}


def format_table(title: str, steps: Sequence[Step], limits: Limits) -> str:
    """One row per step, in the order they ran, then the capacity and the cost per session."""
    header = (f"  {'sessions':>8}{'turns':>7}{'ok':>5}{'eos p50':>9}{'eos p90':>9}{'lag p90':>9}{'reply p90':>10}"
              f"{'srv cpu':>9}{'srv rss':>9}{'cli cpu':>9}{'cli late':>10}  verdict")
    lines = [title, f"  (delays in ms beyond the silence wait; cpu in % of one core; limits: end-of-speech p90 "
                    f"{limits.max_delay_ms:.0f} ms, reply p90 {limits.max_reply_delay_ms:.0f} ms)", header]
    for s in steps:
        lines.append(
            f"  {s.sessions:>8}{s.turns:>7}{s.complete:>5}{_ms(s.delay, 'median'):>9}{_ms(s.delay, 'p90'):>9}"
            f"{_ms(s.lag, 'p90'):>9}{_ms(s.reply_delay, 'p90'):>10}{s.server_cpu:>8.0f}%{s.server_rss_mb:>6.0f} MB"
            f"{s.client_cpu:>8.0f}%{s.client_late_p99_ms:>7.0f} ms  {s.verdict or 'kept up'}"
        )
        lines += [f"      {line}" for line in s.errors[:3]]
    cost = per_session(steps)
    idle = statistics.median(s.idle_rss_mb for s in steps) if steps else 0.0
    lines.append(f"  capacity: {capacity(steps)} sessions kept up with real time (idle server {idle:.0f} MB)")
    if cost["cpu_percent"] is not None and cost["rss_mb"] is not None:
        lines.append(f"  per session: {cost['cpu_percent']:.1f}% of a core, {cost['rss_mb']:.1f} MB")
    return "\n".join(lines) + "\n"


def _ms(value: Spread | None, name: str) -> str:
    return "-" if value is None else f"{getattr(value, name):.0f}"
