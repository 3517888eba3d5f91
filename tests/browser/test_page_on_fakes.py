"""The conversation page on a server with scripted backends: push-to-talk, what Omni saw in an image, a reply paused
while the server holds speech and resumed when it was an acknowledgement, and when things go wrong — the server goes
away and comes back, a person refuses the microphone, the server cannot see."""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from playwright.async_api import Page

from omni.clock import RealClock
from omni.config import load_settings
from omni.server.state import ServerState
from omni.session.options import Backends
from omni.types import Samples, Transcript
from tests.browser.chromium import chromium, give_image, screenshot_dir, sign, write_y4m
from tests.fakes.backends import EnergyVAD, ScriptedLLM, ScriptedSTT, ScriptedTTS, silence, speech
from tests.server.serving import fake_state, serving
from tests.speech import write_wav

WHITE = (255, 255, 255)
"""The fake vision backend reads the text given for an image's top-left colour; a sign's corner is white."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def connection_is(page: Page, *states: str) -> None:
    await page.wait_for_function(
        "states => states.includes(document.querySelector('#connection').dataset.connection)", arg=list(states),
        timeout=30_000)


async def ask(page: Page, text: str) -> None:
    await page.fill("#text-input", text)
    await page.press("#text-input", "Enter")


async def test_the_page_reconnects_when_the_server_comes_back() -> None:
    port = free_port()
    first_server = AsyncExitStack()
    url = await first_server.enter_async_context(serving(fake_state(answers=["First answer."]), port=port))
    try:
        async with chromium(url) as browser:
            page = browser.page
            await connection_is(page, "connected")
            await ask(page, "Hello?")
            await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
            await first_server.aclose()  # the server goes away under the open page
            await connection_is(page, "reconnecting", "connecting", "disconnected")
            async with serving(fake_state(answers=["Second answer."]), port=port):
                await connection_is(page, "connected")
                await ask(page, "Are you back?")
                await page.wait_for_function(
                    "() => document.querySelectorAll('#transcript .turn[data-role=assistant][data-status=done]')"
                    ".length === 2", timeout=30_000)
                answers = await page.locator("#transcript .turn[data-role=assistant] .text").all_inner_texts()
                sessions = [e for e in browser.frames.received if e["type"] == "session.created"]
                updates = [e for e in browser.frames.sent if e["type"] == "session.update"]
    finally:
        await first_server.aclose()
    assert answers == ["First answer.", "Second answer."]
    assert len(sessions) == 2 and len(updates) >= 2, "the new session was configured again"


async def test_a_refused_microphone_is_explained_and_typing_still_works() -> None:
    async with serving(fake_state(answers=["Typing works."])) as url, chromium(url, allow_media=False) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await page.click("#start")
        await page.wait_for_function("() => document.querySelector('#error').textContent.includes('denied')",
                                     timeout=30_000)
        message = await page.inner_text("#error")
        await ask(page, "Can you read this?")
        await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
        answer = await page.inner_text("#transcript .turn[data-role=assistant] .text")
    assert "microphone" in message.lower() and "type" in message.lower(), message
    assert answer == "Typing works."


async def test_push_to_talk_sends_what_was_said_while_space_was_held() -> None:
    async with serving(fake_state(["what I said"], ["Heard you."])) as url, chromium(url) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await page.click("#settings summary")
        await page.select_option("#turn-detection", "push-to-talk")
        await page.click("#settings summary")
        await page.click("#start")
        await page.wait_for_function("() => !document.querySelector('#talk').hidden")
        await page.wait_for_timeout(500)  # the microphone is open
        assert (await page.evaluate("() => window.omniStats.sentAudioMs")) == 0, "nothing is sent until Space is held"
        await page.keyboard.down("Space")
        await page.wait_for_function("() => window.omniStats.sentAudioMs >= 800", timeout=30_000)
        await page.keyboard.up("Space")
        await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
        heard = await page.inner_text("#transcript .turn[data-role=user] .text")
        answer = await page.inner_text("#transcript .turn[data-role=assistant] .text")
        sent = [e["type"] for e in browser.frames.sent]
    session = next(e for e in browser.frames.sent if e["type"] == "session.update" and "audio" in e["session"]
                   and e["session"]["audio"]["input"].get("turn_detection", "absent") is None)
    assert session, "push-to-talk turns the server's turn detection off"
    assert sent.index("input_audio_buffer.commit") < sent.index("response.create")
    assert (heard, answer) == ("what I said", "Heard you.")


BOXES = """selector => [...document.querySelectorAll(selector + ' .seen-box')].map(box => {
  const frame = box.closest('.seen-frame').getBoundingClientRect();
  const r = box.getBoundingClientRect();
  return {kind: box.dataset.kind, label: box.textContent,
          box: [(r.left - frame.left) / frame.width, (r.top - frame.top) / frame.height,
                r.width / frame.width, r.height / frame.height]};
})"""


async def summary_when(page: Page, selector: str, state: str) -> str:
    """The text of the summary at ``selector`` once its state is ``state``."""
    await page.wait_for_function(
        "([selector, state]) => document.querySelector(selector)?.dataset.state === state", arg=[selector, state],
        timeout=30_000)
    return await page.inner_text(selector)


def near(found: list[float], expected: list[float]) -> bool:
    return all(abs(a - b) < 0.02 for a, b in zip(found, expected, strict=True))


async def test_a_pasted_image_shows_what_omni_read_in_it_with_its_box() -> None:
    state = fake_state(answers=["It says EXIT 7."], image_texts={WHITE: "EXIT 7"})
    async with serving(state) as url, chromium(url) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await give_image(page, sign("EXIT 7"), how="paste")
        summary = await summary_when(page, "#transcript .turn .seen-summary", "seen")
        boxes: list[dict[str, Any]] = await page.evaluate(BOXES, "#transcript .turn")
        await ask(page, "What does it say?")
        await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
        await page.screenshot(path=str(screenshot_dir() / "07-seen-image.png"))
    assert "Reads: “EXIT 7”" in summary, summary
    # The fake reads its line at (0.1, 0.1) with size (0.8, 0.2) of the picture: the box is drawn there.
    assert [b["kind"] for b in boxes] == ["text"] and near(boxes[0]["box"], [0.1, 0.1, 0.8, 0.2]), boxes
    assert not [line for line in browser.console if line.startswith(("pageerror", "error"))], browser.console


async def test_a_server_without_vision_says_it_cannot_see() -> None:
    async with serving(fake_state()) as url, chromium(url) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await give_image(page, sign("EXIT 7"), how="drop")
        summary = await summary_when(page, "#transcript .turn .seen-summary", "blind")
        boxes = await page.locator("#transcript .seen-box").count()
    assert "can't see images" in summary and "no vision backend" in summary, summary
    assert boxes == 0


async def test_the_camera_panel_shows_the_frame_omni_looked_at_and_what_it_saw(tmp_path: Path) -> None:
    video = write_y4m(tmp_path / "sign.y4m", [sign("EXIT 7")])
    state = fake_state(image_texts={WHITE: "EXIT 7"})
    async with serving(state) as url, chromium(url, camera=video) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await page.click("#camera")
        summary = await summary_when(page, "#seen-panel .seen-summary", "seen")
        boxes: list[dict[str, Any]] = await page.evaluate(BOXES, "#seen-panel")
        shown = await page.get_attribute("#seen-panel .seen-image", "src")
        turns = await page.locator("#transcript .turn").count()
        await page.screenshot(path=str(screenshot_dir() / "10-camera-seen-on-fakes.png"))
        await page.set_viewport_size({"width": 375, "height": 740})
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        await page.screenshot(path=str(screenshot_dir() / "11-camera-seen-phone.png"))
        await page.click("#camera")  # stopped: the panel no longer stands for what Omni sees
        await page.wait_for_function("() => document.querySelector('#seen-panel').hidden")
    frames = [part["image_url"] for event in browser.frames.sent_of("conversation.item.create")
              for part in event["item"]["content"] if part["type"] == "input_image"]
    assert "Reads: “EXIT 7”" in summary, summary
    assert shown in frames, "the panel shows the frame the server looked at"
    assert len(boxes) == 1 and near(boxes[0]["box"], [0.1, 0.1, 0.8, 0.2]), boxes
    assert turns == 0, "camera frames are not transcript turns"
    assert width <= 375, "the panel fits a phone"


async def test_an_image_whose_connection_drops_is_not_left_looking() -> None:
    # The server takes messages of at most 4 KiB: the image's closes the connection before anything looks at it.
    state = fake_state(image_texts={WHITE: "EXIT 7"}, server={"max_message_bytes": 4096})
    async with serving(state) as url, chromium(url) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await give_image(page, sign("EXIT 7"), how="paste")
        summary = await summary_when(page, "#transcript .turn .seen-summary", "failed")
        await connection_is(page, "connected")
    assert "connection to the server dropped" in summary, summary


async def test_the_interpreter_toggle_has_typed_text_translated() -> None:
    state = fake_state(answers=["프랑스의 수도는 어디예요?"])
    async with serving(state) as url, chromium(url) as browser:
        page = browser.page
        await connection_is(page, "connected")
        await page.click("#settings summary")
        await page.check("#interpreter")
        await page.click("#settings summary")
        await page.wait_for_function("() => document.body.dataset.mode === 'interpreter'", timeout=30_000)
        placeholder = await page.get_attribute("#text-input", "placeholder")
        await ask(page, "What is the capital city of France?")
        await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
        answer = await page.inner_text("#transcript .turn[data-role=assistant] .text")
        stored = await page.evaluate("() => JSON.parse(localStorage.getItem('omni.settings.v1')).interpreter")
    update = browser.frames.sent_of("session.update")[-1]["session"]
    assert update["omni_interpreter"] == {"languages": ["ko", "en"]}
    assert browser.frames.received_of("session.updated")[-1]["session"]["omni_interpreter"]["languages"] == ["ko", "en"]
    assert placeholder is not None and "Korean or English" in placeholder
    assert stored == "ko,en", "the toggle is remembered"
    prompt = state.backends.llm.prompts[-1]  # type: ignore[attr-defined]
    assert "interpreter" in prompt[0].content
    assert prompt[-1].content == "What is the capital city of France?\n\n(Translate this English into Korean.)"
    assert answer == "프랑스의 수도는 어디예요?"


STORY = " ".join(["Once upon a time a little dog crossed the sea."] * 4)
"""40 words: 6 s of generation at 0.15 s a word, during which speech is held (a reply is active on the server), and
10 s of audio."""


@dataclass
class ByLengthSTT(ScriptedSTT):
    """A long sound is the request, a short one an acknowledgement: the words do not hang on how many times the
    server transcribes (pauses, speculation)."""

    async def _transcribe(self, audio: Samples, language: str | None) -> Transcript:
        seconds = len(audio) / self.sample_rate
        self.heard.append(seconds)
        await self.clock.sleep(self.latency)
        return Transcript("Tell me a story." if seconds > 1.2 else "Mm-hm.", language or self.language)


def story_state() -> ServerState:
    clock = RealClock()
    backends = Backends(llm=ScriptedLLM(clock, [STORY], first_token=0.05, per_token=0.15), vad=EnergyVAD(),
                        stt=ByLengthSTT(clock, [], latency=0.05), tts=ScriptedTTS(clock, latency=0.02))
    return ServerState(load_settings({"session": {"turn_detection": "semantic_vad"}}), backends)


async def test_the_page_pauses_the_reply_while_speech_is_held_and_resumes_it(tmp_path: Path) -> None:
    rate = 48000
    # 1.5 s for the page to start listening, the request, then "mm-hm" while the story is being told
    tone = [silence(1.5, rate), speech(1.5, rate), silence(3.0, rate), speech(0.4, rate), silence(1.0, rate)]
    wav = write_wav(tmp_path / "microphone.wav", np.concatenate([part.samples for part in tone]), rate)
    async with serving(story_state()) as url, chromium(url, microphone=wav) as browser:
        page = browser.page
        await connection_is(page, "connected")  # semantic_vad: the page's default turn-taking
        await page.wait_for_function(
            "() => window.omniStats.events.includes('session.updated')", timeout=30_000)
        await page.click("#start")
        await page.wait_for_function(
            "() => window.omniStats.events.includes('omni.input_audio_buffer.speech_ignored')", timeout=30_000)
        await page.wait_for_selector("#transcript .turn[data-role=assistant][data-status=done]", timeout=30_000)
        await page.wait_for_function("() => document.body.dataset.state !== 'speaking'", timeout=30_000)
        numbers: dict[str, Any] = await page.evaluate("() => ({...window.omniStats})")
        answer = await page.inner_text("#transcript .turn[data-role=assistant] .text")
    update = browser.frames.sent_of("session.update")[-1]["session"]
    assert update["omni_turn_events"] is True
    assert update["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
    assert browser.frames.received_of("session.updated")[-1]["session"]["omni_turn_events"] is True
    events = [kind for kind in numbers["events"] if kind.startswith(("omni.", "input_audio_buffer.speech_started"))]
    assert events == ["input_audio_buffer.speech_started", "omni.input_audio_buffer.speech_held",
                      "omni.input_audio_buffer.speech_ignored"], events
    # The worklet said when it fell silent and when it went on: no frame was played in between.
    paused, resumed = numbers["playback"]
    assert (paused["type"], resumed["type"]) == ("paused", "resumed"), numbers["playback"]
    assert paused["frames"] == resumed["frames"] > 0 and resumed["at"] > paused["at"]
    # It went on to the end, every received millisecond played, and nothing was cut.
    assert numbers["holds"] == 1 and numbers["truncations"] == 0
    assert browser.frames.sent_of("conversation.item.truncate") == []
    assert answer == STORY
    per_ms = numbers["outputSampleRate"] / 1000
    assert numbers["playedSamples"] >= 0.95 * numbers["receivedAudioMs"] * per_ms, numbers
    assert not [line for line in browser.console if line.startswith(("pageerror", "error"))], browser.console
