"""The conversation page on a server with scripted backends: push-to-talk, and when things go wrong — the server
goes away and comes back, a person refuses the microphone."""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack

from playwright.async_api import Page

from tests.browser.chromium import chromium
from tests.server.serving import fake_state, serving


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
