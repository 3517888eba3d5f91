"""The built-in tools a session gets from the settings (``[tools]``): each one built fresh for the session, so that
state such as the notes is the session's own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from omni.config import BuiltinTool, ToolsSettings
from omni.session.tools import FunctionTool, ToolBox
from omni.tools import calculator, zones
from omni.tools.calculator import calculator_tool
from omni.tools.clock import clock_tool
from omni.tools.notes import notes_tool
from omni.tools.timers import timers_tool

log = logging.getLogger(__name__)

BUILDERS: dict[BuiltinTool, Callable[[ToolsSettings], FunctionTool]] = {
    "clock": lambda settings: clock_tool(settings.timezone),
    "calculator": lambda settings: calculator_tool(),
    "notes": lambda settings: notes_tool(),
    "timers": lambda settings: timers_tool(settings.timezone),
}


_warming = threading.Lock()
_warmed: set[BuiltinTool] = set()


def _warm(names: list[BuiltinTool]) -> None:
    """Build what a tool's first call would otherwise build: the place index (0.1 s) and Pint's unit registry (0.6 s
    with its import)."""
    try:
        if "clock" in names:
            zones.find_zone("Tokyo", datetime.now(UTC))
        if "calculator" in names:
            calculator.calculate("1 mile to km")
    except Exception:  # a head start only: the first call builds it again and reports what fails
        log.exception("warming the built-in tools failed")


def builtin_tools(settings: ToolsSettings) -> list[FunctionTool]:
    """The enabled built-in tools, new for one session, in the order the settings name them. The first session to
    enable a tool warms its data in a background thread, once per process, so that a user's first question does not
    wait for it."""
    names = list(dict.fromkeys(settings.builtin))
    with _warming:
        cold = [name for name in names if name not in _warmed]
        _warmed.update(cold)
    if cold:
        threading.Thread(target=_warm, args=(cold,), name="omni-tools-warm", daemon=True).start()
    return [BUILDERS[name](settings) for name in names]


def builtin_toolbox(settings: ToolsSettings) -> ToolBox:
    return ToolBox(builtin_tools(settings))
