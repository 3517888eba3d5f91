"""How well the LLM answers from what vision found: right when the findings hold the answer, honest when they do not.

Four scenes, given to the session as if perception had found them (a sign, a cat, a street with two people and a
car, a blurry picture where nothing was recognised), and thirteen questions about them in English and Korean —
some answered by the findings, some not (the cat's eye colour, what a man wears beyond the measured colour of his
clothes, a car that is not there), one not about the image at all. Each question goes through a real session on the
configured LLM at its own temperature, ``samples`` times. An answer is right when it holds the expected words, or,
where the findings cannot tell, when it says so (a phrase list, in English and Korean).

This isolates the LLM's part: perception's own accuracy is measured by the tests and the other vision benchmarks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omni.backends.base import LLM, Vision
from omni.clock import RealClock
from omni.events import ReplyDone, SessionEvent
from omni.session.playout import CollectingOutput
from omni.session.session import Backends, Session, SessionOptions
from omni.types import ImageFrame
from omni.vision.scene import Box, Guess, ImageFacts, Scene, SeenObject, TextLine

SCENES: dict[str, Scene] = {
    "sign": Scene(ImageFacts(1024, 640, 0.8, ("white", "blue"), 300.0, False),
                  text=(TextLine("Trains to Busan leave from platform 14", Box(0.1, 0.3, 0.8, 0.1), 0.95),),
                  gist=(Guess("street sign", 0.31),)),
    "cat": Scene(ImageFacts(451, 300, 0.45, ("brown", "grey"), 180.0, False),
                 objects=(SeenObject("cat", Box(0.2, 0.1, 0.6, 0.8), 0.82),),
                 gist=(Guess("tabby cat", 0.38), Guess("tiger cat", 0.37))),
    "nothing": Scene(ImageFacts(640, 480, 0.5, ("grey",), 20.0, True)),
    "street": Scene(ImageFacts(1280, 720, 0.6, ("grey", "blue"), 250.0, False),
                    objects=(SeenObject("person", Box(0.1, 0.3, 0.1, 0.5), 0.8, ("red",)),
                             SeenObject("person", Box(0.7, 0.3, 0.1, 0.5), 0.7, ("black",)),
                             SeenObject("car", Box(0.4, 0.5, 0.3, 0.3), 0.9, ("white",))),
                    gist=(Guess("street sign", 0.2),)),
}

ABSTAIN = re.compile(
    r"can'?t tell|cannot tell|can not tell|not able to|unable|cannot determine|can'?t determine|not known|unknown|"
    r"don'?t know|no information|does(n'?t| not) (say|contain|provide|mention)|not mentioned|unclear|isn'?t clear|"
    r"not clear|no (car|text|objects?|recogni[sz]able|visible)|nothing (specific|recogni|visible)|blank|"
    r"not (visible|recogni[sz]ed)|"
    r"알 수 없|모르", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    scene: str
    text: str
    expect: tuple[str, ...] = ()
    """Words the answer must hold (``a|b``: either); none: the findings cannot tell, and the answer must say so."""


QUESTIONS = (
    Question("sign", "What does the sign say?", ("busan", "14")),
    Question("sign", "Which platform for Busan?", ("14",)),
    Question("sign", "이 표지판에 뭐라고 써 있어요?", ("busan|부산", "14")),
    Question("cat", "What animal is this?", ("cat",)),
    Question("cat", "이 사진에 뭐가 있어요?", ("고양이",)),
    Question("cat", "What colour are its eyes?"),
    Question("cat", "Is the cat happy?"),
    Question("street", "How many people are there?", ("2|two",)),
    Question("street", "What colour is the car?", ("white",)),
    Question("street", "What is the man on the left wearing?", ("red",)),
    Question("street", "What is the capital of France?", ("paris",)),
    Question("nothing", "What is in this picture?"),
    Question("nothing", "What colour is the car?"),
)


def right(question: Question, answer: str) -> bool:
    text = answer.lower()
    if not question.expect:
        return bool(ABSTAIN.search(text))
    return all(any(word in text for word in words.split("|")) for words in question.expect)


class GivenScene(Vision):
    """A vision backend that finds what it is told to: the scene of the question being asked."""

    def __init__(self) -> None:
        self.scene = SCENES["nothing"]

    async def _look(self, frame: ImageFrame, question: str | None) -> Scene:
        return self.scene


@dataclass(frozen=True)
class Answer:
    scene: str
    question: str
    sample: int
    answer: str
    right: bool


async def run(llm: LLM, options: SessionOptions, samples: int, progress: Callable[[str], None]) -> list[Answer]:
    vision = GivenScene()
    blank = ImageFrame(np.zeros((8, 8, 3), dtype=np.uint8), 8, 8, "PNG")
    answers = []
    for question in QUESTIONS:
        vision.scene = SCENES[question.scene]
        for sample in range(samples):
            done: list[ReplyDone] = []

            def collect(event: SessionEvent, done: list[ReplyDone] = done) -> None:
                if isinstance(event, ReplyDone):
                    done.append(event)

            session = Session(Backends(llm=llm, vision=vision), options, clock=RealClock(), output=CollectingOutput(),
                              observers=[collect])
            session.add_user_message(question.text, [blank])
            handle = await session.create_reply()
            await handle.done.wait()
            await session.aclose()
            text = done[-1].text.strip() if done else ""
            answers.append(Answer(question.scene, question.text, sample, text, right(question, text)))
            progress(f"  {'right' if answers[-1].right else 'WRONG'}  [{question.scene}] {question.text} → {text}")
    return answers
