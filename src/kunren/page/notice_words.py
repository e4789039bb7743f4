"""Notices in words, in the page's language: reach, preview, checklist, result, failure.

Every number a support person reads about a notice is said here, once, for the page and its
script alike: "17 customers; this drill really reaches 10 of them" rather than
``drill-customers: 17 (10 allowed)``; "Not sent to 10 people: the mail server did not
answer" rather than a green box. The service's English errors are turned into the page's
language here too, so the English of the library never leaks into a Japanese page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kunren.page.i18n import LANG_NAMES, role_label

if TYPE_CHECKING:
    from kunren.notify import AudienceInfo, NoticeState, Preview, SendResult
    from kunren.page.request import Req
    from kunren.page.webapp import WebApp

__all__ = ["LANG_NAMES"]

MAX_REASONS = 3

_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"need approval by (?P<roles>.+): draft the notice first"), "err_needs_approval"),
    (re.compile(r"waits for approval by (?P<roles>.+)$"), "err_waits_approval"),
    (re.compile(r"was sent already"), "err_sent_already"),
    (re.compile(r"was rejected by (?P<who>.+)$"), "err_was_rejected"),
    (re.compile(r"may not decide on notices"), "err_may_not_decide"),
    (re.compile(r"drafted notice .+: someone else approves"), "err_self_approval"),
    (re.compile(r"undefined variable: (?P<names>\w+)"), "err_missing_value"),
    (re.compile(r"is (?P<status>\w+) already"), "err_decided_already"),
)


def error_text(web: WebApp, req: Req, message: str) -> str:
    """A service error in the page's language (the English text when none fits)."""
    for pattern, key in _ERRORS:
        match = pattern.search(message)
        if match:
            values = match.groupdict()
            if "roles" in values:
                values["roles"] = role_names(web, req, values["roles"].split(", "))
            names = sorted(set(re.findall(r"undefined variable: (\w+)", message)))
            return req.t(key, **{**values, "names": ", ".join(names)})
    return message


def role_names(web: WebApp, req: Req, roles: list[str]) -> str:
    labels = [role_label(web.control.scenario, r, req.t) for r in roles]
    return ("、" if req.lang == "ja" else ", ").join(labels)


def zone_text(req: Req, web: WebApp) -> str:
    from kunren.notify.variables import local, zone_label

    now = local(web.control.clock.wall(), web.control.scenario)
    return req.t("notice_zone", zone=zone_label(now), now=now.strftime("%H:%M"))


def audience_label(req: Req, info: AudienceInfo) -> str:
    return (info.label_ja if req.lang == "ja" and info.label_ja else info.label) or info.name


def audience_reach(req: Req, count: int, allowed: int, live: bool) -> str:
    """How many customers, and how many this drill really reaches."""
    if live:
        return req.t("reach_live", count=count)
    if allowed == count:
        return req.t("reach_all", count=count)
    if allowed == 0:
        return req.t("reach_none", count=count)
    return req.t("reach_drill", count=count, allowed=allowed, held=count - allowed)


def languages_text(req: Req, counts: dict[str, int]) -> str:
    parts = [
        req.t("lang_count", lang=LANG_NAMES.get(lang, lang), count=n) for lang, n in counts.items()
    ]
    return req.t("notice_each_language", counts=("、" if req.lang == "ja" else ", ").join(parts))


def preview(web: WebApp, req: Req, p: Preview) -> dict[str, Any]:
    """The preview as the page shows it, and the confirmation it leads to."""
    labels = _field_labels(web, req, p.template)
    missing = [labels.get(name, name) for name in p.missing]
    checks = [
        {
            "ok": c.ok,
            "text": req.t(f"check_{c.item}")
            + ("" if c.ok or not c.found else " " + req.t("check_found", found=c.found)),
        }
        for c in p.checks
    ]
    confirm_key = "notice_confirm_live" if p.live else "notice_confirm"
    return {
        "subject": p.subject,
        "body": p.body,
        "recipients": audience_reach(req, p.recipient_count, p.allowed_count, p.live),
        "languages": languages_text(req, p.versions) if p.versions else "",
        "warnings": [_warning(req, w.code, w.message) for w in p.warnings],
        "missing": req.t("notice_missing", names="、".join(missing)) if missing else "",
        "checks": checks,
        "lacking": sum(1 for c in p.checks if not c.ok),
        "confirm": req.t(
            confirm_key,
            count=p.recipient_count,
            allowed=p.allowed_count,
            held=p.recipient_count - p.allowed_count,
        ),
        "send_label": req.t("notice_send_to", count=p.recipient_count),
        "sendable": not p.missing,
    }


def _warning(req: Req, code: str, message: str) -> str:
    key = f"warn_{code.replace('-', '_')}"
    text = req.t(key)
    return message if text == key else text


def _field_labels(web: WebApp, req: Req, template: str) -> dict[str, str]:
    service = web.notices
    if service is None:
        return {}
    for info in service.templates():
        if info.name == template:
            return {n: v.text("label", req.lang) for n, v in info.meta.variables.items()}
    return {}


def result(req: Req, sent: SendResult, state: NoticeState) -> tuple[str, dict[str, Any]]:
    """What a send did, in words, and what the page needs to offer a retry."""
    reasons = sorted({reason_text(req, f.reason) for r in sent.results for f in r.failures})
    reasons = reasons[:MAX_REASONS]
    delivered = sum(e.delivered for e in sent.events)
    # everyone this send addressed who neither got it nor failed: held back by the drill
    addressed = max((e.recipients for e in sent.events), default=0)
    captured = max(0, addressed - delivered - sum(len(e.failed) for e in sent.events))
    failed = state.failed
    data: dict[str, Any] = {"notice": sent.notice, "failed": failed, "reasons": reasons}
    langs = next((e.languages for e in sent.events if e.languages), {})
    if failed:
        message = req.t("notice_not_reached", failed=failed, delivered=delivered)
        data["retry_label"] = req.t("notice_retry", failed=failed)
        return message, data
    message = req.t("notice_reached", delivered=delivered)
    if captured:
        message += " " + req.t("notice_captured", captured=captured)
    if langs:
        message += " " + languages_text(req, langs)
    return message, data


def reason_text(req: Req, reason: str) -> str:
    """Why one recipient was not reached, in words first and the server's own text after."""
    if "cannot reach" in reason or "connection lost" in reason:
        return req.t("reason_unreachable", detail=reason)
    if re.match(r"^5\d\d\b", reason):
        return req.t("reason_refused", detail=reason)
    return req.t("notice_reason", reason=reason)


def sent_line(web: WebApp, req: Req, state: NoticeState) -> dict[str, Any]:
    """One sent notice in the page's list: what, when, and whether everyone got it."""
    from kunren.durations import format_clock

    title = state.template
    service = web.notices
    if service is not None:
        info = next((i for i in service.templates() if i.name == state.template), None)
        if info is not None:
            title = info.meta.text("title", req.lang, state.template)
    at = format_clock(state.sent_at or 0.0)
    if state.failed:
        text = req.t("sent_line_failed", title=title, at=at, failed=state.failed)
    else:
        text = req.t("sent_line", title=title, at=at, delivered=state.delivered)
    return {
        "notice": state.notice,
        "text": text,
        "failed": state.failed,
        "reasons": [reason_text(req, r) for r in state.reasons],
        "retry_label": req.t("notice_retry", failed=state.failed),
    }
