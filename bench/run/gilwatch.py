"""Which import turned the GIL back on in a free-threaded interpreter.

A free-threaded CPython (3.13t) enables the GIL when it imports an extension module that
has not declared it can run without it, and says so in a RuntimeWarning that names the
module. A trial that ran with the GIL back on does not show free threading, whatever its
interpreter is called; the worker hears these warnings from its first import on, so the
trial can say which module it was.
"""

from __future__ import annotations

import re
import sys
import warnings
from typing import Any

_NAMED = re.compile(r"has been enabled to load module '([^']+)'")


def module_named(message: str) -> str | None:
    """The module a GIL warning names, or None for any other warning."""
    m = _NAMED.search(message)
    return m.group(1) if m else None


class GilWatch:
    """Hears every warning shown in this process, keeps the modules that enabled the GIL and
    passes each warning on to whoever showed them before (the warning still prints)."""

    def __init__(self) -> None:
        self.modules: list[str] = []
        self._passed_on = warnings.showwarning
        warnings.showwarning = self._heard

    def _heard(self, message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        name = module_named(str(message))
        if name and name not in self.modules:
            self.modules.append(name)
        self._passed_on(message, category, *args, **kwargs)


def gil_enabled() -> bool:
    """False only on a free-threaded build running without the GIL (3.13+ can ask)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return check() if check is not None else True


#: The one watch of a process (``warnings.showwarning`` is process-wide): made on the first
#: import of this module, which the worker does before any other of its imports.
WATCH = GilWatch()
