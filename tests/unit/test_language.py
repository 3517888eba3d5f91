"""Language detection by script, used to pick a voice for a reply."""

from __future__ import annotations

import pytest

from omni.text.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("안녕하세요, 만나서 반갑습니다.", "ko"),
        ("Hello, how are you today?", "en"),
        ("こんにちは、元気ですか。", "ja"),
        ("カタカナだけ", "ja"),
        ("東京に行きます", "ja"),  # mostly kanji, but the kana make it Japanese
        ("我们明天去北京吧。", "zh"),
        ("Привет, как дела?", "ru"),
        ("Привіт, як справи? Їжак", "uk"),
        ("Γειά σου κόσμε", "el"),
        ("مرحبا بالعالم", "ar"),
        ("שלום עולם", "he"),
        ("नमस्ते दुनिया", "hi"),
        ("สวัสดีครับ", "th"),
        ("Hola, ¿cómo estás? Muy bien, gracias.", "es"),
        ("Bonjour, comment allez-vous? Je suis très bien, merci.", "fr"),
        ("Guten Tag, wie geht es dir? Ich bin müde.", "de"),
        ("Ciao, come stai? Sono stanco.", "it"),
        ("Olá, você está bem? Não, obrigado.", "pt"),
    ],
)
def test_detects_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "...!?", "123 456", "🙂🙂", "- * -"])
def test_no_letters_means_unknown(text: str) -> None:
    assert detect_language(text) is None


def test_korean_with_english_words_is_korean() -> None:
    assert detect_language("OpenAI API 키를 설정하는 방법을 알려 주세요.") == "ko"
    assert detect_language("저는 Python을 좋아해요") == "ko"


def test_english_with_a_korean_word_is_english() -> None:
    assert detect_language("In Korean, thank you is 감사합니다, and people say it a lot.") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "I had a croissant at the café in Paris.",  # one accented loanword
        "Das",  # one German word is not enough to leave English
        "Go to the store and buy some milk.",
    ],
)
def test_latin_text_stays_english_without_clear_evidence(text: str) -> None:
    assert detect_language(text) == "en"


def test_mixed_scripts_follow_the_larger_part() -> None:
    korean_heavy = "Hello. 오늘 날씨가 정말 좋네요. 산책하러 갈까요?"
    english_heavy = "Hello everyone, welcome to the meeting today. 안녕"
    assert detect_language(korean_heavy) == "ko"
    assert detect_language(english_heavy) == "en"
