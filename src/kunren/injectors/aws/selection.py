"""Which resources a fault hits: the target's matches, narrowed by the allow tag and ``select``.

The choice is a seeded random sample (seed = the drill's seed and the fault id), so a rehearsal
and the real drill with the same seed pick the same instances, and the choice is recorded with
its rule and seed in ``fault.injecting``/``fault.injected``. Resources found through filters are
only ever chosen among those carrying the allow tag; resources the scenario names explicitly
(instance ids, a group, a database, an FIS template) are kept as named, so the guardrail refuses
them loudly when the tag is missing instead of silently acting on something else.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from kunren.scenarios.models import Safety, Scenario, Select

DEFAULT_SAFETY = Safety()


@dataclass(frozen=True)
class Resource:
    """One AWS resource a fault would act on."""

    id: str  # what the mutating call names: instance id, task ARN, group name, DB id…
    type: str  # ec2:instance, autoscaling:group, ecs:task, rds:db, rds:cluster, fis:template
    tags: dict[str, str] = field(default_factory=dict)  # the tags the allow tag is checked on
    detail: str = ""  # for people: state, group, writer…

    def to_json(self) -> dict[str, JsonValue]:
        return {"id": self.id, "type": self.type, "detail": self.detail}


@dataclass(frozen=True)
class ResolvedTargets:
    """The exact resources one fault would hit, and how they were chosen."""

    fault_id: str
    kind: str
    target_name: str | None
    profile: str | None
    region: str
    resources: tuple[Resource, ...]
    matched: int  # resources the target matched (before the allow tag and select)
    untagged: int = 0  # matched without the allow tag, therefore never chosen
    rule: str = "all"  # how the resources were chosen from the tagged matches
    capped: bool = True  # counted against safety.max_targets (an FIS template is not)

    @property
    def ids(self) -> list[str]:
        return [resource.id for resource in self.resources]

    def summary(self) -> str:
        """One line for ``kunren plan --resolve`` and ``kunren run --dry-run``."""
        where = f"{self.target_name} " if self.target_name else ""
        chosen = ", ".join(self.ids) or "nothing"
        skipped = f", {self.untagged} without the allow tag left out" if self.untagged else ""
        return (
            f"{self.fault_id}: {self.kind} on {where}({self.region}): {chosen} "
            f"[{self.rule}; {self.matched} matched{skipped}]"
        )

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "fault": self.fault_id,
            "kind": self.kind,
            "target": self.target_name,
            "profile": self.profile,
            "region": self.region,
            "resources": [resource.to_json() for resource in self.resources],
            "matched": self.matched,
            "untagged": self.untagged,
            "rule": self.rule,
        }


def safety_of(scenario: Scenario) -> Safety:
    """The scenario's safety section, or the defaults used to show what would be chosen."""
    return scenario.safety or DEFAULT_SAFETY


def has_tags(tags: dict[str, str], required: dict[str, str]) -> bool:
    return all(tags.get(key) == value for key, value in required.items())


def tag_text(required: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in required.items())


def tags_from(
    items: Iterable[object] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    """AWS tag lists (``[{Key, Value}]``; ECS uses lower-case keys) as a dict."""
    found: dict[str, str] = {}
    for item in items or ():
        if isinstance(item, dict) and key in item:
            found[str(item[key])] = str(item.get(value, ""))
    return found


def seed_for(seed: int, fault_id: str) -> str:
    return f"{seed}:{fault_id}"


def choose(
    candidates: Sequence[Resource],
    select: Select | None,
    *,
    seed: str,
    default_count: int | None = None,
) -> tuple[list[Resource], str]:
    """A seeded random sample of ``candidates`` by ``select``; all of them without one."""
    ordered = sorted(candidates, key=lambda resource: resource.id)
    count: int | None
    if select is not None and select.count is not None:
        count, how = select.count, f"count {select.count}"
    elif select is not None and select.percent is not None:
        count = math.ceil(len(ordered) * select.percent / 100)
        how = f"percent {select.percent:g}"
    elif default_count is not None:
        count, how = default_count, f"count {default_count} (default)"
    else:
        return ordered, f"all {len(ordered)}"
    count = min(count, len(ordered))
    picked = random.Random(seed).sample(ordered, count)
    chosen = sorted(picked, key=lambda resource: resource.id)
    return chosen, f"{how}: {len(chosen)} of {len(ordered)}, seeded random choice (seed {seed})"


def pick(
    *,
    fault_id: str,
    kind: str,
    target_name: str | None,
    profile: str | None,
    region: str,
    candidates: Sequence[Resource],
    select: Select | None,
    required_tag: dict[str, str],
    seed: int,
    tag_filter: bool,
    default_count: int | None = None,
) -> ResolvedTargets:
    """Apply the allow tag (as a filter when ``tag_filter``) and ``select`` to ``candidates``."""
    pool = list(candidates)
    untagged = 0
    if tag_filter:
        pool = [resource for resource in candidates if has_tags(resource.tags, required_tag)]
        untagged = len(candidates) - len(pool)
    chosen, rule = choose(pool, select, seed=seed_for(seed, fault_id), default_count=default_count)
    return ResolvedTargets(
        fault_id=fault_id,
        kind=kind,
        target_name=target_name,
        profile=profile,
        region=region,
        resources=tuple(chosen),
        matched=len(candidates),
        untagged=untagged,
        rule=rule,
    )
