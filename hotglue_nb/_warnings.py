"""Warnings at the user's line: ``warn`` finds the first frame outside this package, so a
warning points where the user called us however many wrappers (``store=``, keyword
checks) stand between."""

from __future__ import annotations

import sys
import warnings

from ._exceptions import HotglueWarning

__all__ = ["warn"]

_PACKAGE = __name__.split(".")[0]


def warn(message: str, category: type[Warning] = HotglueWarning) -> None:
    """``warnings.warn`` at the first caller outside ``hotglue_nb``."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").split(".")[0] == (
        _PACKAGE
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
