"""How a long prompt prefix is cut into pieces that are decoded one after another (speech work between them)."""

from __future__ import annotations

from itertools import pairwise

from omni.backends.llama_llm import PREFIX_PIECE_CHARS, prefix_pieces


def test_a_long_prefix_is_cut_before_spaces_into_growing_starts() -> None:
    prefix = "<|im_start|>system\nYou are Omni.<|im_end|>\n<|im_start|>user\n" + "platform fourteen " * 40
    pieces = prefix_pieces(prefix)
    assert pieces[-1] == prefix and len(pieces) == len(prefix) // PREFIX_PIECE_CHARS + 1
    for shorter, longer in pairwise(pieces):
        assert longer.startswith(shorter) and len(shorter) < len(longer)
        assert prefix[len(shorter)] in " \n"  # each start ends where a word's token begins
    assert all(len(b) - len(a) <= PREFIX_PIECE_CHARS for a, b in pairwise(pieces))


def test_a_short_prefix_is_one_piece_and_a_long_word_is_cut_anyway() -> None:
    assert prefix_pieces("short") == ["short"]
    assert [len(p) for p in prefix_pieces("x" * 450)] == [200, 400, 450]
