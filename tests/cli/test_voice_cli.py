"""``omni voice``, ``transcribe``, ``say``, ``chat`` and ``talk`` on the real embedded models, through the console
script, with speech the tests make; and every kind of bad input giving a clear message instead of a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from omni.text.wer import wer, words
from tests import speech
from tests.cli.omni_cli import assert_clean_failure, run_omni

pytestmark = pytest.mark.models

QUESTION = "What is the capital of France?"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples, rate = speech.piper_samples(QUESTION)
    path = tmp_path_factory.mktemp("voice") / "question.wav"
    return speech.write_wav(path, speech.with_silence(samples, rate, before_s=0.5, after_s=0.3), rate)


def _line(stdout: str, prefix: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith(prefix)]
    assert lines, stdout
    return lines[0]


def test_voice_turn_from_a_file(question_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.wav"
    result = run_omni("voice", str(question_wav), "-o", str(out))
    assert result.returncode == 0, result.stderr
    heard = _line(result.stdout, "you (en): ").removeprefix("you (en): ")
    assert wer(QUESTION, heard) <= 0.2
    answer = _line(result.stdout, "omni: ").removeprefix("omni: ")
    assert "paris" in answer.lower()
    timing = _line(result.stdout, "timing: ")
    assert re.search(r"stt \d+ ms .* llm first token \d+ ms .* tts first audio \d+ ms", timing)
    # the spoken answer really says the answer: transcribe it back
    back = run_omni("transcribe", str(out), "--json")
    assert back.returncode == 0, back.stderr
    assert "paris" in back.stdout.lower()


def test_voice_realtime_barge_in_stops_the_answer(tmp_path: Path) -> None:
    story, rate = speech.piper_samples("Tell me a long story about a brave little dog who travels across the sea.")
    stop, _ = speech.piper_samples("Wait, stop please.")
    # the second utterance starts 4.5 s after the question: the long answer is playing by then
    clip = speech.concat(story, 4.5, stop, 1.0, sample_rate=rate)
    source = speech.write_wav(tmp_path / "barge.wav", clip, rate)
    out = tmp_path / "answer.wav"
    result = run_omni("voice", "--realtime", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    cut = _line(result.stdout, "omni (interrupted): ")
    heard, generated = re.match(r"omni \(interrupted\): (.*)  \[generated: (.*)\]", cut).groups()  # type: ignore[union-attr]
    heard_words, generated_words = words(heard), words(generated)
    assert len(heard_words) < len(generated_words)  # empty when the answer was cut in its first words
    assert generated_words[: len(heard_words)] == heard_words
    you = [line for line in result.stdout.splitlines() if line.startswith("you (")]
    assert len(you) == 2
    assert set(words(you[1].split(":", 1)[1])) & {"wait", "stop", "please"}


def test_transcribe_resamples_other_rates(tmp_path: Path) -> None:
    samples, rate = speech.piper_samples(QUESTION)
    at_44k = speech.write_wav(tmp_path / "q44.wav", speech.resample_for_fixture(samples, rate, 44100), 44100)
    result = run_omni("transcribe", str(at_44k))
    assert result.returncode == 0, result.stderr
    assert wer(QUESTION, result.stdout) <= 0.2


def test_say_english_and_korean(tmp_path: Path) -> None:
    for text, lang in (("Good morning, how are you?", "en"), ("안녕하세요, 만나서 반갑습니다.", "ko")):
        out = tmp_path / f"{lang}.wav"
        result = run_omni("say", text, "--lang", lang, "-o", str(out))
        assert result.returncode == 0, result.stderr
        samples, rate = speech.read_wav(out)
        assert 0.8 < len(samples) / rate < 8
        assert float(np.sqrt(np.mean(samples**2))) > 0.01


def test_chat_streams_answers_in_english_and_korean() -> None:
    result = run_omni("chat", stdin="What is the capital of France?\n안녕하세요! 오늘 기분이 어때요?\n")
    assert result.returncode == 0, result.stderr
    answers = [line.removeprefix("omni> ") for line in result.stdout.splitlines() if line.startswith("omni> ")]
    assert len(answers) == 2, result.stdout
    assert "paris" in answers[0].lower()
    assert len(HANGUL.findall(answers[1])) >= 5


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["transcribe", "/nonexistent/clip.wav"], "no such file"),
        (["voice", "/nonexistent/clip.wav", "-o", "/tmp/x.wav"], "no such file"),
        (["say", "   ", "-o", "/tmp/x.wav"], "empty"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], expected: str) -> None:
    assert_clean_failure(run_omni(*args), expected)


def test_non_audio_and_empty_files(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    assert_clean_failure(run_omni("transcribe", str(text)), "not an audio file")
    empty = speech.write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    assert_clean_failure(run_omni("voice", str(empty), "-o", str(tmp_path / "o.wav")), "contains no audio")
    quiet = speech.write_wav(tmp_path / "quiet.wav", np.zeros(16000, dtype=np.float32), 16000)
    assert_clean_failure(run_omni("voice", str(quiet), "-o", str(tmp_path / "o.wav")), "no speech found")


def test_missing_models_are_named(question_wav: Path, tmp_path: Path) -> None:
    result = run_omni("transcribe", "--stt-model", str(tmp_path / "no-such-model"), str(question_wav))
    assert_clean_failure(result, "no-such-model")
    result = run_omni("chat", "--llm-model", str(tmp_path / "missing.gguf"), stdin="hi\n")
    assert_clean_failure(result, "missing.gguf")
    result = run_omni("voice", str(question_wav), "-o", str(tmp_path / "o.wav"), models_dir=tmp_path / "empty")
    assert_clean_failure(result, "make install")


def test_talk_without_audio_devices_says_so() -> None:
    result = run_omni("talk", timeout=60)
    # This machine has no sound card; a machine with one would start a conversation instead.
    assert_clean_failure(result, "omni talk")
