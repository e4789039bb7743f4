"""Drill folders: ``drills/<drill-id>/`` holds the record, the scenario snapshot and metadata.

Folder names carry the drill's start in UTC. The snapshot is the scenario text exactly as it
ran; ``drill.json`` remembers where it came from, so relative paths in it (templates,
audiences, a locustfile) still resolve when a later command (score, report, revert, resume)
loads the snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kunren.errors import EventLogError
from kunren.record.eventlog import (
    EventLog,
    creation_error,
    fsync_dir,
    remove_unfinished,
    write_durably,
)
from kunren.scenarios.loader import LoadedScenario, load_scenario_text

META_FILE = "drill.json"


@dataclass(frozen=True)
class DrillMeta:
    drill_id: str
    scenario_path: str
    scenario_dir: str


def new_drill_id(scenario_id: str, when: datetime, drills_root: Path) -> str:
    """``<scenario>-<YYYYmmdd-HHMMSS>`` in UTC, for live and imported drills alike, so folder
    names sort in the order the drills ran wherever (and in whichever zone) they were made."""
    utc = (when if when.tzinfo is not None else when.astimezone()).astimezone(UTC)
    base = f"{scenario_id}-{utc:%Y%m%d-%H%M%S}"
    candidate = base
    for n in range(2, 1000):
        if not (drills_root / candidate).exists():
            return candidate
        candidate = f"{base}-{n}"
    raise EventLogError(f"{drills_root}: too many drills named {base}")


def create_drill(loaded: LoadedScenario, drills_root: Path, when: datetime) -> EventLog:
    """A new drill folder with the scenario snapshot, its metadata and an empty log.

    On a full disk it is all or nothing: a folder that could not be completed is removed, and
    the error says nothing was run.
    """
    try:
        drills_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise creation_error(drills_root, exc) from exc
    drill_id = new_drill_id(loaded.scenario.id, when, drills_root)
    log = EventLog.create(drills_root / drill_id, loaded.text)
    meta = DrillMeta(drill_id, str(loaded.path.resolve()), str(loaded.dir.resolve()))
    text = json.dumps(meta.__dict__, indent=2) + "\n"
    try:
        write_durably(log.drill_dir / META_FILE, text)
        fsync_dir(log.drill_dir)
    except OSError as exc:
        log.close()
        remove_unfinished(log.drill_dir)
        raise creation_error(log.drill_dir, exc) from exc
    return log


def read_meta(drill_dir: Path) -> DrillMeta:
    try:
        data = json.loads((drill_dir / META_FILE).read_text("utf-8"))
        return DrillMeta(**data)
    except (OSError, ValueError, TypeError):
        return DrillMeta(drill_dir.name, str(drill_dir / "scenario.yaml"), str(drill_dir))


def load_snapshot(drill_dir: Path, *, check_plugins: bool = False) -> LoadedScenario:
    """The scenario a drill ran, as recorded in its folder."""
    meta = read_meta(drill_dir)
    path = drill_dir / "scenario.yaml"
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise EventLogError(f"{path}: cannot read the scenario snapshot: {exc}") from exc
    base = Path(meta.scenario_dir)
    if not base.is_dir():
        base = drill_dir
    return load_scenario_text(text, str(path), base, check_plugins=check_plugins, check_files=False)
