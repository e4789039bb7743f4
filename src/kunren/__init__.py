"""kunren (訓練): failure drills that inject faults and time the people on one clock."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
