"""Broadcast channels over HTTP: a Slack incoming webhook, or any endpoint taking JSON.

These post one message per notice to one URL, which is usually a staff channel or an
integration (a status page service, a ticket system). The URL is often a secret (a Slack
webhook URL is a credential), so it can come from an environment variable instead of the
scenario. The stdlib ``urllib`` keeps kunren free of an HTTP client dependency; the request
runs in a thread so the drill loop never blocks on a slow receiver.
"""

from __future__ import annotations

import json
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from kunren.factories import new_dict
from kunren.notify.base import Channel, from_env
from kunren.notify.message import Delivery, OutgoingNotice, Recipient, RecipientFailure
from kunren.scenarios.models import Duration

USER_AGENT = "kunren-notify/1"


class _UrlParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    url_env: str | None = None  # name of the environment variable holding the URL
    timeout: Duration = 10.0

    @model_validator(mode="after")
    def _one_url(self) -> _UrlParams:
        if (self.url is None) == (self.url_env is None):
            raise PydanticCustomError("url", "give exactly one of url or url_env")
        return self


class SlackParams(_UrlParams):
    channel: str | None = None  # only for legacy webhooks that may override it
    username: str | None = None
    icon_emoji: str | None = None


class WebhookParams(_UrlParams):
    headers: dict[str, str] = Field(default_factory=new_dict)
    headers_env: dict[str, str] = Field(default_factory=new_dict)  # header -> env variable


class WebhookPayload(BaseModel):
    """The JSON body the generic webhook channel posts (``kunren`` is the format version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kunren: int = 1
    drill: str
    notice: str
    state: str
    lang: str
    audience: str
    subject: str
    body: str
    marker: str
    sender: str
    role: str | None
    approver: str | None
    at: float
    wall: str


UP = TypeVar("UP", bound=_UrlParams, covariant=True)


class _HttpChannel(Channel[UP]):
    per_recipient: ClassVar[bool] = False

    @property
    def url_params(self) -> _UrlParams:
        return self.params

    def destination(self) -> str:
        url = self.url_params.url or from_env(self.url_params.url_env, f"{self.name} url")
        return url or ""

    def payload(self, notice: OutgoingNotice) -> bytes:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def captured_form(self, notice: OutgoingNotice) -> str:
        return self.payload(notice).decode("utf-8")

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        import asyncio  # here: checking a scenario loads the channel, not asyncio or urllib

        url = self.destination()
        reason = await asyncio.to_thread(self._post, url, self.payload(notice))
        if reason:
            return Delivery(failed=[RecipientFailure(recipient=url, reason=reason)], error=reason)
        return Delivery(delivered=[url])

    def _post(self, url: str, data: bytes) -> str:
        """POST ``data``; returns "" on a 2xx answer, else why it failed."""
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        headers.update(self.headers())
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.url_params.timeout) as response:
                response.read()
                return ""
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode("utf-8", "replace").strip()
            exc.close()
            return f"HTTP {exc.code}: {detail}" if detail else f"HTTP {exc.code}"
        except urllib.error.URLError as exc:
            return f"cannot reach {url}: {exc.reason}"
        except (OSError, ValueError) as exc:
            return f"cannot reach {url}: {exc}"


class SlackChannel(_HttpChannel[SlackParams]):
    """Slack incoming webhook: one message with the subject in bold."""

    name = "slack"

    def payload(self, notice: OutgoingNotice) -> bytes:
        body: dict[str, str] = {"text": f"*{notice.subject}*\n{notice.body}"}
        overrides = {
            "channel": self.params.channel,
            "username": self.params.username,
            "icon_emoji": self.params.icon_emoji,
        }
        body.update({key: value for key, value in overrides.items() if value})
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


class WebhookChannel(_HttpChannel[WebhookParams]):
    """Generic JSON POST of the notice (see WebhookPayload)."""

    name = "webhook"

    def payload(self, notice: OutgoingNotice) -> bytes:
        return (
            WebhookPayload(
                drill=notice.drill,
                notice=notice.notice,
                state=notice.template,
                lang=notice.lang,
                audience=notice.audience,
                subject=notice.subject,
                body=notice.body,
                marker=notice.marker,
                sender=notice.sender,
                role=notice.role,
                approver=notice.approver,
                at=notice.at,
                wall=notice.wall,
            )
            .model_dump_json()
            .encode("utf-8")
        )

    def headers(self) -> dict[str, str]:
        headers = dict(self.params.headers)
        for header, variable in self.params.headers_env.items():
            headers[header] = from_env(variable, f"webhook header {header}") or ""
        return headers
