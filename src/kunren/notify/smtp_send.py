"""Sending the email channel's messages: SMTP connections in worker threads, one message per
recipient (``kunren.notify.smtp`` holds the channel and its parameters).

Imported when a notice is sent, so checking a scenario with an email channel does not load
``smtplib``, ``ssl`` and the ``email`` package.
"""

from __future__ import annotations

import smtplib
import ssl
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from threading import Lock
from typing import TYPE_CHECKING

from kunren.notify.message import Delivery, OutgoingNotice, Recipient, RecipientFailure

if TYPE_CHECKING:
    from kunren.notify.smtp import EmailParams

_CONNECTION_ERRORS = (
    OSError,
    smtplib.SMTPConnectError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
    smtplib.SMTPHeloError,
)


def _reason(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


class _Run:
    """One send: a queue of recipients shared by the worker threads, and their results."""

    def __init__(self, recipients: list[Recipient]) -> None:
        self.queue = deque(recipients)
        self.delivered: list[str] = []
        self.failed: list[RecipientFailure] = []
        self.broken = ""  # set once the server cannot be reached: the rest fail fast
        self.lock = Lock()

    def next(self) -> Recipient | None:
        try:
            return self.queue.popleft()
        except IndexError:
            return None

    def fail(self, recipient: Recipient, reason: str) -> None:
        with self.lock:
            self.failed.append(RecipientFailure(recipient=recipient.email, reason=reason))


class Sender:
    """One channel's sending: ``send_all`` runs in a thread (``asyncio.to_thread``)."""

    def __init__(self, params: EmailParams) -> None:
        self.params = params

    def send_all(
        self, notice: OutgoingNotice, recipients: list[Recipient], login: tuple[str, str] | None
    ) -> Delivery:
        run = _Run(recipients)
        workers = min(self.params.concurrency, len(recipients))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kunren-smtp") as pool:
            futures = [pool.submit(self._worker, notice, run, login) for _ in range(workers)]
            for future in futures:
                future.result()
        order = {r.email: i for i, r in enumerate(recipients)}
        return Delivery(
            delivered=sorted(run.delivered, key=order.__getitem__),
            failed=sorted(run.failed, key=lambda f: order[f.recipient]),
            error=run.broken if not run.delivered else "",
        )

    def _worker(self, notice: OutgoingNotice, run: _Run, login: tuple[str, str] | None) -> None:
        smtp: smtplib.SMTP | None = None
        try:
            while (recipient := run.next()) is not None:
                if run.broken:
                    run.fail(recipient, f"not sent: {run.broken}")
                    continue
                smtp = self._send_one(smtp, notice, recipient, run, login)
        finally:
            if smtp is not None:
                _quit(smtp)

    def _send_one(
        self,
        smtp: smtplib.SMTP | None,
        notice: OutgoingNotice,
        recipient: Recipient,
        run: _Run,
        login: tuple[str, str] | None,
    ) -> smtplib.SMTP | None:
        """Send to one recipient; returns the connection to reuse (None when it broke)."""
        for attempt in (1, 2):
            if smtp is None:
                try:
                    smtp = self._connect(login)
                except (*_CONNECTION_ERRORS, smtplib.SMTPException) as exc:
                    run.broken = f"cannot reach {self.params.host}:{self.params.port}: {exc}"
                    run.fail(recipient, run.broken)
                    return None
            try:
                smtp.send_message(
                    self._message(notice, recipient),
                    from_addr=self.params.from_address,
                    to_addrs=[recipient.email],
                )
            except smtplib.SMTPRecipientsRefused as exc:
                code, message = exc.recipients.get(recipient.email, (0, b"refused"))
                run.fail(recipient, _reason(code, message))
                return smtp
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                run.fail(recipient, _reason(exc.smtp_code, exc.smtp_error))
                return smtp
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                _quit(smtp)
                smtp = None
                if attempt == 2:
                    run.fail(recipient, f"connection lost: {exc}")
                continue
            with run.lock:
                run.delivered.append(recipient.email)
            return smtp
        return None

    def _connect(self, login: tuple[str, str] | None) -> smtplib.SMTP:
        p = self.params
        context = ssl.create_default_context(cafile=p.ca_file) if (p.ssl or p.starttls) else None
        smtp: smtplib.SMTP
        if p.ssl:
            smtp = smtplib.SMTP_SSL(p.host, p.port, timeout=p.timeout, context=context)
        else:
            smtp = smtplib.SMTP(p.host, p.port, timeout=p.timeout)
        try:
            smtp.ehlo()
            if p.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if login is not None:
                smtp.login(*login)
        except BaseException:
            _quit(smtp)
            raise
        return smtp

    def _message(self, notice: OutgoingNotice, recipient: Recipient) -> EmailMessage:
        p = self.params
        message = EmailMessage()
        message["Subject"] = notice.subject
        message["From"] = p.from_address
        message["To"] = _address(recipient)
        if notice.wall:
            message["Date"] = format_datetime(datetime.fromisoformat(notice.wall))
        message["Message-ID"] = make_msgid(domain=p.from_address.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Kunren-Drill"] = notice.drill
        message["X-Kunren-Notice"] = notice.notice
        if p.reply_to:
            message["Reply-To"] = p.reply_to
        message.set_content(notice.body)
        return message


def _address(recipient: Recipient) -> Address | str:
    if not recipient.name:
        return recipient.email
    try:
        return Address(display_name=recipient.name, addr_spec=recipient.email)
    except (ValueError, IndexError):
        return recipient.email


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
