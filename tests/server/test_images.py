"""Images through the Realtime API and REST chat on scripted fakes, with the official ``openai`` SDK as the client:
what vision found reaches the model and the client; bad images are clear errors and the session goes on."""

from __future__ import annotations

import base64
import io
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from PIL import Image

from omni.server.state import ServerState
from omni.vision.describe import REMINDER
from tests.fakes.backends import ColourReadingVision, ScriptedLLM
from tests.server.realtime_client import realtime
from tests.server.serving import fake_state, serving

RED = (200, 20, 20)
SIGN = "Trains to Busan leave from platform 14"


def png(colour: tuple[int, int, int] = RED, size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(out.getvalue()).decode()


def llm_of(state: ServerState) -> ScriptedLLM:
    assert isinstance(state.backends.llm, ScriptedLLM)
    return state.backends.llm


def image_item(*parts: dict[str, Any], item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "message", "role": "user", "content": list(parts)}
    if item_id:
        item["id"] = item_id
    return {"type": "conversation.item.create", "item": item}


async def test_an_image_item_is_looked_at_and_its_findings_reach_client_and_model() -> None:
    state = fake_state(answers=["It says trains to Busan leave from platform 14."], image_texts={RED: SIGN})
    async with serving(state) as url, realtime(url) as wire:
        await wire.send(image_item({"type": "input_text", "text": "What does the sign say?"},
                                   {"type": "input_image", "image_url": png()}, item_id="item_sign"))
        events = await wire.until("conversation.item.done")
        await wire.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        answer = await wire.until("response.done")
    added = next(e for e in events if e["type"] == "conversation.item.added")["item"]
    assert added["id"] == "item_sign" and added["status"] == "in_progress"
    assert [p["type"] for p in added["content"]] == ["input_text", "input_image"]
    done = events[-1]["item"]
    assert done["status"] == "completed"
    found = done["content"][1]["omni_vision"]
    assert found["state"] == "seen" and found["scene"]["text"][0]["text"] == SIGN
    assert "image_url" not in done["content"][1]  # the pixels are not echoed back
    prompt = llm_of(state).prompts[0][-1].content
    assert prompt.startswith("[Image the user showed.") and f'"{SIGN}"' in prompt
    assert "What does the sign say?" in prompt
    assert answer[-1]["response"]["status"] == "completed"


async def test_the_beta_dialect_accepts_images_and_shows_them_as_text() -> None:
    state = fake_state(answers=["Platform 14."], image_texts={RED: SIGN})
    async with serving(state) as url, realtime(url, beta=True, model="gpt-4o-realtime-preview") as wire:
        await wire.send(image_item({"type": "input_image", "image_url": png()}))
        created = (await wire.until("conversation.item.created"))[-1]["item"]
        await wire.send({"type": "response.create", "response": {"modalities": ["text"]}})
        await wire.until("response.done")
        await wire.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "assistant", "content": [{"type": "input_image", "image_url": png()}]}})
        wrong_role = (await wire.until("error"))[-1]["error"]
    assert created["content"][0]["type"] == "input_text"
    assert SIGN in llm_of(state).prompts[0][-1].content
    assert "user messages only" in wrong_role["message"]


@pytest.mark.parametrize(("part", "code", "message"), [
    ({"type": "input_image", "image_url": "https://example.com/sign.png"}, "invalid_image", "does not fetch images"),
    ({"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}, "invalid_image",
     "not a readable image"),
    ({"type": "input_image", "image_url": png(fmt="TIFF")}, "invalid_image", "unsupported image format TIFF"),
    ({"type": "input_image", "image_url": "data:image/png;base64,@@@"}, "invalid_image", "base64"),
])
async def test_a_bad_image_is_an_error_event_and_the_session_goes_on(part: dict[str, Any], code: str,
                                                                     message: str) -> None:
    state = fake_state(answers=["Hello."], image_texts={})
    async with serving(state) as url, realtime(url) as wire:
        await wire.send(image_item({"type": "input_text", "text": "Look"}, part))
        error = (await wire.until("error"))[-1]["error"]
        await wire.send(image_item({"type": "input_text", "text": "Hi"}))
        await wire.send({"type": "response.create"})
        done = (await wire.until("response.done"))[-1]
    assert error["code"] == code and message in error["message"]
    assert error["param"] == "item.content[1].image_url"
    assert done["response"]["status"] == "completed"
    assert [m.content for m in llm_of(state).prompts[0][1:]] == ["Hi"]  # the bad message was not added


async def test_too_many_images_in_one_message_and_images_in_a_reply_input_are_refused() -> None:
    state = fake_state(image_texts={}, vision={"max_images_per_message": 2})
    async with serving(state) as url, realtime(url) as wire:
        await wire.send(image_item(*[{"type": "input_image", "image_url": png()}] * 3))
        too_many = (await wire.until("error"))[-1]["error"]
        await wire.send({"type": "response.create", "response": {"input": [
            {"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": png()}]}]}})
        out_of_band = (await wire.until("error"))[-1]["error"]
    assert "at most 2 images" in too_many["message"]
    assert "conversation.item.create" in out_of_band["message"]


async def test_a_huge_image_is_downscaled_on_arrival() -> None:
    state = fake_state(image_texts={}, vision={"max_side": 256})
    async with serving(state) as url, realtime(url) as wire:
        await wire.send(image_item({"type": "input_image", "image_url": png(size=(3000, 1500))}))
        done = (await wire.until("conversation.item.done"))[-1]["item"]
    facts = done["content"][0]["omni_vision"]["scene"]["facts"]
    assert (facts["width"], facts["height"]) == (256, 128)


# ---- REST ----------------------------------------------------------------------------------------------------------

def client(base_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=base_url + "/v1", api_key="x", max_retries=0)


async def test_rest_chat_reads_what_vision_found_in_an_image_url() -> None:
    state = fake_state(answers=["Platform 14."], image_texts={RED: SIGN})
    async with serving(state) as url:
        answer = await client(url).chat.completions.create(model="m", messages=[{"role": "user", "content": [
            {"type": "text", "text": "Which platform?"}, {"type": "image_url", "image_url": {"url": png()}}]}])
    assert answer.choices[0].message.content == "Platform 14."
    note, question, reminder = llm_of(state).prompts[0][0].content.split("\n")
    assert note.startswith("[Image the user showed.") and f'"{SIGN}"' in note
    assert question == "Which platform?" and reminder == REMINDER
    vision = state.backends.vision
    assert isinstance(vision, ColourReadingVision) and vision.questions == ["Which platform?"]


async def test_rest_chat_without_vision_tells_the_model_it_cannot_see() -> None:
    state = fake_state(answers=["I can't see it."])
    async with serving(state) as url:
        await client(url).chat.completions.create(model="m", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": png()}}]}])
    assert "cannot see images" in llm_of(state).prompts[0][0].content


@pytest.mark.parametrize(("message", "param", "text"), [
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]},
     "messages[0].content[0].image_url", "does not fetch images"),
    ({"role": "user", "content": [{"type": "text", "text": "?"},
                                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
     "messages[0].content[1].image_url", "not a readable image"),
    ({"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
     "messages[0].content", "user messages only"),
])
async def test_rest_chat_bad_images_are_a_400_naming_the_part(message: dict[str, Any], param: str,
                                                               text: str) -> None:
    state = fake_state(answers=["never"], image_texts={})
    async with serving(state) as url:
        with pytest.raises(openai.BadRequestError) as error:
            await client(url).chat.completions.create(model="m", messages=[message])  # type: ignore[list-item]
    assert error.value.param == param and text in error.value.message
    assert llm_of(state).prompts == []
