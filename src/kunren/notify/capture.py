"""The capture sink: notices written into the drill folder instead of being delivered.

Capture is the default channel in a drill, and where every recipient outside the drill
allowlist ends up. The retro can read exactly what each person would have received:

    drills/<id>/notices/<notice>/notice.json        the draft: template, variables, wording
    drills/<id>/notices/<notice>/<address>.txt      one file per captured message
    drills/<id>/notices/<notice>/<channel>.json     what a broadcast channel would have posted
    drills/<id>/notices/captured.jsonl              one line per captured message
    drills/<id>/notices/deliveries.jsonl            one line per real delivery attempt

JSONL lines are appended in one ``write`` each under ``O_APPEND``, so the conductor, the page
and a terminal can capture at the same time without interleaving.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kunren.notify.base import Channel
from kunren.notify.message import Delivery, OutgoingNotice, Recipient
from kunren.plugins import NoParams

NOTICES_DIR = "notices"
CAPTURED_FILE = "captured.jsonl"
DELIVERIES_FILE = "deliveries.jsonl"
_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class CapturedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    channel: str
    recipient: str
    subject: str
    file: str
    reason: str
    wall: str


class DeliveryLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    channel: str
    recipient: str
    ok: bool
    reason: str = ""
    wall: str


def message_text(notice: OutgoingNotice, recipient: Recipient, channel: str) -> str:
    to = f"{recipient.name} <{recipient.email}>" if recipient.name else recipient.email
    return (
        f"To: {to}\nSubject: {notice.subject}\nX-Kunren-Notice: {notice.notice}\n"
        f"X-Kunren-Channel: {channel}\n\n{notice.body}"
    )


class CaptureSink:
    def __init__(self, drill_dir: Path) -> None:
        self.root = drill_dir / NOTICES_DIR

    def notice_dir(self, notice: str) -> Path:
        path = self.root / notice
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_messages(
        self, notice: OutgoingNotice, recipients: Iterable[Recipient], channel: str, reason: str
    ) -> list[str]:
        folder = self.notice_dir(notice.notice)
        lines = []
        captured = []
        for recipient in recipients:
            path = folder / f"{_UNSAFE.sub('_', recipient.email)}.txt"
            path.write_text(message_text(notice, recipient, channel), encoding="utf-8")
            captured.append(recipient.email)
            lines.append(self._captured(notice, channel, recipient.email, path, reason))
        self._append(CAPTURED_FILE, lines)
        return captured

    def write_payload(
        self, notice: OutgoingNotice, channel: str, destination: str, payload: str, reason: str
    ) -> None:
        path = self.notice_dir(notice.notice) / f"{channel}.json"
        path.write_text(payload, encoding="utf-8")
        self._append(CAPTURED_FILE, [self._captured(notice, channel, destination, path, reason)])

    def record_results(self, notice: OutgoingNotice, channel: str, delivery: Delivery) -> None:
        lines = [
            DeliveryLine(
                notice=notice.notice, channel=channel, recipient=r, ok=True, wall=notice.wall
            )
            for r in delivery.delivered
        ] + [
            DeliveryLine(
                notice=notice.notice,
                channel=channel,
                recipient=f.recipient,
                ok=False,
                reason=f.reason,
                wall=notice.wall,
            )
            for f in delivery.failed
        ]
        self._append(DELIVERIES_FILE, [line.model_dump_json() for line in lines])

    def _captured(
        self, notice: OutgoingNotice, channel: str, recipient: str, path: Path, reason: str
    ) -> str:
        return CapturedLine(
            notice=notice.notice,
            channel=channel,
            recipient=recipient,
            subject=notice.subject,
            file=str(path.relative_to(self.root)),
            reason=reason,
            wall=notice.wall,
        ).model_dump_json()

    def _append(self, name: str, lines: list[str]) -> None:
        if not lines:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        fd = os.open(self.root / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


class CaptureChannel(Channel[NoParams]):
    """Records every message in the drill folder and delivers nowhere (the drill default)."""

    name = "capture"
    drill_folder_only = True

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        sink = CaptureSink(self.drill_dir)
        captured = sink.write_messages(notice, recipients, self.name, "capture channel")
        return Delivery(captured=captured)
