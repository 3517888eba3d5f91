"""The cores' schedule: text generation waits between tokens while speech work runs, never for ever."""

from __future__ import annotations

import threading

from omni.cores import SpeechFirst


def test_no_wait_when_no_speech_work_runs() -> None:
    cores = SpeechFirst()
    assert not cores.busy
    assert cores.wait_for_turn() < 0.05


def test_generation_waits_until_the_speech_work_ends() -> None:
    cores = SpeechFirst()
    held = threading.Event()
    release = threading.Event()

    def speak() -> None:
        with cores.speech():
            held.set()
            release.wait(5)

    worker = threading.Thread(target=speak)
    worker.start()
    held.wait(5)
    assert cores.busy
    threading.Timer(0.2, release.set).start()
    waited = cores.wait_for_turn(max_wait=5)
    worker.join()
    assert 0.15 < waited < 4, waited
    assert not cores.busy


def test_the_wait_is_bounded_and_a_stop_ends_it() -> None:
    cores = SpeechFirst()
    with cores.speech():
        assert 0.1 <= cores.wait_for_turn(max_wait=0.1) < 2
        stop = threading.Event()
        threading.Timer(0.1, stop.set).start()
        assert cores.wait_for_turn(stop, max_wait=10) < 5
    assert not cores.busy


def test_speech_work_counts_nested_holders() -> None:
    cores = SpeechFirst()
    seen: list[bool] = []
    with cores.speech():
        seen.append(cores.run_speech(lambda: cores.busy))
        seen.append(cores.busy)  # the outer holder is still there
    seen.append(cores.busy)
    assert seen == [True, True, False]
    assert cores.run_speech(sum, [1, 2, 3]) == 6
