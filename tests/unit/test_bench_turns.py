"""The turn-taking benchmark's pure parts — the kept set, cutting a sentence at a word boundary, the echo a client's
microphone hears, what a trial's events mean, the summary — and its client against a server on scripted backends
(energy VAD, a tone for speech), where a pause longer than the silence wait really does end the turn."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from omni.audio.pcm import pcm16_to_float
from omni.bench import turn_audio, turn_scenarios, turns, turns_report
from omni.bench.scale_client import append_event, append_events
from omni.bench.turn_audio import RATE, Cut, Echo, Player, Word
from omni.bench.turn_scenarios import SCENARIOS, Said, Scenario, Spec, Voice
from omni.bench.turns_report import (
    AUDIO,
    COMMITTED,
    CREATED,
    DONE,
    SPEECH_HELD,
    SPEECH_IGNORED,
    SPEECH_STARTED,
    SPEECH_STOPPED,
    TRANSCRIBED,
    Seen,
    Trial,
    TurnMarks,
    classify_reply,
    classify_turn,
)
from omni.clock import RealClock
from omni.errors import ConfigError
from omni.server.state import ServerState
from omni.session.session import Backends
from omni.types import Samples
from tests.fakes.backends import EnergyVAD, ScriptedLLM, ScriptedSTT, ScriptedTTS, WordsSoFarSTT, speech
from tests.server.serving import fake_state, serving

BENCH = Path(turn_scenarios.__file__).parent

# ---- the kept set ----------------------------------------------------------------------------------------------


def test_the_kept_set_has_every_kind_in_both_languages_and_several_voices() -> None:
    ids = [spec.id for spec in SCENARIOS]
    assert len(ids) == len(set(ids))
    assert {spec.kind for spec in SCENARIOS} == set(turn_scenarios.KINDS)
    for kind in ("pause", "list", "number", "complete", "backchannel", "interruption"):
        chosen = turn_scenarios.select([kind])
        assert {said.language for spec in chosen for said in spec.said} == {"en", "ko"}, kind
    voices = {said.voice.engine for spec in SCENARIOS for said in spec.said}
    assert voices == {"piper", "kokoro", "espeak"}
    assert len({said.voice.label for spec in SCENARIOS for said in spec.said}) >= 8


def test_pauses_are_thinking_pauses_and_sentences_with_them_expect_one_turn() -> None:
    for spec in turn_scenarios.select(turn_scenarios.PAUSED_KINDS):
        (said,) = spec.said
        assert said.pauses and said.text.count("|") == len(said.pauses), spec.id
        assert all(0.6 <= pause <= 1.5 for pause in said.pauses), spec.id
        assert not said.text.rstrip().endswith("|"), "the sentence goes on after every pause"
        assert spec.expect == turn_scenarios.ONE_TURN
    expected = {spec.id: spec.expect for spec in SCENARIOS}
    assert expected["backchannel-en-mmhm"] == expected["echo-12db"] == expected["background-cough"] \
        == turn_scenarios.NO_INTERRUPTION
    assert expected["interruption-ko-wait"] == expected["echo-12db-interruption"] == turn_scenarios.INTERRUPTION
    assert all(spec.level_db is not None and spec.delay_ms is not None
               for spec in turn_scenarios.select(["echo"]))
    assert {spec.level_db for spec in turn_scenarios.select(["echo"])} >= {-6, -12, -20}


def test_the_complete_questions_are_new_to_omnis_benchmarks() -> None:
    complete = turn_scenarios.select(["complete"])
    assert len(complete) >= 10
    assert {said.language for spec in complete for said in spec.said} == {"en", "ko"}
    assert len({said.voice.label for spec in complete for said in spec.said}) >= 5
    others = "".join(path.read_text(encoding="utf-8") for path in BENCH.glob("*.py")
                     if path.name != "turn_scenarios.py")
    for spec in complete:
        text = spec.said[0].text
        assert text not in others and text.rstrip("?") not in others, text


def test_kinds_and_modes_are_chosen_by_name_and_unknown_ones_refused() -> None:
    assert turn_scenarios.choose("complete,pause")[0].kind == "pause", "in the kept set's order"
    assert {s.kind for s in turn_scenarios.choose("complete,pause")} == {"pause", "complete"}
    assert [s.id for s in turn_scenarios.choose("pause-en-table, echo-6db")] == ["pause-en-table", "echo-6db"]
    assert turn_scenarios.choose("all") == turn_scenarios.choose("") == list(SCENARIOS)
    with pytest.raises(ConfigError, match="unknown scenario kind 'pauses'"):
        turn_scenarios.choose("pauses")
    assert turns.check_modes("semantic_vad,server_vad") == ("server_vad", "semantic_vad")
    with pytest.raises(ConfigError, match="unknown turn-detection mode 'vad'"):
        turns.check_modes("server_vad,vad")


# ---- the sounds --------------------------------------------------------------------------------------------------

def words_audio(*durations: float, gap: float = 0.04, rate: int = RATE) -> tuple[Samples, list[tuple[int, int]]]:
    """Tone "words" of these lengths with a quiet dip between neighbours; the words' sample spans."""
    pieces, spans, position = [], [], 0
    for index, seconds in enumerate(durations):
        count = round(seconds * rate)
        pieces.append((0.3 * np.sin(2 * np.pi * 200 * np.arange(count) / rate)).astype(np.float32))
        spans.append((position, position + count))
        position += count
        if index < len(durations) - 1:
            pieces.append(np.full(round(gap * rate), 0.002, np.float32))
            position += round(gap * rate)
    return np.concatenate(pieces), spans


def test_a_cut_falls_in_the_gap_between_the_words_whisper_heard() -> None:
    audio, spans = words_audio(0.3, 0.25, 0.35, 0.4)
    # whisper's times are a little off, as they are: each word boundary 50 ms late
    words = [Word(text, start / RATE + 0.05, end / RATE + 0.05)
             for text, (start, end) in zip(["Call", "my", "sister", "tomorrow"], spans, strict=True)]
    (cut,) = turn_audio.find_cuts("Call my | sister tomorrow", "en", audio, words)
    assert (cut.before, cut.method, cut.quality) == ("my", "whisper", 1.0)
    assert spans[1][1] <= cut.at <= spans[2][0], "inside the gap after 'my'"


def test_digits_whisper_writes_are_read_back_as_the_words_that_were_said() -> None:
    assert turn_audio.letters("010-1234, 공일공", "ko") == "공일공일이삼사공일공"
    assert turn_audio.letters("Oh 1 0!", "en") == "ohonezero"
    text, marks, before = turn_audio.marked_positions("공일공, | 일이삼사, | 오육칠팔.", "ko")
    assert (text, marks, before) == ("공일공일이삼사오육칠팔", [3, 7], ["공일공,", "일이삼사,"])


def test_a_voice_whisper_cannot_read_is_cut_by_estimate_at_the_quietest_point() -> None:
    audio, spans = words_audio(0.5, 0.5, gap=0.15)
    (cut,) = turn_audio.find_cuts("가나다라, | 마바사아", "ko", audio, [Word("สวัสดี", 0.0, 1.0)])
    assert cut.method == "estimate" and cut.quality < turn_audio.MIN_QUALITY
    assert spans[0][1] <= cut.at <= spans[1][0]


def test_a_piper_alignment_gives_the_gaps_between_words() -> None:
    phonemes = [("^", 100), ("k", 50), ("æ", 50), (" ", 10), ("m", 60), (",", 40), (" ", 20), ("j", 70), ("$", 5)]
    assert turn_audio.word_gaps(phonemes) == [(200, 210), (270, 330)]
    audio, spans = words_audio(0.3, 0.3, 0.3, gap=0.05)
    gaps = [(spans[0][1], spans[1][0]), (spans[1][1], spans[2][0])]
    cuts = turn_audio.cuts_at_gaps("Eggs, | milk, | bread.", audio, gaps)
    assert cuts is not None and [c.before for c in cuts] == ["Eggs,", "milk,"]
    assert all(low <= c.at <= high for c, (low, high) in zip(cuts, gaps, strict=True))
    assert {c.method for c in cuts} == {"alignment"}
    assert turn_audio.cuts_at_gaps("Eggs, | milk and bread.", audio, gaps) is None, "four words, two gaps"


def test_pauses_go_in_at_the_cuts() -> None:
    audio = np.ones(RATE, np.float32)
    out, parts = turn_audio.insert_pauses(audio, [RATE // 4, RATE // 2], [0.6, 1.0])
    assert out.size == RATE + round(1.6 * RATE)
    assert parts == pytest.approx([0.25 + 0.6, 0.5 + 1.6])
    start = round(0.25 * RATE)
    assert not out[start : start + round(0.6 * RATE)].any()
    assert out[start - 1] < 0.2 and out[round(parts[0] * RATE)] < 0.2, "faded out and in"
    with pytest.raises(ValueError, match="one pause per cut"):
        turn_audio.insert_pauses(audio, [100], [0.5, 0.5])


def test_levels_and_noises() -> None:
    voice = speech(1.0, RATE).samples
    assert turn_audio.db(turn_audio.active_rms(turn_audio.at_level(voice, -20))) == pytest.approx(-20, abs=0.1)
    loud = turn_audio.at_level(voice, 0.0)
    assert float(np.abs(loud).max()) <= turn_audio.PEAK + 1e-6, "never over the peak"
    noises = ((turn_audio.white_noise(1.0, -30, seed=1), -30), (turn_audio.pink_noise(1.0, -28, seed=1), -28))
    for noise, dbfs in noises:
        rms = float(np.sqrt(np.mean(noise.astype(np.float64) ** 2)))
        assert turn_audio.db(rms) == pytest.approx(dbfs, abs=0.5)
    pink = turn_audio.pink_noise(2.0, -20, seed=2)
    spectrum = np.abs(np.fft.rfft(pink)) ** 2
    low, high = spectrum[20:200].mean(), spectrum[20000:24000].mean()
    assert low > 10 * high, "pink noise has more power low"
    assert np.array_equal(turn_audio.cough(-12, seed=3), turn_audio.cough(-12, seed=3))
    mixed = turn_audio.mix([np.ones(10, np.float32), np.ones(10, np.float32)], offsets=[0.0, 5 / RATE])
    assert mixed.tolist() == [1.0] * 5 + [2.0] * 5 + [1.0] * 5


class FakeVoices(turn_scenarios.Voices):
    """Every word a 0.2 s tone, with a quiet 30 ms between words; no models."""

    def __init__(self) -> None:
        super().__init__(tts=None)  # type: ignore[arg-type]

    async def say(self, text: str, language: str, voice: Voice) -> Samples:
        audio, _ = words_audio(*[0.2] * len(text.split()), gap=0.03)
        return turn_audio.at_level(audio, turn_audio.USER_DBFS)


def fake_words(samples: Samples, language: str) -> list[Word]:
    """Where :class:`FakeVoices` put its words ("w0 w1 …": 0.2 s each, 30 ms apart)."""
    count = round((samples.size / RATE + 0.03) / 0.23)
    return [Word(f"w{i}", i * 0.23, i * 0.23 + 0.2) for i in range(count)]


async def test_scenarios_are_built_to_their_sizes_and_labels() -> None:
    paused = Spec("pause-test", "pause", (Said("w0 w1 | w2 w3", "en", Voice("kokoro", "jf_alpha"), (0.8,)),))
    scenario = await turn_scenarios.build_one(paused, FakeVoices(), fake_words)
    spoken = 4 * 0.2 + 3 * 0.03
    assert scenario.seconds == pytest.approx(spoken + 0.8, abs=0.01)
    assert len(scenario.parts) == 1 and scenario.last_part == pytest.approx(2 * 0.2 + 0.03 + 0.8, abs=0.04)
    (cut,) = scenario.cuts
    assert cut.before == "w1" and cut.method == "whisper"
    described = scenario.describe()
    assert described["voices"] == ["kokoro jf_alpha"] and described["expect"] == "one turn"
    assert described["pauses"] == [0.8] and described["cuts"][0]["after"] == "w1"

    babble = Spec("bg", "background", (Said("a b c", "en", Voice("piper")), Said("d e", "ko", Voice("espeak", "ko"))),
                  level_db=-18)
    noisy = await turn_scenarios.build_one(babble, FakeVoices(), None)
    assert noisy.language == "mixed" and noisy.voices == ("piper", "espeak-ng ko")
    louder = noisy.samples / turn_audio.gain_of(-18)  # its level is measured before it is lowered
    assert turn_audio.db(turn_audio.active_rms(louder)) == pytest.approx(turn_audio.USER_DBFS, abs=0.5)
    cough = await turn_scenarios.build_one(Spec("c", "background", noise="cough", level_db=8), FakeVoices(), None)
    assert cough.voices == ("cough noise",) and cough.seconds == pytest.approx(1.0)
    echo = await turn_scenarios.build_one(Spec("e", "echo", level_db=-12, delay_ms=40), FakeVoices(), None)
    assert echo.samples.size == 0 and echo.spec.expect == "no interruption"


def test_the_microphone_hears_the_playback_late_quieter_and_not_after_it_stops() -> None:
    player = Player()
    playback = turn_audio.white_noise(1.0, -20, seed=5)
    player.add(playback[: RATE // 2], at=10.0)
    player.add(playback[RATE // 2 :], at=10.1)  # arrived ahead of playback: plays right after the first half
    assert player.end_at == pytest.approx(11.0)
    echo = Echo(player, delay=0.1, level_db=-12, noise_dbfs=-90)
    assert float(np.abs(echo.heard(10.05, 480)).max()) < 1e-3, "not yet: it is heard 0.1 s late"
    heard = echo.heard(10.5, 4800)
    level = turn_audio.db(float(np.sqrt(np.mean(heard.astype(np.float64) ** 2))))
    assert level == pytest.approx(-20 - 12, abs=1.0)
    direct = echo.response[0] ** 2 / float((echo.response**2).sum())
    assert 0.5 < direct < 0.8, "mostly the direct sound, some room"
    player.stop(10.6)
    assert float(np.abs(echo.heard(10.8, 480)).max()) < 1e-3, "the player dropped the rest (and the room is quiet)"
    late = Player()
    late.add(np.ones(240, np.float32), at=0.0)
    late.add(np.ones(240, np.float32), at=0.5)  # arrived after the first had played: a gap of silence
    assert late.played(0, RATE // 2 + 240).sum() == pytest.approx(480)


# ---- what the events mean ----------------------------------------------------------------------------------------

MARKS = TurnMarks(speech_end=4.6, last_part_ms=2700.0, speech_start_ms=500.0)


def test_one_turn_is_timed_from_the_last_audible_sample() -> None:
    events = [Seen(0.6, SPEECH_STARTED, audio_ms=212), Seen(5.2, SPEECH_STOPPED, audio_ms=4620),
              Seen(5.21, COMMITTED, item_id="a"), Seen(5.3, TRANSCRIBED, item_id="a", transcript="Book a table."),
              Seen(5.3, CREATED, response_id="r"), Seen(6.1, AUDIO, response_id="r")]
    outcome = classify_turn(events, MARKS)
    assert not outcome.false_cutoff and outcome.turns == 1 and outcome.transcripts == ("Book a table.",)
    assert outcome.end_of_turn == pytest.approx(0.6) and outcome.committed == pytest.approx(0.61)
    assert outcome.voice_to_voice == pytest.approx(1.5)


@pytest.mark.parametrize("events", [
    # the server ended the turn in the pause and answered; the rest of the sentence became a second turn
    [Seen(2.3, SPEECH_STOPPED, audio_ms=1728), Seen(2.3, COMMITTED, item_id="a"),
     Seen(2.31, TRANSCRIBED, item_id="a", transcript="Book me a table."), Seen(2.31, CREATED, response_id="r"),
     Seen(2.8, SPEECH_STARTED, audio_ms=2388), Seen(2.8, DONE, response_id="r", status="cancelled"),
     Seen(5.2, SPEECH_STOPPED, audio_ms=4672), Seen(5.2, COMMITTED, item_id="b")],
    # a speech_stopped that arrives only after the end, but whose end of speech lies in the pause
    [Seen(4.7, SPEECH_STOPPED, audio_ms=2000), Seen(4.7, COMMITTED, item_id="a")],
    # a reply begun before the sentence was over
    [Seen(4.0, CREATED, response_id="r"), Seen(5.2, SPEECH_STOPPED, audio_ms=4620), Seen(5.2, COMMITTED, item_id="a")],
])
def test_a_turn_ended_before_the_sentence_was_over_is_a_false_cutoff(events: list[Seen]) -> None:
    outcome = classify_turn(events, MARKS)
    assert outcome.false_cutoff
    assert outcome.end_of_turn is None and outcome.voice_to_voice is None, "a cut-off turn is not timed"


def test_the_transcripts_of_a_sentence_heard_as_two_turns_are_kept() -> None:
    events = [Seen(2.3, SPEECH_STOPPED, audio_ms=1728), Seen(2.3, COMMITTED, item_id="a"),
              Seen(2.4, TRANSCRIBED, item_id="a", transcript="Please book me a table."),
              Seen(5.2, SPEECH_STOPPED, audio_ms=4672), Seen(5.2, COMMITTED, item_id="b")]
    outcome = classify_turn(events, MARKS)
    assert outcome.turns == 2 and outcome.transcripts == ("Please book me a table.", None)
    assert outcome.cut_at == pytest.approx(1.228)


REPLY = [Seen(4.8, COMMITTED, item_id="q"), Seen(4.8, CREATED, response_id="story"),
         Seen(6.0, AUDIO, response_id="story")]


def test_a_sound_that_cancels_the_reply_took_the_floor_and_is_timed() -> None:
    events = [*REPLY, Seen(7.12, SPEECH_STARTED, audio_ms=6950), Seen(7.15, DONE, response_id="story",
                                                                      status="cancelled")]
    outcome = classify_reply(events, sound_start=7.0)
    assert outcome.took_floor and outcome.cancelled and not outcome.answered and not outcome.preempted
    assert outcome.speech_started == pytest.approx(0.12) and outcome.status == "cancelled"


def test_a_client_that_pauses_on_speech_held_is_timed_from_it_and_a_backchannel_by_its_pause() -> None:
    held_turn = [*REPLY, Seen(7.11, SPEECH_HELD, audio_ms=6950), Seen(7.6, SPEECH_STARTED, audio_ms=6950),
                 Seen(7.62, DONE, response_id="story", status="cancelled")]
    outcome = classify_reply(held_turn, sound_start=7.0)
    assert outcome.took_floor and outcome.held_for is None
    assert outcome.paused == pytest.approx(0.11) and outcome.speech_started == pytest.approx(0.6)
    backchannel = [*REPLY, Seen(7.1, SPEECH_HELD, audio_ms=6950), Seen(7.9, SPEECH_IGNORED, audio_ms=6950)]
    outcome = classify_reply(backchannel, sound_start=7.0)
    assert not outcome.took_floor and outcome.speech_started is None
    assert outcome.paused == pytest.approx(0.1) and outcome.held_for == pytest.approx(0.8)
    held = turns_report.seen({"type": SPEECH_HELD, "audio_start_ms": 6950}, 7.1)
    assert held == Seen(7.1, SPEECH_HELD, audio_ms=6950)


def test_a_sound_answered_as_a_turn_after_the_reply_was_done_also_took_the_floor() -> None:
    events = [*REPLY, Seen(6.5, DONE, response_id="story", status="completed"), Seen(7.2, SPEECH_STARTED),
              Seen(8.0, SPEECH_STOPPED), Seen(8.0, COMMITTED, item_id="mm"), Seen(8.1, CREATED, response_id="r2")]
    outcome = classify_reply(events, sound_start=7.0)
    assert outcome.took_floor and outcome.answered and not outcome.cancelled


def test_a_reply_that_goes_on_was_not_interrupted() -> None:
    events = [*REPLY, Seen(7.2, SPEECH_STARTED), Seen(7.9, SPEECH_STOPPED), Seen(7.9, COMMITTED, item_id="mm")]
    outcome = classify_reply(events, sound_start=7.0)
    assert not outcome.took_floor and outcome.speech_started == pytest.approx(0.2), "heard, committed, not answered"
    assert not classify_reply(REPLY, sound_start=7.0).took_floor


def test_a_reply_stopped_before_the_sound_says_nothing_about_the_sound() -> None:
    events = [*REPLY, Seen(6.3, SPEECH_STARTED), Seen(6.3, DONE, response_id="story", status="cancelled"),
              Seen(6.9, COMMITTED, item_id="echo"), Seen(6.9, CREATED, response_id="r2"), Seen(7.1, SPEECH_STARTED)]
    assert classify_reply(events, sound_start=7.0).preempted
    # the echo was taken for speech just before the interruption; the cancel that follows is not the interruption's
    heard_echo = [*REPLY, Seen(6.87, SPEECH_STARTED), Seen(7.2, DONE, response_id="story", status="cancelled")]
    assert classify_reply(heard_echo, sound_start=7.0).preempted


def test_server_events_are_kept_by_what_judges_a_trial() -> None:
    done = turns_report.seen({"type": "response.done", "response": {"id": "r", "status": "cancelled"}}, 1.23456)
    assert done == Seen(1.2346, DONE, response_id="r", status="cancelled")
    stopped = turns_report.seen({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900,
                                 "item_id": "i"}, 2.0)
    assert stopped is not None and stopped.audio_ms == 900 and stopped.view() == {
        "at": 2.0, "type": SPEECH_STOPPED, "item_id": "i", "audio_ms": 900.0}
    said = turns_report.seen({"type": TRANSCRIBED, "item_id": "i", "transcript": " Hi. "}, 3.0)
    assert said is not None and said.transcript == "Hi."
    assert turns_report.seen({"type": "response.output_audio_transcript.delta"}, 1.0) is None


def test_a_user_turn_is_settled_once_transcribed_and_answered() -> None:
    one = [Seen(1, SPEECH_STARTED), Seen(2, SPEECH_STOPPED), Seen(2, COMMITTED, item_id="a")]
    assert not turns.turn_settled(one)
    one.append(Seen(2.2, TRANSCRIBED, item_id="a", transcript="x"))
    assert not turns.turn_settled(one), "its answer has not begun"
    assert turns.turn_settled([*one, Seen(3, AUDIO, response_id="r")])
    assert not turns.turn_settled([*one, Seen(2.5, SPEECH_STARTED), Seen(3, AUDIO, response_id="r")]), "speaking"
    two = [*one, Seen(2.5, SPEECH_STARTED), Seen(4, SPEECH_STOPPED), Seen(4, COMMITTED, item_id="b")]
    assert not turns.turn_settled(two)
    assert turns.turn_settled([*two, Seen(4.3, TRANSCRIBED, item_id="b", transcript="y")]), "cut off: judged"
    assert turns.user_turn_pending([Seen(1, SPEECH_STARTED)], 0.0, 1.5)
    assert turns.user_turn_pending([Seen(1, SPEECH_STARTED), Seen(2, SPEECH_STOPPED)], 0.0, 2.5)
    assert not turns.user_turn_pending([Seen(1, SPEECH_STARTED), Seen(2, SPEECH_STOPPED),
                                        Seen(2.1, CREATED)], 0.0, 2.5)
    assert not turns.user_turn_pending([Seen(1, SPEECH_STARTED), Seen(2, SPEECH_STOPPED)], 0.0, 2 + turns.DECIDE)


# ---- the summary -------------------------------------------------------------------------------------------------

def trial(kind: str, mode: str = "server_vad", expect: str = "one turn", **fields: object) -> Trial:
    made = Trial("s", kind, mode, 1, expect, "en", ["piper"])
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def test_the_summary_counts_rates_and_spreads_per_mode_against_the_targets() -> None:
    trials = [
        trial("pause", false_cutoff=True), trial("pause", false_cutoff=False), trial("list", false_cutoff=True),
        trial("number", false_cutoff=False), trial("pause", "semantic_vad", false_cutoff=False),
        trial("complete", end_of_turn=0.6, committed=0.61, voice_to_voice=0.8, false_cutoff=False),
        trial("complete", end_of_turn=0.7, committed=0.71, voice_to_voice=1.2, false_cutoff=False),
        trial("complete", false_cutoff=True, end_of_turn=None),
        trial("backchannel", expect="no interruption", took_floor=True),
        trial("backchannel", expect="no interruption", took_floor=False, held_for=0.9),
        trial("echo", expect="no interruption", took_floor=False),
        trial("echo", expect="interruption", took_floor=True, speech_started=0.1),
        trial("background", expect="no interruption", took_floor=False),
        trial("interruption", expect="interruption", took_floor=True, speech_started=0.1, paused=0.1),
        trial("interruption", expect="interruption", took_floor=True, speech_started=0.2, paused=0.1),
        trial("interruption", expect="interruption", took_floor=False, speech_started=None),
        trial("backchannel", expect="no interruption", error="the reply was too short to speak over"),
    ]
    summary = turns_report.summarize(trials, "server_vad")
    assert summary.false_cutoffs == (2, 4) and summary.false_cutoffs_by_kind["list"] == (1, 1)
    assert summary.complete_cutoffs == (1, 3)
    assert summary.end_of_turn_ms == (650.0, 690.0) and summary.voice_to_voice_ms == (1000.0, 1160.0)
    assert summary.backchannel == (1, 2) and summary.echo == (0, 1) and summary.background == (0, 1)
    assert summary.interruptions_stopped == (2, 3) and summary.echo_interruptions_stopped == (1, 1)
    assert summary.interruption_ms == (150.0, 190.0) and summary.interruption_paused_ms == (100.0, 100.0)
    assert summary.backchannel_held_ms == (900.0, 900.0)
    assert summary.failed == 1 and summary.failures == {"the reply was too short to speak over": 1}
    assert turns_report.met(summary) == {"false_cutoffs": False, "backchannel": False, "echo": True,
                                         "interruption_p90": False, "interruption_paused_p90": True,
                                         "voice_to_voice": False}
    other = turns_report.summarize(trials, "semantic_vad")
    assert other.false_cutoffs == (0, 1) and other.backchannel == (0, 0)
    assert turns_report.met(other)["backchannel"] is None
    table = turns_report.format_summary([summary, other])
    assert re.search(r"false cut-offs \(pause, list, number\)\s+2 of 4 \(50%\)\s+0 of 1 \(0%\)\s+< 5 % "
                     r"\(missed met\)", table), table
    assert "voice to voice (first audio delta)      1000 ms (p90 1160)" in table
    assert "server_vad: 1 x the reply was too short to speak over" in table


def test_the_document_holds_every_trial_the_scenarios_and_the_summary() -> None:
    spec = SCENARIOS[0]
    scenario = Scenario(spec, np.zeros(RATE, np.float32), (0.5,), (Cut(100, "at", "alignment", 1.0),), ("piper",))
    material = turns.Material([scenario], append_events(np.zeros(480, np.float32)), 0.02)
    made = [trial("pause", false_cutoff=True, transcripts=["Please book me a table.", "the rest"])]
    document = turns.document(made, material, modes=["server_vad"], runs=1, shown={"server_vad": {"type": "x"}},
                              settings=fake_state().settings, load=[0.1, 0.2, 0.3])
    assert document["benchmark"] == "turns" and document["method"]["modes"] == {"server_vad": {"type": "server_vad"}}
    assert document["scenarios"][0]["id"] == spec.id and document["trials"][0]["transcripts"][1] == "the rest"
    assert document["summary"]["server_vad"]["false_cutoffs"] == (1, 1)
    assert document["summary"]["server_vad"]["targets_met"]["false_cutoffs"] is False
    (line,) = turns.cut_offs(made)
    assert line.split() == ["server_vad", "s", "'Please", "book", "me", "a", "table.'", "|", "'the", "rest'"]


# ---- the client, against a server on scripted backends -------------------------------------------------------------

STORY = " ".join(["Once upon a time there was a dog."] * 6)


def scripted_state(sentence: str = "book me a table near the station") -> ServerState:
    clock = RealClock()
    backends = Backends(llm=ScriptedLLM(clock, [], first_token=0.05, per_token=0.12), vad=EnergyVAD(),
                        stt=WordsSoFarSTT(clock, sentence), tts=ScriptedTTS(clock, latency=0.02))
    return ServerState(fake_state().settings, backends)


def tone(seconds: float) -> Samples:
    return speech(seconds, RATE).samples


def paused_scenario(pause: float) -> Scenario:
    spec = Spec("pause-fake", "pause", (Said("book me a | table", "en", Voice("piper"), (pause,)),))
    samples = np.concatenate([tone(0.6), np.zeros(round(pause * RATE), np.float32), tone(0.5)])
    return Scenario(spec, samples, (0.6 + pause,), (), ("tone",))


async def test_a_pause_longer_than_the_silence_wait_cuts_the_turn_and_a_shorter_one_does_not() -> None:
    async with serving(scripted_state()) as url:
        client = turns.Client(url, fake_state().settings)
        cut = await client.turn(paused_scenario(0.8), "server_vad", 1)  # server_vad waits 500 ms
        whole = await client.turn(paused_scenario(0.3), "server_vad", 1)
        semantic = await client.turn(paused_scenario(0.3), "semantic_vad", 1)
    assert cut.error is None and cut.false_cutoff and cut.turns == 2, cut.events
    assert cut.transcripts[0] and cut.cut_at == pytest.approx(0.6, abs=0.1)
    assert whole.error is None and not whole.false_cutoff and whole.turns == 1, whole.events
    assert whole.end_of_turn is not None and 0.5 < whole.end_of_turn < 1.2
    assert whole.committed is not None and whole.voice_to_voice is not None
    assert whole.voice_to_voice > whole.committed > 0
    assert whole.marks["speech_end"] > whole.marks["last_part"] > whole.marks["speech_start"] > 0
    assert client.shown["server_vad"]["type"] == "server_vad"
    assert semantic.error is None and client.shown["semantic_vad"]["type"] == "semantic_vad"


def story_state() -> ServerState:
    clock = RealClock()
    backends = Backends(llm=ScriptedLLM(clock, [STORY, "Okay."], first_token=0.05, per_token=0.12),
                        vad=EnergyVAD(), stt=ScriptedSTT(clock, ["tell me a story", "mm-hm"], latency=0.05),
                        tts=ScriptedTTS(clock, latency=0.02))
    return ServerState(fake_state().settings, backends)


def sound_scenario(kind: str, samples: Samples, **spec: object) -> Scenario:
    return Scenario(Spec(f"{kind}-fake", kind, **spec), samples)  # type: ignore[arg-type]


REQUEST = append_events(np.concatenate([np.zeros(RATE // 4, np.float32), tone(0.6)]))


async def test_speech_over_the_reply_stops_it_and_a_quiet_sound_does_not() -> None:
    async with serving(story_state()) as url:
        client = turns.Client(url, fake_state().settings)
        spoken = await client.reply(REQUEST, sound_scenario("backchannel", tone(0.4)), "server_vad", 1)
    async with serving(story_state()) as url:
        client = turns.Client(url, fake_state().settings)
        quiet = await client.reply(REQUEST, sound_scenario("background", turn_audio.white_noise(0.5, -60, seed=1)),
                                   "server_vad", 1)
    assert spoken.error is None and spoken.took_floor and spoken.cancelled, spoken.events
    assert spoken.speech_started is not None and 0 < spoken.speech_started < 1.0
    assert quiet.error is None and not quiet.took_floor and quiet.speech_started is None, quiet.events
    assert quiet.audio_after is not None and quiet.audio_after > 0
    assert quiet.marks["sound_start"] >= quiet.marks["reply_audio_start"] + turns.INJECT_AFTER - turns.PIECE


async def test_the_microphone_streams_the_replys_echo_while_it_plays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "ECHO_LISTEN", 2.0)
    peaks: list[float] = []

    def heard(pcm: bytes) -> str:
        peaks.append(float(np.abs(pcm16_to_float(pcm)).max()))
        return append_event(pcm)

    monkeypatch.setattr(turns, "append_event", heard)
    async with serving(story_state()) as url:
        client = turns.Client(url, fake_state().settings)
        echo = await client.reply(REQUEST, sound_scenario("echo", np.zeros(0, np.float32), level_db=-24,
                                                          delay_ms=60), "server_vad", 1)
    assert echo.error is None and echo.took_floor is False, echo.events  # below the energy VAD's threshold
    assert echo.marks["sound_start"] == echo.marks["reply_audio_start"]
    # the fake voice speaks a constant 0.1: its echo 24 dB down (more or less, through the room's reflections)
    assert 0.1 * turn_audio.gain_of(-24) / 2 < max(peaks) < 0.1
    assert len(peaks) >= 2.0 / turns.PIECE, "echo all the while the reply played"
