"""Images in the conversation, on virtual time: looked at in the background, replies wait for them, camera frames
do not flood the prompt, and the model is told plainly when an image could not be looked at."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omni.backends.base import Vision
from omni.clock import Clock, VirtualClock
from omni.events import ImagesSeen, ReplyDone
from omni.session.vision import MAX_WAITING
from omni.types import ImageFrame
from omni.vision.describe import REMINDER
from omni.vision.scene import Scene
from tests.fakes.backends import ColourReadingVision, silence, speech
from tests.session.harness import Harness, make_harness

RED, BLUE, GREEN = (200, 20, 20), (20, 20, 200), (20, 200, 20)


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (48, 64)) -> ImageFrame:
    return ImageFrame(np.full((*size, 3), colour, dtype=np.uint8), size[1], size[0], "PNG")


def harness(answers: list[str], vision: Callable[[VirtualClock], Vision] | None) -> Harness:
    return make_harness([], list(answers), turn_detection="manual", output_audio=False, vision=vision)


def reading(texts: dict[tuple[int, int, int], str], latency: float = 0.3) -> Callable[[VirtualClock], Vision]:
    return lambda clock: ColourReadingVision(clock, texts, latency=latency)


def questions(h: Harness) -> list[str | None]:
    """The questions the vision backend was asked, one per look it really made."""
    vision = h.session.backends.vision
    assert isinstance(vision, ColourReadingVision)
    return vision.questions


async def reply(h: Harness, count: int = 1) -> None:
    await h.session.create_reply()
    await h.clock.run_until(lambda: len(h.of(ReplyDone)) >= count, limit=20)


async def test_a_reply_waits_for_the_image_and_reads_what_was_found() -> None:
    h = harness(["It says platform 14."], reading({RED: "Trains to Busan leave from platform 14"}, latency=1.0))
    item = h.session.add_user_message("What does the sign say?", [picture(RED)])
    statuses = [item.status]
    await reply(h)
    statuses.append(item.status)
    assert statuses == ["in_progress", "completed"] and h.of(ImagesSeen)[0].item_id == item.id
    assert h.of(ImagesSeen)[0].at <= h.of(ReplyDone)[0].at
    question = h.llm.prompts[0][-1]
    note, words, reminder = question.content.split("\n", 2)
    assert question.role == "user" and note.startswith("[Image the user showed.")
    assert '"Trains to Busan leave from platform 14"' in note
    assert words == "What does the sign say?" and reminder.strip() == REMINDER
    assert questions(h) == ["What does the sign say?"]


async def test_camera_frames_of_one_view_are_looked_at_once_and_shown_once() -> None:
    h = harness(["A sign."], reading({RED: "EXIT"}, latency=0.5))
    for _ in range(5):  # a camera on a still scene
        h.session.add_user_message("", [picture(RED)])
        await h.clock.advance(1.0)
    h.session.add_user_text("What do you see?")
    await reply(h)
    assert len(questions(h)) == 1  # the other four frames reused the first look
    prompt = h.llm.prompts[0]
    assert sum("EXIT" in m.content for m in prompt) == 1
    assert prompt[-1].content == f"What do you see?\n\n{REMINDER}"


async def test_of_frames_that_change_the_newest_views_are_shown() -> None:
    h = harness(["Blue and green."], reading({RED: "red sign", BLUE: "blue sign", GREEN: "green sign"}))
    for colour in (RED, BLUE, GREEN):
        h.session.add_user_message("", [picture(colour)])
        await h.clock.advance(1.0)
    h.session.add_user_text("What changed?")
    await reply(h)
    shown = "\n".join(m.content for m in h.llm.prompts[0])
    assert "red sign" not in shown and "blue sign" in shown and "green sign" in shown


async def test_images_asked_about_stay_and_older_ones_shrink_to_a_line() -> None:
    h = harness(["One.", "Two.", "Three."], reading({RED: "first", BLUE: "second", GREEN: "third"}, latency=0.1))
    for count, colour in enumerate((RED, BLUE, GREEN), start=1):
        h.session.add_user_message("Read it.", [picture(colour)])
        await reply(h, count)
    last = h.llm.prompts[-1]
    first = next(m.content for m in last if "first" in m.content)
    assert first.startswith("[An earlier image:") and first.endswith("Read it.") and "[Image " not in first
    assert sum(m.content.count("[Image the user showed.") for m in last) == 2  # the newest two in full


async def test_without_a_vision_backend_the_model_is_told_it_cannot_see() -> None:
    h = harness(["I can't see images here."], None)
    h.session.add_user_message("What is this?", [picture(RED)])
    await reply(h)
    assert "no vision backend, so it cannot see images" in h.llm.prompts[0][-1].content


class BrokenVision(Vision):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        await self.clock.sleep(0.1)
        raise RuntimeError("the model crashed")


async def test_a_failed_look_is_said_and_the_session_goes_on() -> None:
    h = harness(["Sorry, I could not look at it.", "Hello."], BrokenVision)
    item = h.session.add_user_message("What is this?", [picture(RED)])
    await reply(h)
    assert item.images[0].state == "failed"
    assert "looking at it failed (vision: RuntimeError: the model crashed)" in h.llm.prompts[0][-1].content
    h.session.add_user_text("Hi")
    await reply(h, 2)
    assert h.of(ReplyDone)[1].status == "completed"


async def test_a_flood_of_images_is_not_looked_at_beyond_the_queue() -> None:
    h = harness(["Too many."], reading({}, latency=1.0))
    items = [h.session.add_user_message("", [picture((i, i, i))]) for i in range(0, 250, 25)]
    await h.clock.run_until(lambda: len(h.of(ImagesSeen)) == len(items), limit=30)
    states = [item.images[0].state for item in items]
    assert states.count("seen") == MAX_WAITING and states.count("skipped") == len(items) - MAX_WAITING
    assert len(questions(h)) == MAX_WAITING


async def test_the_pixels_are_dropped_once_looked_at() -> None:
    h = harness([], reading({}, latency=0.1))
    item = h.session.add_user_message("", [picture(RED)])
    await h.clock.run_until(lambda: bool(h.of(ImagesSeen)), limit=5)
    assert item.images[0].frame is None and item.images[0].scene is not None


async def test_the_reminder_comes_only_with_a_turn_about_images_and_korean_names_things() -> None:
    h = harness(["A cat.", "Paris.", "고양이요."], reading({RED: "CAT"}))
    h.session.add_user_message("What is this?", [picture(RED)])
    await reply(h)
    h.session.add_user_text("What is the capital of France?")
    await reply(h, 2)
    assert REMINDER in h.llm.prompts[0][-1].content and REMINDER not in h.llm.prompts[1][-1].content
    h.session.add_user_message("이게 뭐예요?", [picture(RED)])
    await reply(h, 3)
    assert h.llm.prompts[2][-1].content.endswith(f"이게 뭐예요?\n\n{REMINDER}\n\n(Answer in Korean.)")


async def test_words_read_ahead_are_prefilled_after_the_frame_without_the_reminder() -> None:
    h = make_harness([], ["It says EXIT."], listen_ahead_ms=600, spoken_sentence="What does the sign say now",
                     vision=reading({RED: "EXIT"}, latency=0.2))
    h.session.add_user_message("", [picture(RED)])  # the camera's frame as the user starts speaking
    await h.feed(speech(2.5))
    await h.feed(silence(1.5))
    await h.clock.run_until(lambda: bool(h.of(ReplyDone)), limit=20)
    read_ahead = [p for p, words in zip(h.llm.prefilled, h.llm.prefilled_words, strict=True)
                  if words and any("EXIT" in m.content for m in p)]
    assert read_ahead, "the words read ahead were prefilled after the frame's note"
    assert all(REMINDER not in m.content for p in h.llm.prefilled for m in p)
    prompt = h.llm.prompts[-1]
    assert prompt[: len(read_ahead[-1])] == read_ahead[-1]  # the cached prefix is the reply's prompt's prefix
    assert prompt[-1].content.endswith(REMINDER)


async def test_a_frames_note_is_prefilled_as_soon_as_it_is_seen() -> None:
    h = make_harness([], [], turn_detection="manual", listen_ahead_ms=600, vision=reading({RED: "EXIT"}, latency=0.2))
    h.session.add_user_message("", [picture(RED)])
    await h.clock.run_until(lambda: any("EXIT" in m.content for p in h.llm.prefilled for m in p), limit=5)
    assert h.llm.prefilled[-1][-1].content.endswith("Nothing else about the image is known.]")
