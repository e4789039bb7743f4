"""The alert intake on its own port, with its own token: wired into monitoring once.

Alertmanager, Grafana, PagerDuty or an SNS topic are configured long before a drill, by
someone who may not run it. So the intake cannot use the drill's participant token (random
per drill, known only once the drill runs, and able to run runbooks) nor a random port. It
has a token of its own, kept in a file (``intake.token_file``, default
``~/.config/kunren/intake-token``, created 0600 on first use) or given in
``$KUNREN_INTAKE_TOKEN``, stable across drills, that can do nothing but post alerts; and it
listens on a fixed port (``intake.port``, default 8766) from the moment the drill's folder
exists, before the drill starts, so nothing monitoring sends in between is lost.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kunren.errors import UsageError
from kunren.page.security import new_token

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kunren.page.alerts import AlertDesk, SnsConfirmer

ENV_TOKEN = "KUNREN_INTAKE_TOKEN"
DEFAULT_TOKEN_FILE = Path("~/.config/kunren/intake-token")
DEFAULT_PORT = 8766
SNS_HOSTS = r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"
CONFIRM_TIMEOUT = 10.0
MIN_TOKEN = 16


def intake_token(
    token_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """The intake token and where it came from (for the announcement, never the token).

    ``$KUNREN_INTAKE_TOKEN`` wins; else the file, created with a fresh token (mode 0600,
    its folder 0700) when it does not exist yet.
    """
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_TOKEN, "").strip()
    if from_env:
        if len(from_env) < MIN_TOKEN:
            raise UsageError(f"${ENV_TOKEN} is too short: use at least {MIN_TOKEN} characters")
        return from_env, f"${ENV_TOKEN}"
    path = (token_file or DEFAULT_TOKEN_FILE).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return _create(path), str(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the intake token: {exc.strerror}") from exc
    if len(text) < MIN_TOKEN:
        raise UsageError(
            f"{path}: the intake token must be at least {MIN_TOKEN} characters; "
            "delete the file to make a new one"
        )
    return text, str(path)


def existing_intake_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The intake token if one was made already (``$KUNREN_INTAKE_TOKEN`` or the default
    file), else ``None``; never creates one. The page of a drill without an ``intake`` key
    takes alerts with it, so a machine wired once for monitoring keeps working."""
    env = os.environ if environ is None else environ
    if env.get(ENV_TOKEN, "").strip() or DEFAULT_TOKEN_FILE.expanduser().exists():
        return intake_token(None, env)[0]
    return None


def _create(path: Path) -> str:
    token = new_token()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token + "\n")
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()  # another drill made it just now
    except OSError as exc:
        raise UsageError(f"{path}: cannot create the intake token: {exc.strerror}") from exc
    return token


def sns_confirmer(hosts: str = SNS_HOSTS) -> SnsConfirmer:
    """Visit a ``SubscribeURL``, only on an SNS endpoint (``hosts``, a regular expression):
    a forged confirmation must not make the drill fetch any address it names."""
    pattern = re.compile(hosts)

    async def confirm(url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))
        if not secure or not pattern.fullmatch(host):
            raise ValueError(f"SubscribeURL {host or url[:60]!r} is not an SNS endpoint")
        await asyncio.to_thread(_get, url)

    return confirm


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=CONFIRM_TIMEOUT) as reply:  # the URL was checked
        reply.read(64 * 1024)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_intake_app(desk: AlertDesk) -> Starlette:
    """A Starlette app with only ``POST /intake/<source>``: nothing else is reachable with
    the intake token, or at all, on this port."""
    from starlette.applications import Starlette

    from kunren.page.alerts import desk_routes

    return Starlette(routes=desk_routes(desk))
