"""What a turn-taking trial's server events mean, and the summary of a run: pure functions over recorded events.

A trial (:mod:`omni.bench.turns`) records the server events that matter, each with its arrival in seconds after
the trial's first streamed sample, and the instants the scenario's sounds were spoken on the same clock. Audio
positions (``audio_start_ms``, ``audio_end_ms``) are on the stream's own clock, which starts at the same sample.

- A user turn (``pause``, ``list``, ``number``, ``complete``) is **cut off** when the server ended a turn before the
  sentence was over: ``speech_stopped``, ``input_audio_buffer.committed`` or ``response.created`` arriving before
  the last audible sample was spoken, a ``speech_stopped`` whose ``audio_end_ms`` lies before the last part (after
  the last pause) began, or more than one committed turn. Otherwise the turn is timed from its last audible sample:
  to ``speech_stopped`` and ``committed`` (end of turn) and to the first ``response.output_audio.delta`` after the
  commit (voice to voice).
- A sound during the reply (``backchannel``, ``interruption``, ``echo``, ``background``) **took the floor** when the
  reply in progress ended ``cancelled`` after the sound began, or when the sound became a committed user turn that
  the server answered (``response.created`` after the commit): either way the user no longer hears the story. For
  an interruption that is the expected outcome ("stopped"); for the rest a false interruption. The latency of an
  interruption runs from the sound's first audible sample to ``speech_started`` (a client's cue to stop playing),
  and, under ``semantic_vad``, where the trial asks for Omni's turn events as the page does, to the first
  ``omni.input_audio_buffer.speech_held`` or ``speech_started`` (where the page and ``omni talk`` pause the reply).
  A held sound that was no turn paused such a client's reply from its ``speech_held`` to its ``speech_ignored``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from omni.bench.report import percentile

SPEECH_STARTED = "input_audio_buffer.speech_started"
SPEECH_STOPPED = "input_audio_buffer.speech_stopped"
COMMITTED = "input_audio_buffer.committed"
TRANSCRIBED = "conversation.item.input_audio_transcription.completed"
DELETED = "conversation.item.deleted"
CREATED = "response.created"
AUDIO = "response.output_audio.delta"
DONE = "response.done"
ERROR = "error"
SPEECH_HELD = "omni.input_audio_buffer.speech_held"
SPEECH_IGNORED = "omni.input_audio_buffer.speech_ignored"
TURN_ENDS = (SPEECH_STOPPED, COMMITTED, CREATED)
KEPT = frozenset({SPEECH_STARTED, SPEECH_STOPPED, COMMITTED, TRANSCRIBED, DELETED, CREATED, DONE, ERROR,
                  SPEECH_HELD, SPEECH_IGNORED})
"""The events a trial keeps, with the first audio delta of each response."""


@dataclass(frozen=True)
class Seen:
    """One server event: its type, when it arrived, and the fields a trial is judged by."""

    at: float
    """Seconds after the trial's first streamed sample."""
    type: str
    item_id: str | None = None
    response_id: str | None = None
    audio_ms: float | None = None
    """``speech_started``: ``audio_start_ms``; ``speech_stopped``: ``audio_end_ms``."""
    status: str | None = None
    transcript: str | None = None
    message: str | None = None

    def view(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


def seen(event: Mapping[str, Any], at: float) -> Seen | None:
    """The parts of a server event a trial keeps (None for the events it does not keep; audio deltas are kept by
    the caller, the first of each response)."""
    kind = str(event.get("type"))
    if kind not in KEPT and kind != AUDIO:
        return None
    response = _object(event.get("response"))
    audio = event.get("audio_start_ms", event.get("audio_end_ms"))
    error = _object(event.get("error"))
    return Seen(
        round(at, 4), kind,
        item_id=event.get("item_id") or None,
        response_id=event.get("response_id") or response.get("id") or None,
        audio_ms=float(audio) if isinstance(audio, int | float) else None,
        status=str(response["status"]) if kind == DONE and "status" in response else None,
        transcript=str(event.get("transcript", "")).strip() if kind == TRANSCRIBED else None,
        message=str(error.get("message")) if kind == ERROR else None,
    )


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def first(events: Sequence[Seen], kind: str, *, after: float = float("-inf")) -> Seen | None:
    return next((e for e in events if e.type == kind and e.at >= after), None)


# ---- a user's turn -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TurnMarks:
    speech_end: float
    """When the last audible sample was spoken (seconds after the trial's first sample)."""
    last_part_ms: float
    """Where the last part (after the last pause; the whole utterance without pauses) starts on the stream."""
    speech_start_ms: float
    """Where the utterance starts on the stream."""


@dataclass(frozen=True)
class TurnOutcome:
    false_cutoff: bool
    turns: int
    """Committed user turns."""
    transcripts: tuple[str | None, ...]
    """What the server transcribed of each committed turn, in order (None: no transcript came)."""
    cut_at: float | None = None
    """The premature end of speech the server found (``audio_end_ms``), in seconds into the utterance."""
    end_of_turn: float | None = None
    """Seconds from the last audible sample to ``speech_stopped`` (a turn that was not cut off)."""
    committed: float | None = None
    voice_to_voice: float | None = None
    """... to the first audio delta of the reply."""


def classify_turn(events: Sequence[Seen], marks: TurnMarks) -> TurnOutcome:
    commits = [e for e in events if e.type == COMMITTED]
    early = [e for e in events if e.type in TURN_ENDS and e.at < marks.speech_end]
    early += [e for e in events if e.type == SPEECH_STOPPED and e.audio_ms is not None
              and e.audio_ms < marks.last_part_ms]
    said = {e.item_id: e.transcript or "" for e in events if e.type == TRANSCRIBED}
    transcripts = tuple(said.get(c.item_id) for c in commits)
    if early or len(commits) > 1:
        stops = [e.audio_ms for e in events if e.type == SPEECH_STOPPED and e.audio_ms is not None]
        cut = (min(stops) - marks.speech_start_ms) / 1000 if stops else None
        return TurnOutcome(True, len(commits), transcripts, cut_at=cut)
    stopped = next((e for e in events if e.type == SPEECH_STOPPED), None)
    commit = commits[0] if commits else None
    audio = first(events, AUDIO, after=commit.at) if commit is not None else None

    def since(event: Seen | None) -> float | None:
        return None if event is None else round(event.at - marks.speech_end, 4)

    return TurnOutcome(False, len(commits), transcripts, None, since(stopped), since(commit), since(audio))


# ---- a sound during the reply --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplyOutcome:
    took_floor: bool
    """The reply ended cancelled after the sound began, or the sound became a turn the server answered."""
    cancelled: bool
    answered: bool
    speech_started: float | None
    """Seconds from the sound's first audible sample to the first ``speech_started`` after it."""
    status: str | None
    """How the reply ended (None: it was still going when the trial ended)."""
    paused: float | None = None
    """Seconds from the sound's first audible sample to the first ``speech_held`` or ``speech_started`` after it
    (a client that pauses on ``speech_held`` is silent from then)."""
    held_for: float | None = None
    """Seconds from the sound's ``speech_held`` to its ``speech_ignored`` (the pause it put in the reply of a client
    that pauses), when it was no turn."""
    preempted: bool = False
    """The reply had already been cancelled, or a user turn begun, before the sound began: the trial says nothing
    about the sound (an echo that stopped the reply, or was taken for speech, before the interruption spoken over
    it)."""


def classify_reply(events: Sequence[Seen], sound_start: float) -> ReplyOutcome:
    """``sound_start``: when the sound's first audible sample was spoken (for an echo, when the reply began to
    play); the reply is the first response of the trial (the answer to the spoken request)."""
    created = first(events, CREATED)
    reply = created.response_id if created is not None else None
    done = next((e for e in events if e.type == DONE and e.response_id == reply), None)
    cancelled = done is not None and done.status == "cancelled" and done.at >= sound_start
    commit = first(events, COMMITTED, after=sound_start)
    answered = commit is not None and first(events, CREATED, after=commit.at) is not None
    started = first(events, SPEECH_STARTED, after=sound_start)
    latency = None if started is None else round(started.at - sound_start, 4)
    held = first(events, SPEECH_HELD, after=sound_start)
    cue = min((e for e in (held, started) if e is not None), key=lambda e: e.at, default=None)
    ignored = first(events, SPEECH_IGNORED, after=held.at) if held is not None else None
    held_for = None if held is None or ignored is None else round(ignored.at - held.at, 4)
    after_reply = events[events.index(created) + 1:] if created is not None else []
    early = (done is not None and done.status == "cancelled" and done.at < sound_start) \
        or any(e.type in (SPEECH_STARTED, COMMITTED) and e.at < sound_start for e in after_reply)
    return ReplyOutcome(cancelled or answered, cancelled, answered, latency, done.status if done else None,
                        None if cue is None else round(cue.at - sound_start, 4), held_for, early)


# ---- the run's summary -----------------------------------------------------------------------------------------

Count = tuple[int, int]
"""(how many, of how many trials)."""
Spread = tuple[float, float]
"""(median, p90), in milliseconds."""


@dataclass(frozen=True)
class Target:
    name: str
    limit: float
    text: str


TARGETS = {
    "false_cutoffs": Target("false cut-offs", 0.05, "< 5 %"),
    "backchannel": Target("backchannel false interruptions", 0.05, "< 5 %"),
    "echo": Target("echo false interruptions", 0.01, "< 1 %"),
    "interruption_p90": Target("true interruption speech_started p90", 150.0, "< 150 ms p90"),
    "interruption_paused_p90": Target("true interruption pause p90", 150.0, "< 150 ms p90"),
    "voice_to_voice": Target("voice to voice median", 900.0, "< 0.9 s median"),
}


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    false_cutoffs: Count
    """Over the ``pause``, ``list`` and ``number`` trials."""
    false_cutoffs_by_kind: dict[str, Count]
    complete_cutoffs: Count
    """``complete`` questions the server cut (their end of turn is not timed)."""
    end_of_turn_ms: Spread | None
    committed_ms: Spread | None
    voice_to_voice_ms: Spread | None
    backchannel: Count
    echo: Count
    background: Count
    interruptions_stopped: Count
    interruption_ms: Spread | None
    """``speech_started`` after a true interruption began."""
    interruption_paused_ms: Spread | None
    """``speech_held`` or ``speech_started``, whichever came first, after a true interruption began."""
    backchannel_held_ms: Spread | None
    """How long a backchannel paused the reply of a client that pauses on ``speech_held``."""
    echo_interruptions_stopped: Count
    failed: int
    """Trials that measured nothing (an error, a timeout, a reply too short to speak over)."""
    failures: dict[str, int] = field(default_factory=dict)
    """Why, with how many trials each."""


@dataclass
class Trial:
    """One scenario, once, in one turn-detection mode: what happened and what it means."""

    scenario: str
    kind: str
    mode: str
    run: int
    expect: str
    language: str
    voices: list[str]
    error: str | None = None
    """Set when the trial measured nothing (it is left out of the summary)."""
    false_cutoff: bool | None = None
    turns: int | None = None
    transcripts: list[str | None] = field(default_factory=list)
    """What the server transcribed of each turn it committed: two entries are a sentence heard as two turns (None:
    no transcript came while the trial lasted)."""
    cut_at: float | None = None
    end_of_turn: float | None = None
    committed: float | None = None
    voice_to_voice: float | None = None
    took_floor: bool | None = None
    cancelled: bool | None = None
    answered: bool | None = None
    speech_started: float | None = None
    paused: float | None = None
    held_for: float | None = None
    status: str | None = None
    audio_after: float | None = None
    """Seconds of reply audio that arrived after the sound began."""
    reply_audio: float | None = None
    """Seconds of reply audio that arrived in all."""
    attempts: int = 1
    marks: dict[str, float] = field(default_factory=dict)
    """When the scenario's sounds were spoken, in seconds after the trial's first streamed sample."""
    events: list[dict[str, Any]] = field(default_factory=list)

    def apply_turn(self, outcome: TurnOutcome) -> None:
        self.false_cutoff, self.turns, self.transcripts = outcome.false_cutoff, outcome.turns, list(outcome.transcripts)
        self.cut_at, self.end_of_turn = outcome.cut_at, outcome.end_of_turn
        self.committed, self.voice_to_voice = outcome.committed, outcome.voice_to_voice

    def apply_reply(self, outcome: ReplyOutcome) -> None:
        self.took_floor, self.cancelled, self.answered = outcome.took_floor, outcome.cancelled, outcome.answered
        self.speech_started, self.status = outcome.speech_started, outcome.status
        self.paused, self.held_for = outcome.paused, outcome.held_for


def spread(values: Sequence[float | None]) -> Spread | None:
    known = [v * 1000 for v in values if v is not None]
    return (round(statistics.median(known), 1), round(percentile(known, 90), 1)) if known else None


def summarize(trials: Sequence[Trial], mode: str) -> ModeSummary:
    mine = [t for t in trials if t.mode == mode]
    ok = [t for t in mine if t.error is None]

    def count(kinds: Sequence[str], judge: str, expect: str | None = None) -> Count:
        chosen = [t for t in ok if t.kind in kinds and (expect is None or t.expect == expect)]
        return sum(bool(getattr(t, judge)) for t in chosen), len(chosen)

    paused = ("pause", "list", "number")
    complete = [t for t in ok if t.kind == "complete" and not t.false_cutoff]
    interruptions = [t for t in ok if t.kind == "interruption"]
    return ModeSummary(
        mode=mode,
        false_cutoffs=count(paused, "false_cutoff"),
        false_cutoffs_by_kind={kind: count((kind,), "false_cutoff") for kind in paused},
        complete_cutoffs=count(("complete",), "false_cutoff"),
        end_of_turn_ms=spread([t.end_of_turn for t in complete]),
        committed_ms=spread([t.committed for t in complete]),
        voice_to_voice_ms=spread([t.voice_to_voice for t in complete]),
        backchannel=count(("backchannel",), "took_floor"),
        echo=count(("echo",), "took_floor", "no interruption"),
        background=count(("background",), "took_floor"),
        interruptions_stopped=count(("interruption",), "took_floor"),
        interruption_ms=spread([t.speech_started for t in interruptions if t.took_floor]),
        interruption_paused_ms=spread([t.paused for t in interruptions if t.took_floor]),
        backchannel_held_ms=spread([t.held_for for t in ok if t.kind == "backchannel" and not t.took_floor]),
        echo_interruptions_stopped=count(("echo",), "took_floor", "interruption"),
        failed=len(mine) - len(ok),
        failures=dict(Counter(t.error for t in mine if t.error is not None)),
    )


def rate(count: Count) -> float | None:
    return count[0] / count[1] if count[1] else None


def met(summary: ModeSummary) -> dict[str, bool | None]:
    """Each target: met, missed, or None (nothing measured)."""
    def under(value: float | None, limit: float) -> bool | None:
        return None if value is None else value < limit

    return {
        "false_cutoffs": under(rate(summary.false_cutoffs), TARGETS["false_cutoffs"].limit),
        "backchannel": under(rate(summary.backchannel), TARGETS["backchannel"].limit),
        "echo": under(rate(summary.echo), TARGETS["echo"].limit),
        "interruption_p90": under(summary.interruption_ms[1] if summary.interruption_ms else None,
                                  TARGETS["interruption_p90"].limit),
        "interruption_paused_p90": under(summary.interruption_paused_ms[1] if summary.interruption_paused_ms
                                         else None, TARGETS["interruption_paused_p90"].limit),
        "voice_to_voice": under(summary.voice_to_voice_ms[0] if summary.voice_to_voice_ms else None,
                                TARGETS["voice_to_voice"].limit),
    }


def _count(count: Count) -> str:
    share = rate(count)
    return "-" if share is None else f"{count[0]} of {count[1]} ({share:.0%})"


def _ms(values: Spread | None) -> str:
    return "-" if values is None else f"{values[0]:.0f} ms (p90 {values[1]:.0f})"


def format_summary(summaries: Sequence[ModeSummary]) -> str:
    """One column per turn-detection mode, the target (met or missed per mode) on the right."""
    rows: list[tuple[str, list[str], str]] = [
        ("false cut-offs (pause, list, number)", [_count(s.false_cutoffs) for s in summaries], "false_cutoffs"),
        *((f"  {kind}", [_count(s.false_cutoffs_by_kind[kind]) for s in summaries], "")
          for kind in ("pause", "list", "number")),
        ("complete questions cut off", [_count(s.complete_cutoffs) for s in summaries], ""),
        ("end of turn: speech_stopped", [_ms(s.end_of_turn_ms) for s in summaries], ""),
        ("end of turn: committed", [_ms(s.committed_ms) for s in summaries], ""),
        ("voice to voice (first audio delta)", [_ms(s.voice_to_voice_ms) for s in summaries], "voice_to_voice"),
        ("false interruptions: backchannels", [_count(s.backchannel) for s in summaries], "backchannel"),
        ("false interruptions: echo", [_count(s.echo) for s in summaries], "echo"),
        ("false interruptions: background, noise", [_count(s.background) for s in summaries], ""),
        ("true interruptions: reply stopped", [_count(s.interruptions_stopped) for s in summaries], ""),
        ("true interruptions: speech_started", [_ms(s.interruption_ms) for s in summaries], "interruption_p90"),
        ("true interruptions: a client pauses", [_ms(s.interruption_paused_ms) for s in summaries],
         "interruption_paused_p90"),
        ("backchannels: a pausing client's pause", [_ms(s.backchannel_held_ms) for s in summaries], ""),
        ("interruption over echo: reply stopped", [_count(s.echo_interruptions_stopped) for s in summaries], ""),
        ("trials that measured nothing", [str(s.failed) for s in summaries], ""),
    ]
    verdicts = [met(s) for s in summaries]
    width = max(22, *(len(cell) + 2 for _, cells, _ in rows for cell in cells))
    lines = [f"{'':40s}" + "".join(f"{s.mode:{width}s}" for s in summaries) + "target"]
    for label, cells, target in rows:
        line = f"{label:40s}" + "".join(f"{cell:{width}s}" for cell in cells)
        if target:
            marks = " ".join({True: "met", False: "missed", None: "-"}[v[target]] for v in verdicts)
            line += f"{TARGETS[target].text} ({marks})"
        lines.append(line.rstrip())
    for summary in summaries:
        for reason, times in summary.failures.items():
            lines.append(f"  {summary.mode}: {times} x {reason}")
    return "\n".join(lines)
