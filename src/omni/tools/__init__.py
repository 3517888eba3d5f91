"""Built-in tools Omni runs itself, locally and offline, offered to the model in every session unless switched off
(``[tools] builtin`` in the settings; docs/tools.md): ``get_time`` (:mod:`omni.tools.clock`), ``calculate``
(:mod:`omni.tools.calculator`) and ``notes`` (:mod:`omni.tools.notes`). Each module holds one tool's function and
its JSON schema as a :class:`~omni.session.tools.FunctionTool`; :mod:`omni.tools.builtin` assembles the enabled ones.
"""

from omni.tools.builtin import builtin_toolbox, builtin_tools

__all__ = ["builtin_toolbox", "builtin_tools"]
