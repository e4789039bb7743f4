"""Keeping drill notices from reaching real customers by mistake.

Two rules, applied to every notice on every channel, whatever the template says:

- Every notice is visibly a drill: the subject starts with ``[DRILL]`` and the body carries a
  ``[DRILL]`` line (added in the notice's language unless the template already has one).
- Real delivery only reaches destinations on the scenario's ``drill_allowlist``; everything
  else is captured into the drill folder. Only an explicit live flag lifts the allowlist.

Allowlist entries are exact addresses (``ops@example.com``), whole domains (``@example.com``),
or, for broadcast channels, a destination prefix (a webhook URL or an SNS topic ARN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kunren.notify.message import DRILL_MARKER, Recipient

DRILL_LINES: dict[str, str] = {
    "en": "This is a drill. No real service is affected.",
    "ja": "これは訓練です。実際のサービスへの影響はありません。",
}


def mark_subject(subject: str, marker: str = DRILL_MARKER) -> str:
    subject = subject.strip()
    return subject if subject.startswith(marker) else f"{marker} {subject}"


def mark_body(body: str, lang: str, marker: str = DRILL_MARKER) -> str:
    if marker in body:
        return body
    line = DRILL_LINES.get(lang, DRILL_LINES["en"])
    return f"{marker} {line}\n\n{body}"


@dataclass(frozen=True)
class Allowlist:
    """The scenario's ``drill_allowlist``: who may really receive a drill notice."""

    entries: tuple[str, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> Allowlist:
        return cls(tuple(entry.strip() for entry in entries if entry.strip()))

    def allows_address(self, address: str) -> bool:
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        for entry in self.entries:
            wanted = entry.lower()
            if wanted.startswith("@") and domain == wanted[1:]:
                return True
            if "@" in wanted and not wanted.startswith("@") and address == wanted:
                return True
        return False

    def allows_destination(self, destination: str) -> bool:
        """A webhook URL or topic ARN is allowed when it starts with a non-address entry."""
        return any("@" not in entry and destination.startswith(entry) for entry in self.entries)

    def split(
        self, recipients: Sequence[Recipient], live: bool
    ) -> tuple[list[Recipient], list[Recipient]]:
        """(really delivered, captured instead). Live: everyone is really delivered."""
        if live:
            return list(recipients), []
        allowed = [r for r in recipients if self.allows_address(r.email)]
        held = [r for r in recipients if not self.allows_address(r.email)]
        return allowed, held
