"""The participant page's defences, kept apart from the routes so each rule is checked in one place.

The page runs next to real fault injection, often on a laptop on the office network, so:
every request carries a drill token (participant or facilitator, compared in constant time);
state-changing browser requests must come from the drill's own page (Origin / Sec-Fetch-Site)
and carry the session's CSRF token; names, notes and bodies have hard limits; and the server
refuses to listen beyond loopback unless told to. Nothing here imports starlette, so the rules
are unit-testable and ``kunren --help`` stays light.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

MAX_NAME = 80
MAX_NOTE = 1000
MAX_BODY = 64 * 1024
MAX_SESSIONS = 5000
MAX_JOINED = 20000
MAX_REMEMBERED_KEYS = 256


class Access(IntEnum):
    """What a presented token allows; a facilitator may do everything a participant may."""

    NONE = 0
    PARTICIPANT = 1
    FACILITATOR = 2


def new_token() -> str:
    """A fresh drill token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Tokens:
    participant: str
    facilitator: str

    def __post_init__(self) -> None:
        if not self.participant or not self.facilitator:
            raise ValueError("both drill tokens must be non-empty")
        if hmac.compare_digest(self.participant, self.facilitator):
            raise ValueError("the participant and facilitator tokens must differ")

    def access(self, presented: str | None) -> Access:
        if not presented:
            return Access.NONE
        given = presented.encode("utf-8", "replace")
        # Both comparisons always run: the time taken does not tell which token was close.
        is_facilitator = hmac.compare_digest(given, self.facilitator.encode())
        is_participant = hmac.compare_digest(given, self.participant.encode())
        if is_facilitator:
            return Access.FACILITATOR
        if is_participant:
            return Access.PARTICIPANT
        return Access.NONE

    def best(self, presented: list[str | None]) -> Access:
        return max((self.access(token) for token in presented), default=Access.NONE)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token a non-browser client sent: ``X-Kunren-Token`` or ``Authorization: Bearer``."""
    token = headers.get("x-kunren-token")
    if token:
        return token.strip()
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def cookie_suffix(drill_id: str) -> str:
    """Cookies ignore ports: two drills on one host must not overwrite each other's cookies."""
    return hashlib.sha256(drill_id.encode()).hexdigest()[:10]


def cross_site_reason(headers: Mapping[str, str], scheme: str) -> str | None:
    """Why a state-changing browser request looks cross-site, or None when it does not.

    ``Sec-Fetch-Site`` is sent by every current browser and cannot be forged by a page; the
    ``Origin`` check covers older ones. Clients sending neither (curl, scripts) are not
    browsers riding on a cookie, and the CSRF token still applies to them.
    """
    site = headers.get("sec-fetch-site")
    if site is not None:
        # The browser's own verdict; Origin may be "null" on a same-origin form post.
        return None if site in ("same-origin", "none") else f"Sec-Fetch-Site is {site}"
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "")
        if origin != f"{scheme}://{host}":
            return "Origin does not match this server"
    return None


class FieldError(ValueError):
    """A form field broke a limit; ``key`` names the i18n message, ``limit`` its number."""

    def __init__(self, key: str, limit: int) -> None:
        super().__init__(key)
        self.key = key
        self.limit = limit


def _printable(text: str) -> str:
    # Control characters would break one-line displays and report tables; newlines in a
    # note are kept, other controls are dropped.
    return "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    )


def clean_name(raw: str | None, limit: int = MAX_NAME) -> str:
    """A person's name as recorded: trimmed, single-spaced, 1..``limit`` characters."""
    name = " ".join(_printable(unicodedata.normalize("NFC", raw or "")).split())
    if not name or len(name) > limit:
        raise FieldError("err_name", limit)
    return name


def clean_note(
    raw: str | None, limit: int = MAX_NOTE, *, required: bool = False, error: str = "err_note"
) -> str:
    """A free-text note: trimmed, at most ``limit`` characters, empty allowed unless required.
    ``error`` names the message shown when it breaks the rule."""
    note = _printable(unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n"))).strip()
    if len(note) > limit or (required and not note):
        raise FieldError(error, limit)
    return note


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Session:
    """One browser's state: its CSRF token, who joined in it, and the replies to recent keys."""

    sid: str
    csrf: str
    actor: str | None = None
    role: str | None = None
    flash: str | None = None
    replies: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def check_csrf(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            (presented or "").encode("utf-8", "replace"), self.csrf.encode()
        )

    def remembered(self, key: str) -> str | None:
        """The reply already sent for idempotency ``key`` (a double click), if any."""
        return self.replies.get(key) if key else None

    def remember(self, key: str, reply: str) -> None:
        if not key:
            return
        self.replies[key] = reply
        while len(self.replies) > MAX_REMEMBERED_KEYS:
            self.replies.popitem(last=False)


class SessionStore:
    """Sessions in memory: a restart only asks people to join again.

    Sessions nobody joined in are cheap to make (any request with the token makes one), so
    they are kept apart and evicted oldest first; a session someone joined in is never
    evicted by them. A flood of token requests can only push out other anonymous sessions,
    never a participant who joined and then sat idle. Joined sessions have their own, larger
    cap (one per person who ever joined, many times over a real drill's size).
    """

    def __init__(self, limit: int = MAX_SESSIONS, joined_limit: int = MAX_JOINED) -> None:
        self._anonymous: OrderedDict[str, Session] = OrderedDict()
        self._joined: OrderedDict[str, Session] = OrderedDict()
        self._limit = limit
        self._joined_limit = joined_limit

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        session = self._joined.get(sid)
        if session is not None:
            self._joined.move_to_end(sid)
            return session
        session = self._anonymous.get(sid)
        if session is None:
            return None
        if session.actor is not None:  # joined since the last request: keep it safe now
            del self._anonymous[sid]
            self.keep(session)
        else:
            self._anonymous.move_to_end(sid)
        return session

    def keep(self, session: Session) -> None:
        """``session`` belongs to someone who joined: out of reach of the anonymous flood."""
        self._anonymous.pop(session.sid, None)
        self._joined[session.sid] = session
        self._joined.move_to_end(session.sid)
        while len(self._joined) > self._joined_limit:
            self._joined.popitem(last=False)

    def create(self) -> Session:
        session = Session(sid=secrets.token_urlsafe(24), csrf=secrets.token_urlsafe(24))
        self._anonymous[session.sid] = session
        while len(self._anonymous) > self._limit:
            self._anonymous.popitem(last=False)
        return session

    def __len__(self) -> int:
        return len(self._anonymous) + len(self._joined)


def content_security_policy(nonce: str) -> str:
    """Only our own inline script and style (by nonce) run; nothing is framed or fetched."""
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our
    # own form posts; other sites never see our addresses either way.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
