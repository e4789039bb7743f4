"""Why and by whom ``kunren abort`` stopped a drill, carried to the conductor beside SIGTERM.

A signal carries no text: the record used to say "SIGTERM received" whatever reason the
facilitator gave, and not who aborted. ``kunren abort`` therefore writes
``drills/<id>/abort-request.json`` (atomically) before it signals, and the conductor reads
it when the signal arrives, so ``drill.aborted`` carries the reason and the name. The request
is removed once read (and a conductor discards a leftover one when it starts); a conductor
that finds none records the bare signal ("SIGTERM received"), as before.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

REQUEST_FILE = "abort-request.json"


@dataclass(frozen=True)
class AbortRequest:
    reason: str
    actor: str

    def describe(self) -> str:
        return f"{self.reason} (aborted by {self.actor} with kunren abort)"


def write_request(drill_dir: Path, request: AbortRequest) -> None:
    path = drill_dir / REQUEST_FILE
    partial = path.with_name(f".{REQUEST_FILE}.{os.getpid()}")
    text = json.dumps({"reason": request.reason, "actor": request.actor}, ensure_ascii=False)
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)


def take_request(drill_dir: Path) -> AbortRequest | None:
    """The pending request, removed so a later signal is not mistaken for it; None if none."""
    path = drill_dir / REQUEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    if not isinstance(data, dict):
        return None
    reason, actor = data.get("reason"), data.get("actor")
    if not isinstance(reason, str) or not isinstance(actor, str):
        return None
    return AbortRequest(reason=reason, actor=actor)
