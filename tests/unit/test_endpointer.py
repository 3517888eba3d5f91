"""Endpointer: per-frame speech probabilities become speech start and end points on audio time."""

from __future__ import annotations

from omni.session.turns import Endpointer, SpeechEnd, SpeechStart, TurnEvent, TurnOptions

FRAME_MS = 30


def feed(endpointer: Endpointer, plan: list[tuple[float, int]], start_ms: int = 0) -> list[tuple[int, TurnEvent]]:
    """Feed ``(probability, milliseconds)`` runs of 30 ms frames; return (frame end ms, event) for each event."""
    events: list[tuple[int, TurnEvent]] = []
    t = start_ms
    for probability, duration in plan:
        assert duration % FRAME_MS == 0
        for _ in range(duration // FRAME_MS):
            event = endpointer.process(probability, t, t + FRAME_MS)
            if event is not None:
                events.append((t + FRAME_MS, event))
            t += FRAME_MS
    return events


def test_speech_start_is_reported_after_min_speech_with_prefix_padding() -> None:
    endpointer = Endpointer(TurnOptions(min_speech_ms=150, prefix_padding_ms=300))
    events = feed(endpointer, [(0.0, 990), (0.9, 300)])
    # speech from 990 ms; the fifth frame (990 + 150) reaches min_speech_ms
    assert events == [(1140, SpeechStart(690))]
    assert endpointer.in_speech


def test_prefix_padding_is_clamped_at_the_stream_start() -> None:
    events = feed(Endpointer(TurnOptions(prefix_padding_ms=300)), [(0.0, 90), (0.9, 300)])
    assert events[0][1] == SpeechStart(0)


def test_a_burst_shorter_than_min_speech_does_not_start_a_turn() -> None:
    endpointer = Endpointer(TurnOptions(min_speech_ms=150))
    # 120 ms bursts, each broken by a quiet frame: the run has to start again each time
    assert feed(endpointer, [(0.9, 120), (0.1, 30)] * 5) == []
    assert not endpointer.in_speech


def test_probability_must_reach_the_threshold_to_start() -> None:
    endpointer = Endpointer(TurnOptions(threshold=0.6, hysteresis=0.2, min_speech_ms=150))
    assert feed(endpointer, [(0.59, 600)]) == []
    assert feed(endpointer, [(0.6, 150)], start_ms=600) == [(750, SpeechStart(300))]


def test_speech_ends_after_silence_duration_at_the_start_of_the_silence() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=500, min_speech_ms=150, prefix_padding_ms=0))
    events = feed(endpointer, [(0.9, 990), (0.0, 600)], start_ms=510)
    # the first frame that ends 500 ms or more after the silence began (1500 ms) ends the turn
    assert events == [(660, SpeechStart(510)), (2010, SpeechEnd(1500))]
    assert not endpointer.in_speech


def test_hysteresis_keeps_speech_going_below_the_threshold() -> None:
    options = TurnOptions(threshold=0.5, hysteresis=0.15, silence_duration_ms=300, min_speech_ms=60)
    endpointer = Endpointer(options)
    # 0.4 is below the threshold but above threshold - hysteresis (0.35): still speech
    events = feed(endpointer, [(0.9, 300), (0.4, 900), (0.3, 300)])
    assert [event for _, event in events] == [SpeechStart(0), SpeechEnd(1200)]


def test_hysteresis_does_not_apply_before_speech_starts() -> None:
    endpointer = Endpointer(TurnOptions(threshold=0.5, hysteresis=0.15))
    assert feed(endpointer, [(0.4, 1200)]) == []


def test_a_speech_frame_during_the_silence_wait_restarts_it() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=300, min_speech_ms=60, prefix_padding_ms=0))
    events = feed(endpointer, [(0.9, 300), (0.0, 270), (0.9, 30), (0.0, 300)])
    assert [event for _, event in events] == [SpeechStart(0), SpeechEnd(600)]
    assert events[-1][0] == 900


def test_turns_follow_one_another() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=300, min_speech_ms=90, prefix_padding_ms=100))
    events = feed(endpointer, [(0.9, 300), (0.0, 300), (0.0, 300), (0.9, 300), (0.0, 300)])
    assert [event for _, event in events] == [SpeechStart(0), SpeechEnd(300), SpeechStart(800), SpeechEnd(1200)]


def test_reset_forgets_speech_and_a_partial_run() -> None:
    endpointer = Endpointer(TurnOptions(min_speech_ms=150, silence_duration_ms=300))
    assert [event for _, event in feed(endpointer, [(0.9, 300)])] == [SpeechStart(0)]
    endpointer.reset()
    assert not endpointer.in_speech
    assert feed(endpointer, [(0.0, 600)], start_ms=300) == []  # no end for a turn that was reset

    feed(endpointer, [(0.9, 120)], start_ms=900)
    endpointer.reset()
    # the 120 ms before the reset do not count towards min_speech_ms
    assert feed(endpointer, [(0.9, 60)], start_ms=1020) == []
    assert feed(endpointer, [(0.9, 90)], start_ms=1080) == [(1170, SpeechStart(720))]


def test_a_wait_set_during_a_pause_ends_that_pause_sooner_or_later() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=600, min_speech_ms=30))
    assert feed(endpointer, [(0.9, 300), (0.0, 90)]) == [(30, SpeechStart(0))]
    pause = endpointer.silence_start_ms
    assert pause == 300
    assert endpointer.set_wait(pause, 60)  # already passed: the next frame ends the turn
    assert feed(endpointer, [(0.0, 30)], start_ms=390) == [(420, SpeechEnd(300))]


def test_a_longer_wait_holds_the_turn_through_a_thinking_pause() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=300, min_speech_ms=30))
    feed(endpointer, [(0.9, 300), (0.0, 60)])
    assert endpointer.set_wait(300, 1500)
    assert feed(endpointer, [(0.0, 900), (0.9, 300)], start_ms=360) == []  # the user went on: one turn
    # the next pause starts from silence_duration_ms again
    assert feed(endpointer, [(0.0, 300)], start_ms=1560) == [(1860, SpeechEnd(1560))]


def test_a_wait_for_a_pause_that_is_over_is_ignored() -> None:
    endpointer = Endpointer(TurnOptions(silence_duration_ms=300, min_speech_ms=30))
    feed(endpointer, [(0.9, 300), (0.0, 60), (0.9, 60)])
    assert not endpointer.set_wait(300, 2000)
    assert feed(endpointer, [(0.0, 300)], start_ms=420) == [(720, SpeechEnd(420))]
