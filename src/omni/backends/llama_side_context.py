"""A second llama.cpp context on a model that a ``llama_cpp.Llama`` has loaded: its own KV cache and prompt, the
same weights, for reading the next token's logits of a prompt without touching the first context's cache.

A second ``Llama`` on the same file would load the model again (3 s here, and about 780 MB more memory: llama.cpp
repacks the quantised weights for the CPU into memory of its own); a context on the loaded model costs its KV cache
and compute buffers only. llama-cpp-python keeps the high-level API to one context per model, so this uses its
``_internals`` wrappers, pinned with the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from llama_cpp import Llama


class SideContext:
    """Decodes prompts into a context of its own on ``llama``'s model and returns the logits after them; a prompt
    that starts like the one before decodes only the rest (as llama.cpp's own prompt cache does)."""

    def __init__(self, llama: Llama, n_ctx: int | None = None) -> None:
        """``n_ctx``: a context window of its own (default the model's): its KV cache grows with it."""
        from llama_cpp import _internals

        self._llama = llama
        params = type(llama.context_params).from_buffer_copy(llama.context_params)
        if n_ctx is not None:
            params.n_ctx = n_ctx
        self._context = _internals.LlamaContext(model=llama._model, params=params, verbose=False)
        self._batch = _internals.LlamaBatch(n_tokens=llama.n_batch, embd=0, n_seq_max=1, verbose=False)
        self._tokens: list[int] = []
        self.n_ctx = self._context.n_ctx()

    def close(self) -> None:
        """Free the context's memory now (its KV cache), not when the garbage collector gets to it."""
        self._batch.close()  # type: ignore[no-untyped-call]
        self._context.close()  # type: ignore[no-untyped-call]

    def _tokenize(self, prompt: str) -> list[int]:
        return self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def _cached(self, tokens: list[int]) -> int:
        """How many of ``tokens``' first tokens the cache holds."""
        common = 0
        for token, held in zip(tokens, self._tokens, strict=False):
            if token != held:
                break
            common += 1
        return common

    def holds(self, prompt: str) -> bool:
        """Whether the cache holds all of ``prompt``'s tokens."""
        tokens = self._tokenize(prompt)
        return self._cached(tokens) == len(tokens)

    def fits(self, prompt: str) -> bool:
        """Whether ``prompt`` and the token after it fit the context."""
        return 0 < len(self._tokenize(prompt)) < self.n_ctx

    def logits(self, prompt: str) -> NDArray[np.single]:
        """The logits of the token that would follow ``prompt``."""
        tokens = self._tokenize(prompt)
        if not tokens or len(tokens) >= self.n_ctx:
            raise ValueError(f"a prompt of {len(tokens)} tokens does not fit a context of {self.n_ctx}")
        # The last token is decoded again when all are held: its logits are not kept.
        keep = min(self._cached(tokens), len(tokens) - 1)
        self._context.kv_cache_seq_rm(0, keep, -1)
        del self._tokens[keep:]
        for start in range(keep, len(tokens), self._llama.n_batch):
            piece = tokens[start:start + self._llama.n_batch]
            self._batch.set_batch(piece, n_past=start, logits_all=False)
            self._context.decode(self._batch)
            self._tokens += piece
        logits = self._context.get_logits_ith(-1)
        return np.ctypeslib.as_array(logits, shape=(self._llama.n_vocab(),)).copy()
