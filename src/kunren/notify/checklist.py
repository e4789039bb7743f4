"""The scenario's notice checklist: what every customer notice must say, and must not.

A fast first notice that tells customers nothing they can act on, promises a fix time the
team then misses, or names ``db-primary-2.internal`` is a notice the retro should see. The
scenario lists what it wants (``notifications.checklist``); each notice is checked when it is
previewed (the page shows what is missing, before anyone sends) and the result is recorded
with the send, so the report scores it from the record alone.

    affected           the notice says what is affected (``affected_features`` / ``affected``)
    workaround         it tells customers what to do meanwhile (``workaround``, 代替案)
    next_update        it says when the next update comes (``next_update_time``)
    no_eta             it does not promise when the service will be fixed
    no_internal_hosts  it names no host, IP address or internal service name
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict

from kunren.notify.templates import FINAL_STATES, eta_promise
from kunren.scenarios.models import ChecklistItem, Scenario

_VARIABLES: dict[str, tuple[str, ...]] = {
    "affected": ("affected_features", "affected"),
    "workaround": ("workaround",),
    "next_update": ("next_update_time", "next_update"),
}
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_INTERNAL_NAME = re.compile(
    r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:internal|local|lan|corp|intra|svc|localdomain)\b"
    r"|\bip-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}\b|\blocalhost\b",
    re.IGNORECASE,
)


class CheckResult(BaseModel):
    """One checklist item for one notice; ``found`` quotes what broke a "no_" rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: ChecklistItem
    ok: bool
    found: str = ""


def internal_names(scenario: Scenario) -> list[str]:
    """Names from the scenario that customers must never read: target and service names that
    look like identifiers, and the hosts of every URL the scenario points at."""
    names: set[str] = set()
    for name in [*scenario.targets, *scenario.services]:
        if re.search(r"[-_\d]", name):
            names.add(name)
    for target in scenario.targets.values():
        for url in (target.url, target.upstream):
            host = urlparse(url).hostname if url else None
            if host:
                names.add(host)
    return sorted(names)


def check(
    items: Iterable[ChecklistItem],
    *,
    state: str,
    text: str,
    values: Mapping[str, str],
    used: Sequence[str],
    internal: Sequence[str] = (),
) -> list[CheckResult]:
    """Each item in ``items`` against one rendered notice (subject and body in ``text``)."""
    results = []
    for item in items:
        if item == "no_eta":
            promise = eta_promise(text)
            results.append(CheckResult(item=item, ok=promise is None, found=promise or ""))
        elif item == "no_internal_hosts":
            found = _internal(text, internal)
            results.append(CheckResult(item=item, ok=found is None, found=found or ""))
        elif item == "next_update" and state in FINAL_STATES:
            results.append(CheckResult(item=item, ok=True))  # a final notice promises none
        else:
            said = any(name in used and values.get(name, "").strip() for name in _VARIABLES[item])
            results.append(CheckResult(item=item, ok=said))
    return results


def lacking(results: Iterable[CheckResult]) -> list[ChecklistItem]:
    return [r.item for r in results if not r.ok]


def _internal(text: str, names: Sequence[str]) -> str | None:
    for pattern in (_IPV4, _INTERNAL_NAME):
        match = pattern.search(text)
        if match:
            return match.group(0)
    for name in names:
        if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE):
            return name
    return None
