"""A kept set of questions with known answers, each in Korean and in English, to compare the two languages.

Sixty-four items in four kinds: general knowledge, arithmetic, everyday advice and follow-ups that need the
conversation (a first turn says something the last question asks about). The two versions of an item ask the same
thing in the way a speaker of each language would, and share one answer key: groups of words that must all be in
the answer, each group a set of alternatives in either language (digits, as whole numbers, and Korean number
words both count; an arithmetic answer is never among its question's numbers, so an echo of the question is not an
answer). An answer to a Korean question must also be in Korean (:func:`in_korean`): an English answer to a Korean
speaker is wrong however right its facts.

Advice has no single right answer; its key words are the ones any sound answer uses (a cut: wash it or press on it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["knowledge", "arithmetic", "advice", "follow-up"]


@dataclass(frozen=True)
class Item:
    kind: Kind
    ko: tuple[str, ...]
    """The user's turns in Korean: the last is the question judged, earlier ones set up the conversation."""
    en: tuple[str, ...]
    expect: tuple[str, ...]
    """Groups that must all be in the answer; ``a|b`` within a group: either word."""


ITEMS: tuple[Item, ...] = (
    # General knowledge.
    Item("knowledge", ("프랑스의 수도는 어디인가요?",), ("What is the capital of France?",), ("파리|paris",)),
    Item("knowledge", ("일본의 수도는 어디예요?",), ("What is the capital of Japan?",), ("도쿄|동경|tokyo",)),
    Item("knowledge", ("이탈리아의 수도는 어디인가요?",), ("What is the capital of Italy?",), ("로마|rome",)),
    Item("knowledge", ("독일의 수도는 어디인가요?",), ("What is the capital of Germany?",), ("베를린|berlin",)),
    Item("knowledge", ("영국의 수도는 어디예요?",), ("What is the capital of the United Kingdom?",), ("런던|london",)),
    Item("knowledge", ("중국의 수도는 어디인가요?",), ("What is the capital of China?",), ("베이징|북경|beijing",)),
    Item("knowledge", ("이집트의 수도는 어디예요?",), ("What is the capital of Egypt?",), ("카이로|cairo",)),
    Item("knowledge", ("캐나다의 수도는 어디인가요?",), ("What is the capital of Canada?",), ("오타와|ottawa",)),
    Item("knowledge", ("태양계에서 가장 큰 행성은 무엇인가요?",), ("What is the largest planet in the solar system?",),
         ("목성|jupiter",)),
    Item("knowledge", ("붉은 행성이라고 불리는 행성은 무엇인가요?",), ("Which planet is called the red planet?",),
         ("화성|mars",)),
    Item("knowledge", ("지구에서 가장 큰 바다는 어디인가요?",), ("What is the largest ocean on Earth?",),
         ("태평양|pacific",)),
    Item("knowledge", ("세계에서 가장 높은 산은 무엇인가요?",), ("What is the highest mountain in the world?",),
         ("에베레스트|everest",)),
    Item("knowledge", ("한글을 만든 왕은 누구인가요?",), ("Which king created the Korean alphabet, Hangul?",),
         ("세종|sejong",)),
    Item("knowledge", ("모나리자를 그린 화가는 누구인가요?",), ("Who painted the Mona Lisa?",),
         ("다빈치|다 빈치|레오나르도|vinci|leonardo",)),
    Item("knowledge", ("물은 몇 도에서 끓나요?",), ("At what temperature does water boil, in Celsius?",),
         ("100|백 도|백도",)),
    Item("knowledge", ("물은 섭씨 몇 도에서 얼어요?",), ("At what temperature in Celsius does water freeze?",),
         ("0|영도|영 도|zero",)),
    Item("knowledge", ("거미는 다리가 몇 개인가요?",), ("How many legs does a spider have?",), ("8|여덟|eight",)),
    Item("knowledge", ("곤충은 다리가 몇 개예요?",), ("How many legs does an insect have?",), ("6|여섯|six",)),
    Item("knowledge", ("금의 원소 기호는 무엇인가요?",), ("What is the chemical symbol for gold?",), ("au",)),
    Item("knowledge", ("일본에서 쓰는 돈의 단위는 무엇인가요?",), ("What is the currency of Japan?",), ("엔|yen",)),
    Item("knowledge", ("브라질 사람들은 주로 어떤 언어를 쓰나요?",), ("What language do most people in Brazil speak?",),
         ("포르투갈|portuguese",)),
    Item("knowledge", ("하루는 몇 시간인가요?",), ("How many hours are there in a day?",),
         ("24|스물네|스물 네|이십사|twenty-four",)),
    Item("knowledge", ("일 년은 몇 달이에요?",), ("How many months are there in a year?",),
         ("12|열두|열 두|십이|twelve",)),
    Item("knowledge", ("지구에서 가장 큰 동물은 무엇인가요?",), ("What is the largest animal on Earth?",),
         ("고래|whale",)),
    Item("knowledge", ("지구에서 가장 가까운 별은 무엇인가요?",), ("What is the closest star to the Earth?",),
         ("태양|해|sun",)),
    Item("knowledge", ("식물이 햇빛으로 양분을 만드는 과정을 뭐라고 하나요?",),
         ("What is the process by which plants make food from sunlight called?",), ("광합성|photosynthesis",)),
    # Arithmetic.
    Item("arithmetic", ("7 더하기 8은 얼마예요?",), ("What is 7 plus 8?",), ("15|열다섯|십오|fifteen",)),
    Item("arithmetic", ("12 곱하기 3은 얼마인가요?",), ("What is 12 times 3?",), ("36|서른여섯|삼십육|thirty-six",)),
    Item("arithmetic", ("100 빼기 37은 얼마예요?",), ("What is 100 minus 37?",), ("63|예순셋|육십삼|sixty-three",)),
    Item("arithmetic", ("72 나누기 8은 얼마인가요?",), ("What is 72 divided by 8?",), ("9|아홉|nine",)),
    Item("arithmetic", ("15 곱하기 4는요?",), ("What is 15 times 4?",), ("60|예순|육십|sixty",)),
    Item("arithmetic", ("50의 절반은 얼마예요?",), ("What is half of 50?",), ("25|스물다섯|이십오|twenty-five",)),
    Item("arithmetic", ("200의 25퍼센트는 얼마인가요?",), ("What is 25 percent of 200?",), ("50|오십|fifty",)),
    Item("arithmetic", ("9 곱하기 9는 얼마예요?",), ("What is 9 times 9?",), ("81|여든하나|팔십일|eighty-one",)),
    Item("arithmetic", ("6 곱하기 7은 얼마인가요?",), ("What is 6 times 7?",), ("42|마흔둘|사십이|forty-two",)),
    Item("arithmetic", ("사과 3개와 사과 4개를 더하면 모두 몇 개예요?",),
         ("If I have 3 apples and get 4 more, how many apples do I have?",), ("7|일곱|seven",)),
    Item("arithmetic", ("1000에서 1을 빼면 얼마예요?",), ("What is 1000 minus 1?",), ("999|구백구십구|nine hundred",)),
    Item("arithmetic", ("한 시간은 몇 분인가요?",), ("How many minutes are there in an hour?",),
         ("60|예순|육십|sixty",)),
    # Everyday advice.
    Item("advice", ("손가락을 칼에 살짝 베였어요. 어떻게 해야 하나요?",),
         ("I cut my finger a little with a knife. What should I do?",),
         ("씻|흐르는 물|압박|누르|지혈|밴드|반창고|소독|wash|rinse|pressure|press|bandage",)),
    Item("advice", ("잠을 잘 자려면 어떻게 해야 하나요?",), ("How can I sleep better?",),
         ("규칙|카페인|커피|스마트폰|휴대폰|화면|일정|같은 시간|"
          "schedule|caffeine|coffee|screen|phone|same time|routine",)),
    Item("advice", ("감기에 걸린 것 같아요. 어떻게 하면 좋을까요?",), ("I think I have a cold. What should I do?",),
         ("휴식|쉬|물|수분|rest|water|fluids|hydrat",)),
    Item("advice", ("돈을 모으려면 어떻게 해야 하나요?",), ("How can I save money?",),
         ("예산|지출|저축|가계부|budget|spending|expenses|save",)),
    Item("advice", ("날씨가 아주 추울 때는 무엇을 입어야 하나요?",), ("What should I wear when it is very cold?",),
         ("코트|외투|패딩|장갑|목도리|따뜻|겹|coat|jacket|gloves|scarf|warm|layer",)),
    Item("advice", ("화분의 식물을 잘 키우려면 어떻게 해야 하나요?",), ("How do I keep a potted plant healthy?",),
         ("물|햇빛|햇볕|빛|water|sunlight|light",)),
    Item("advice", ("스트레스를 줄이는 방법을 알려 주세요.",), ("How can I reduce stress?",),
         ("운동|명상|호흡|산책|휴식|exercise|meditat|breath|walk|rest",)),
    Item("advice", ("면접을 잘 보려면 어떻게 준비해야 하나요?",), ("How should I prepare for a job interview?",),
         ("회사|연습|조사|질문|research|practice|company|questions",)),
    Item("advice", ("휴대폰 배터리가 빨리 닳아요. 어떻게 하죠?",),
         ("My phone battery runs out quickly. What can I do?",),
         ("밝기|앱|애플리케이션|절전|설정|brightness|apps|power saving|battery saver|settings",)),
    Item("advice", ("옷에 커피를 쏟았어요. 얼룩을 어떻게 지우나요?",),
         ("I spilled coffee on my shirt. How do I get the stain out?",),
         ("물|세제|식초|찬물|water|detergent|vinegar|soap",)),
    Item("advice", ("더운 날 건강하게 지내려면 어떻게 해야 하나요?",), ("How do I stay healthy on a very hot day?",),
         ("물|수분|그늘|water|hydrat|shade|fluids",)),
    Item("advice", ("처음 운동을 시작하려면 어떻게 하면 좋을까요?",), ("How should I start exercising as a beginner?",),
         ("천천히|가벼운|걷기|스트레칭|조금씩|slow|gradual|walk|stretch|light|small",)),
    # Follow-ups: the question needs what an earlier turn said.
    Item("follow-up", ("제 이름은 민지예요.", "제 이름이 뭐라고 했죠?"),
         ("My name is Minji.", "What did I say my name is?"),
         ("민지|minji",)),
    Item("follow-up", ("저는 고양이 두 마리와 개 한 마리를 키워요.", "제가 키우는 동물은 모두 몇 마리예요?"),
         ("I have two cats and one dog.", "How many pets do I have in total?"), ("3|세 마리|셋|three",)),
    Item("follow-up", ("저는 부산에 살아요.", "제가 어느 도시에 산다고 했죠?"),
         ("I live in Busan.", "Which city did I say I live in?"), ("부산|busan",)),
    Item("follow-up", ("제가 제일 좋아하는 색은 파란색이에요.", "제가 좋아하는 색이 뭐였죠?"),
         ("My favourite colour is blue.", "What is my favourite colour?"), ("파란|파랑|푸른|blue",)),
    Item("follow-up", ("오후 3시에 친구를 만나기로 했어요.", "제가 친구를 몇 시에 만나죠?"),
         ("I am meeting a friend at 3 pm.", "What time am I meeting my friend?"), ("3|세 시|세시|three",)),
    Item("follow-up", ("사과를 5개 샀는데 2개를 먹었어요.", "사과가 몇 개 남았어요?"),
         ("I bought 5 apples and ate 2.", "How many apples are left?"), ("3|세 개|셋|three",)),
    Item("follow-up", ("숫자 42를 기억해 주세요.", "제가 기억해 달라고 한 숫자가 뭐였죠?"),
         ("Please remember the number 42.", "What number did I ask you to remember?"), ("42|마흔둘|사십이|forty-two",)),
    Item("follow-up", ("프랑스의 수도는 어디인가요?", "그럼 독일은요?"),
         ("What is the capital of France?", "And Germany?"),
         ("베를린|berlin",)),
    Item("follow-up", ("저는 땅콩 알레르기가 있어요.", "땅콩버터를 먹어도 될까요?"),
         ("I am allergic to peanuts.", "Can I eat peanut butter?"),
         ("안 |안돼|안 돼|않|피하|피해|삼가|no|not|avoid|shouldn't|should not",)),
    Item("follow-up", ("제 여동생은 열 살이에요.", "2년 후에 제 여동생은 몇 살이 되나요?"),
         ("My younger sister is ten years old.", "How old will my sister be in two years?"), ("12|열두|십이|twelve",)),
    Item("follow-up", ("저는 매일 아침 7시에 일어나요.", "제가 보통 몇 시에 일어난다고 했죠?"),
         ("I wake up at 7 every morning.", "What time did I say I usually wake up?"), ("7|일곱|seven",)),
    Item("follow-up", ("내일 제주도로 여행을 가요.", "제가 내일 어디로 간다고 했죠?"),
         ("I am travelling to Jeju Island tomorrow.", "Where did I say I am going tomorrow?"), ("제주|jeju",)),
    Item("follow-up", ("제 차는 빨간색 현대 자동차예요.", "제 차는 무슨 색이에요?"),
         ("My car is a red Hyundai.", "What colour is my car?"), ("빨간|빨강|red",)),
    Item("follow-up", ("저는 커피보다 녹차를 더 좋아해요.", "제가 더 좋아하는 음료가 뭐죠?"),
         ("I like green tea more than coffee.", "Which drink do I prefer?"), ("녹차|green tea",)),
)

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")


def in_korean(answer: str) -> bool:
    """Mostly Hangul: at least a third as many Hangul syllables as Latin letters (a brand name does not make it
    English); an answer of digits alone ("63") is read in Korean too."""
    hangul, latin = len(_HANGUL.findall(answer)), len(_LATIN.findall(answer))
    return hangul * 3 >= latin and (hangul > 0 or latin == 0)


def holds(answer: str, word: str) -> bool:
    """Whether ``word`` is in the answer; a number only as a whole number ("15" is not in "150")."""
    if word.isdigit():
        return re.search(rf"(?<![\d,.]){word}(?![\d,]|\.\d)", answer) is not None
    return word in answer.lower()


def right(item: Item, answer: str, language: Literal["ko", "en"]) -> bool:
    if language == "ko" and not in_korean(answer):
        return False
    return all(any(holds(answer, word) for word in group.split("|")) for group in item.expect)
