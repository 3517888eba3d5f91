"""A kept set of Korean–English sentence pairs for interpreter mode, and the judge of a translation.

Fifty pairs in three kinds: questions (many with an answer the model knows, which tempts it to give it), requests
(which tempt it to say it will do them) and statements with numbers and names. Each pair says, for each direction,
the content words a translation must carry: groups that must all be in it, each group a set of alternatives
(``a|b``), matched without case as parts of words (Korean stems: 끄|꺼 for "turn off"); a name or a place may stay in
Latin letters in a Korean translation ("Minji는"), a common word may not. A judge
(:func:`judge`) also wants the translation in the target language, a question still a question, and no answer: none of
the pair's answer words ("Paris" for the capital of France) and no reply that starts by agreeing ("Okay", "네,").

None of these sentences is among the interpreter prompt's examples (``omni.session.interpreter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from omni.text.language import detect_language

Kind = Literal["question", "request", "statement"]


@dataclass(frozen=True)
class Pair:
    kind: Kind
    en: str
    ko: str
    en_keys: tuple[str, ...]
    """What an English translation of :attr:`ko` must carry."""
    ko_keys: tuple[str, ...]
    """What a Korean translation of :attr:`en` must carry."""
    answers: str = ""
    """Words (either language, ``a|b``) that would be the answer to a question, not its translation."""

    def text(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


PAIRS: tuple[Pair, ...] = (
    # Questions: translated as questions, never answered.
    Pair("question", "What is the capital city of France?", "프랑스의 수도는 어디예요?",
         ("capital", "france"), ("프랑스", "수도"), "paris|파리"),
    Pair("question", "How many legs does a spider have?", "거미는 다리가 몇 개예요?",
         ("spider", "leg"), ("거미", "다리"), "eight|여덟|8"),
    Pair("question", "Who painted the Mona Lisa?", "모나리자는 누가 그렸어요?",
         ("mona lisa", "paint|drew|draw"), ("모나리자", "그렸|그린|그림"), "vinci|leonardo|빈치|레오나르도"),
    Pair("question", "What is the tallest mountain in the world?", "세계에서 가장 높은 산은 뭐예요?",
         ("mountain", "highest|tallest"), ("산", "높은"), "everest|에베레스트"),
    Pair("question", "What time does the museum open tomorrow?", "내일 박물관은 몇 시에 문을 열어요?",
         ("museum", "open", "tomorrow"), ("박물관", "열|개관", "내일")),
    Pair("question", "Do you know where Gangnam Station is?", "강남역이 어디에 있는지 알아요?",
         ("gangnam", "station"), ("강남|gangnam", "역")),
    Pair("question", "How much is a ticket to Busan?", "부산까지 가는 표는 얼마예요?",
         ("busan|pusan", "ticket|fare|cost"), ("부산|busan", "표|티켓|승차권")),
    Pair("question", "Why is the sky blue?", "하늘은 왜 파란색이에요?",
         ("sky", "blue"), ("하늘", "파란|파랗|푸른"), "scatter|rayleigh|산란|레일리"),
    Pair("question", "What is 25 times 4?", "25 곱하기 4는 얼마예요?",
         ("25|twenty-five|twenty five", "times|multipl|×"), ("25|스물다섯|이십오", "곱하기|곱|×"),
         "100|hundred|백"),
    Pair("question", "Can you speak Korean?", "한국어 할 줄 알아요?",
         ("korean",), ("한국어|한국말",)),
    Pair("question", "Where did you buy that jacket?", "그 재킷은 어디서 샀어요?",
         ("jacket|coat", "buy|bought|get|got"), ("재킷|자켓|외투|코트|jacket", "샀|구입|구매|사")),
    Pair("question", "Is it going to rain this afternoon?", "오늘 오후에 비가 올까요?",
         ("rain", "afternoon"), ("비", "오후")),
    Pair("question", "How long does it take to get to the airport?", "공항까지 얼마나 걸려요?",
         ("airport", "how long|take|how far"), ("공항", "걸려|걸리|시간")),
    Pair("question", "What is Kim Minjun's phone number?", "김민준 씨 전화번호가 뭐예요?",
         ("minjun|min-jun|min jun", "phone|number"), ("민준|minjun", "전화|번호")),
    Pair("question", "Which planet is the largest in the solar system?", "태양계에서 가장 큰 행성은 어느 거예요?",
         ("planet", "largest|biggest"), ("행성", "큰|가장")),
    Pair("question", "When was Hangul created?", "한글은 언제 만들어졌어요?",
         ("hangul|korean alphabet|korean script", "when"), ("한글|hangul", "언제"), "1443|1446|sejong|세종"),
    Pair("question", "Are you free on Friday evening?", "금요일 저녁에 시간 있어요?",
         ("friday", "evening|night"), ("금요일", "저녁")),
    Pair("question", "How many people live in Seoul?", "서울에는 사람이 몇 명 살아요?",
         ("seoul", "people|population|live"), ("서울|seoul", "사람|인구|명"), "million|백만|천만|만 명"),
    Pair("question", "Could you tell me where the bathroom is?", "화장실이 어디인지 알려 주시겠어요?",
         ("bathroom|restroom|toilet|washroom", "where"), ("화장실", "어디")),
    Pair("question", "What did Minho say about the party?", "민호가 파티에 대해 뭐라고 했어요?",
         ("minho|min-ho|min ho", "party"), ("민호|minho", "파티")),
    # Requests: translated, not carried out.
    Pair("request", "Turn off the light.", "불 좀 꺼 주세요.",
         ("off", "light|lamp"), ("불|조명|전등|라이트", "끄|꺼|끈")),
    Pair("request", "Please call my mother.", "엄마한테 전화해 주세요.",
         ("call|phone", "mother|mom|mum"), ("엄마|어머니|어머님", "전화")),
    Pair("request", "Set an alarm for 7 a.m.", "아침 7시에 알람 맞춰 줘.",
         ("alarm", "7|seven"), ("알람", "7|일곱")),
    Pair("request", "Send a message to Jisoo saying I'll be late.", "지수한테 나 늦는다고 문자 보내 줘.",
         ("jisoo|ji-soo|jisu|ji soo|ji-su", "late", "message|text"), ("지수|jisoo", "늦", "문자|메시지")),
    Pair("request", "Play some music.", "음악 좀 틀어 줘.",
         ("music|song",), ("음악|노래",)),
    Pair("request", "Please speak more slowly.", "좀 더 천천히 말해 주세요.",
         ("slow",), ("천천히",)),
    Pair("request", "Book a table for four at seven tonight.", "오늘 밤 7시에 네 명 자리 예약해 주세요.",
         ("table|reserv|book", "four|4", "seven|7"), ("예약", "네 명|4명|4 명|네명|4인|네 사람", "7|일곱")),
    Pair("request", "Remind me to buy milk tomorrow.", "내일 우유 사라고 알려 줘.",
         ("milk", "tomorrow"), ("우유", "내일")),
    Pair("request", "Please take a picture of us.", "저희 사진 좀 찍어 주세요.",
         ("picture|photo",), ("사진",)),
    Pair("request", "Turn up the volume.", "소리 좀 키워 줘.",
         ("volume|sound|louder",), ("소리|볼륨|음량", "키|높|올")),
    Pair("request", "Show me the way to the hotel.", "호텔 가는 길 좀 알려 주세요.",
         ("hotel", "way|direction|how to get|route"), ("호텔", "길|방법|가는")),
    Pair("request", "Don't forget to lock the door.", "문 잠그는 거 잊지 마세요.",
         ("lock", "door", "forget"), ("문", "잠그|잠가|잠금", "잊")),
    # Statements with numbers and names.
    Pair("statement", "My name is Park Seojun.", "제 이름은 박서준입니다.",
         ("seojun|seo-jun|seo jun|seo-joon|seojoon", "park"), ("서준|seojun", "이름")),
    Pair("statement", "The meeting starts at 3 p.m.", "회의는 오후 3시에 시작해요.",
         ("meeting", "3|three", "start|begin"), ("회의", "3|세 시", "시작")),
    Pair("statement", "I paid 25,000 won for this shirt.", "이 셔츠 25,000원 주고 샀어요.",
         ("25,000|25000|twenty-five thousand|twenty five thousand", "shirt"),
         ("25,000|25000|2만 5천|2만5천|이만 오천|이만오천", "셔츠")),
    Pair("statement", "My flight leaves at 7:30 tomorrow morning.", "제 비행기는 내일 아침 7시 30분에 떠나요.",
         ("flight|plane", "7:30|seven thirty|7.30|half past seven", "tomorrow"),
         ("비행기|항공편|비행", "7시 30분|7:30|7시30분|7시 반|일곱 시 반|일곱시 반", "내일")),
    Pair("statement", "Minji lives in Busan with her two cats.", "민지는 고양이 두 마리와 함께 부산에 살아요.",
         ("minji|min-ji|min ji", "busan|pusan", "two|2", "cat"), ("민지|minji", "부산|busan", "두|2", "고양이")),
    Pair("statement", "The hotel is 500 meters from the station.", "호텔은 역에서 500미터 떨어져 있어요.",
         ("hotel", "500|five hundred", "station", "met"), ("호텔", "500|오백", "역", "미터|m")),
    Pair("statement", "I have been studying Korean for two years.", "저는 2년 동안 한국어를 공부하고 있어요.",
         ("korean", "two|2", "year", "stud|learn"), ("한국어|한국말", "2년|2 년|이 년|이년|두 해|2년간", "공부|배우")),
    Pair("statement", "Professor Choi's class is in room 204.", "최 교수님 수업은 204호에서 해요.",
         ("choi|choe", "204", "class|lecture|course"), ("최|choi", "204", "교수", "수업|강의")),
    Pair("statement", "We need three bottles of water.", "물 세 병이 필요해요.",
         ("three|3", "water", "bottle"), ("물", "세 병|3병|3 병|세병|3개|세 개", "필요")),
    Pair("statement", "The train to Daejeon leaves from platform 6.", "대전행 기차는 6번 승강장에서 출발해요.",
         ("daejeon|taejon", "train", "6|six", "platform"), ("대전|daejeon", "기차|열차", "6|여섯", "승강장|플랫폼|홈")),
    Pair("statement", "It is minus 5 degrees outside today.", "오늘 밖은 영하 5도예요.",
         ("5|five", "degree", "minus|below"), ("영하 5|영하5|마이너스 5|-5|영하 오",)),
    Pair("statement", "My daughter turns 12 next month.", "제 딸은 다음 달에 열두 살이 돼요.",
         ("daughter", "12|twelve", "next month"), ("딸", "12|열두|열 두", "다음 달|다음달")),
    Pair("statement", "Sujin and I met in 2019.", "수진이랑 저는 2019년에 만났어요.",
         ("sujin|su-jin|soojin|su jin|soo-jin", "2019", "met|meet"), ("수진|sujin", "2019", "만났|만나")),
    Pair("statement", "The store closes at 10 p.m. on weekends.", "그 가게는 주말에 밤 10시에 문을 닫아요.",
         ("store|shop", "10|ten", "weekend", "close"), ("가게|상점|매장", "10|열 시|열시", "주말", "닫")),
    Pair("statement", "I lost my wallet on the subway.", "지하철에서 지갑을 잃어버렸어요.",
         ("wallet|purse", "subway|metro|train", "lost|lose"), ("지갑", "지하철", "잃어버|분실|잃")),
    Pair("statement", "Jihoon's birthday is on March 3rd.", "지훈이 생일은 3월 3일이에요.",
         ("jihoon|ji-hoon|jihun|ji hoon|ji-hun", "birthday", "march", "3"),
         ("지훈|jihoon", "생일", "3월|삼월", "3일|삼일")),
    Pair("statement", "This bus goes to Incheon Airport.", "이 버스는 인천공항에 가요.",
         ("bus", "incheon", "airport"), ("버스", "인천|incheon", "공항")),
    Pair("statement", "I'm allergic to peanuts.", "저는 땅콩 알레르기가 있어요.",
         ("peanut", "allerg"), ("땅콩", "알레르기|알러지")),
)

_AGREES = re.compile(r"^\W*(?:okay|ok|sure|certainly|of course|alright|all right|done|yes|no problem|"
                     r"네[,.! ]|예[,.! ]|알겠|물론|좋아요|그럼요)", re.IGNORECASE)
_KOREAN_QUESTION = re.compile(r"(?:까요?|니|나요|[인은는]가요|냐|는지요)\s*[.。]?\s*$")


@dataclass(frozen=True)
class Verdict:
    missing: tuple[str, ...]
    """Key groups the translation does not carry."""
    right_language: bool
    question_kept: bool | None
    """Whether a question is still one (None for other kinds)."""
    answered: bool
    """It gives the answer, or agrees to do what was asked, instead of translating."""

    @property
    def ok(self) -> bool:
        return not self.missing and self.right_language and self.question_kept is not False and not self.answered


def judge(pair: Pair, target: str, translation: str) -> Verdict:
    """How well ``translation`` renders ``pair`` in the ``target`` language (``ko`` or ``en``)."""
    lowered = translation.lower()
    keys = pair.ko_keys if target == "ko" else pair.en_keys
    missing = tuple(group for group in keys if not any(word in lowered for word in group.split("|")))
    question = is_question(translation) if pair.kind == "question" else None
    source = pair.en if target == "ko" else pair.ko
    answered = bool(_AGREES.search(translation)) or any(
        word in lowered and word not in source.lower() for word in pair.answers.split("|") if word)
    return Verdict(missing, detect_language(translation) == target, question, answered)


def is_question(text: str) -> bool:
    """Ends as a question: a question mark, or a Korean question ending (…까요, …나요, …인가요, …니)."""
    stripped = text.strip().rstrip("\"'”’)")
    return stripped.endswith(("?", "？")) or bool(_KOREAN_QUESTION.search(stripped))
