"""Interpreter mode over the Realtime API, on scripted fakes: switched on by instructions or by the ``omni_interpreter``
extension field, off by the same field, shown in ``session.updated`` in both dialects."""

from __future__ import annotations

from typing import Any

from omni.session.interpreter import Interpreter
from tests.server.realtime_client import Wire, realtime
from tests.server.serving import fake_state, serving

INTERPRETER = "You are an interpreter. Translate everything the user says between English and Korean."
QUESTION = "What is the capital city of France?"


async def update(wire: Wire, session: dict[str, Any]) -> dict[str, Any]:
    await wire.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                                           **session}})
    shown: dict[str, Any] = (await wire.until("session.updated"))[-1]["session"]
    return shown


async def ask(wire: Wire, text: str) -> str:
    await wire.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
    await wire.send({"type": "response.create"})
    events = await wire.until("response.done")
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


async def test_interpreter_instructions_get_a_translation_prompt_not_a_conversation() -> None:
    state = fake_state(answers=["프랑스의 수도는 어디예요?", "Please turn off the light."])
    async with serving(state) as url, realtime(url) as wire:
        shown = await update(wire, {"instructions": INTERPRETER})
        first = await ask(wire, QUESTION)
        second = await ask(wire, "불 좀 꺼 주세요.")
    assert shown["omni_interpreter"] == {"languages": ["en", "ko"], "set_by": "instructions"}
    assert shown["instructions"] == INTERPRETER, "the client's instructions are kept as given"
    assert (first, second) == ("프랑스의 수도는 어디예요?", "Please turn off the light.")
    prompts = state.backends.llm.prompts  # type: ignore[attr-defined]
    interpreter = Interpreter(("en", "ko"))
    assert prompts[0][:-1] == prompts[1][:-1] == interpreter.prompt(None)
    assert prompts[0][-1].content.endswith("(Translate this English into Korean.)")
    assert prompts[1][-1].content.endswith("(Translate this Korean into English.)")
    assert QUESTION not in "".join(m.content for m in prompts[1])


async def test_the_extension_field_switches_the_mode_on_and_off_whatever_the_instructions() -> None:
    state = fake_state(answers=["안녕하세요.", "Hello!", "Hi."])
    async with serving(state) as url, realtime(url) as wire:
        on = await update(wire, {"instructions": "You are a cheerful assistant.",
                                 "omni_interpreter": {"languages": ["ko", "en"]}})
        await ask(wire, "Hello.")
        off = await update(wire, {"instructions": INTERPRETER, "omni_interpreter": False})
        await ask(wire, "Hello?")
        auto = await update(wire, {"omni_interpreter": None})
    prompts = state.backends.llm.prompts  # type: ignore[attr-defined]
    assert on["omni_interpreter"] == {"languages": ["ko", "en"], "set_by": "session"}
    assert prompts[0][-1].content == "Hello.\n\n(Translate this English into Korean.)"
    assert off["omni_interpreter"] is False
    assert prompts[1][0].content == INTERPRETER and prompts[1][-1].content == "Hello?", "a conversation again"
    assert auto["omni_interpreter"] == {"languages": ["en", "ko"], "set_by": "instructions"}


async def test_a_bad_switch_is_an_error_naming_the_field_and_the_beta_dialect_shows_the_mode() -> None:
    async with serving(fake_state()) as url:
        async with realtime(url) as wire:
            await wire.send({"type": "session.update", "event_id": "evt_bad", "session": {
                "type": "realtime", "omni_interpreter": {"languages": ["ko", "xx"]}}})
            error = (await wire.until("error"))[-1]["error"]
        async with realtime(url, beta=True, model="gpt-4o-realtime-preview") as wire:
            await wire.send({"type": "session.update", "session": {"instructions": "영어와 한국어를 통역해 주세요"}})
            beta = (await wire.until("session.updated"))[-1]["session"]
    assert (error["code"], error["param"], error["event_id"]) == (
        "invalid_value", "session.omni_interpreter.languages", "evt_bad")
    assert beta["omni_interpreter"] == {"languages": ["en", "ko"], "set_by": "instructions"}


async def test_a_server_set_to_interpret_starts_every_session_interpreting() -> None:
    state = fake_state(answers=["Thank you."], session={"interpreter": ["ko", "en"]})
    async with serving(state) as url, realtime(url) as wire:
        created = wire.seen[0]["session"]
        await update(wire, {})
        await ask(wire, "감사합니다.")
    assert created["omni_interpreter"] == {"languages": ["ko", "en"], "set_by": "session"}
    prompt = state.backends.llm.prompts[-1]  # type: ignore[attr-defined]
    assert prompt[-1].content == "감사합니다.\n\n(Translate this Korean into English.)"
