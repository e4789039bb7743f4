"""One request as a route of the participant web app sees it, and what reading it may refuse.

``WebApp`` (``kunren.page.webapp``) reads and checks each request before its handler runs:
the body within its size limit (``read_body``), the url-encoded form (``parse_form``), and
what it found, handed to the handler as a ``Req``. A check that fails, here or in a handler,
raises ``WebError``: an HTTP status and the i18n key of the message the person sees.

Imported only when an app is built: starlette stays out of ``kunren --help``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

from kunren.page.i18n import Translator
from kunren.page.security import Access, FieldError, Session


class WebError(Exception):
    """A refusal shown to the user: an HTTP status and an i18n message key."""

    def __init__(self, status: int, key: str, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


@dataclass
class Req:
    """One request as handlers see it, after every check passed."""

    request: Request
    access: Access
    session: Session
    t: Translator
    nonce: str
    form: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)  # to set on the response

    @property
    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("accept", "")

    @property
    def lang(self) -> str:
        return self.t.lang


def new_key() -> str:
    """A form's idempotency key: a repeated post with it is answered, not recorded again."""
    return secrets.token_urlsafe(12)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` whether or not it declared a length."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise WebError(413, "err_too_large", limit=limit // 1024)
        except ValueError as exc:
            raise WebError(400, "err_bad_request") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebError(413, "err_too_large", limit=limit // 1024)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(body: bytes, request: Request) -> dict[str, str]:
    """An url-encoded form (the page's script sends the same); anything else is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise WebError(400, "err_bad_request")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebError(400, "err_bad_request") from exc


def field_error(exc: FieldError) -> WebError:
    return WebError(400, exc.key, limit=exc.limit)
