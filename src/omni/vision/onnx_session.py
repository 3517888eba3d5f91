"""An onnxruntime CPU session as every vision model here runs it: all the cores by default, idle threads asleep."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from omni.errors import BackendError, BackendUnavailableError, ModelNotFoundError


def cpu_session(model_path: Path, threads: int, *, stage: str, what: str) -> Any:
    """A session of the ``what`` model at ``model_path`` on ``threads`` threads (0: all cores).

    onnxruntime's threads spin for a while after each run by default; on a small machine that spinning takes the
    cores from the LLM and the voices, and it made OCR of a screenshot 40 % slower under load (2.4 s → 1.7 s).
    """
    try:
        onnxruntime = importlib.import_module("onnxruntime")  # untyped; used through a few calls
    except ImportError as exc:
        raise BackendUnavailableError(f"the {what} needs onnxruntime ({exc}); install it with: make install") from exc
    if not model_path.is_file():
        raise ModelNotFoundError(f"{what} model {model_path} does not exist; run `make install`")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise BackendError(stage, f"cannot load {what} {model_path}: {exc}") from exc
