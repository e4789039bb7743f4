"""A fault kind and a probe kind over a feature-flag file, the smallest useful kunren plugin.

Many services read their feature flags from a JSON file (or a config store that mirrors one):
``{"search_cache": true, "new_checkout": false}``. Turning a flag off is a realistic fault
("the search cache is switched off"), and it is reversible, so it shows every part of the
injector contract:

- ``Injector[SetFlagParams]``: a frozen pydantic model of the fault's own YAML keys, given as
  the type argument. ``kunren validate`` checks them and reports ``FILE:LINE: faults[0].flag:
  …`` before anything runs, and ``self.params`` is that model, typed.
- ``plan()`` touches nothing and says what would be done and how it would be undone; the
  conductor records it (``fault.injecting``) before ``inject()`` acts.
- ``inject()`` acts and returns a revert handle: plain JSON holding everything needed to undo
  it. ``revert(handle)`` uses that handle alone, because after a crash ``kunren revert`` calls
  it in a new process, with nothing but the record.

The probe reads the same file and is ok while the flag has the value the scenario expects, so
the drill's record shows when the fault took effect and when it was undone.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from kunren.errors import InjectionError
from kunren.injectors.base import Handle, Injected, Injector, Planned
from kunren.probes.base import Probe, ProbeResult
from pydantic import BaseModel, ConfigDict, Field, JsonValue


class SetFlagParams(BaseModel):
    """The keys of an ``example.flag.set`` fault, beside ``id``, ``at``, ``kind``, ``for``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(min_length=1)  # relative to the scenario's folder
    flag: str = Field(min_length=1)
    value: JsonValue = False


class FlagProbeParams(BaseModel):
    """The keys under ``example.flag:`` in a probe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(min_length=1)
    flag: str = Field(min_length=1)
    expect: JsonValue = True


def read_flags(path: Path) -> dict[str, JsonValue]:
    """The flags in ``path``; a missing file has no flags. Anything else wrong is an error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InjectionError(f"cannot read flags from {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InjectionError(f"{path} does not hold a JSON object of flags")
    return data


def write_flags(path: Path, flags: dict[str, JsonValue]) -> None:
    """Replace the file in one step, so the service never reads half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(flags, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SetFlag(Injector[SetFlagParams]):
    """Set a feature flag in a JSON file; reverted by restoring its previous value."""

    summary = "Example: set a feature flag in a JSON file; reverted by restoring it."

    @property
    def path(self) -> Path:
        return self.ctx.resolve_path(self.params.file).resolve()

    def _handle(self, flags: dict[str, JsonValue]) -> Handle:
        flag = self.params.flag
        return {
            "file": str(self.path),
            "flag": flag,
            "had": flag in flags,
            "previous": flags.get(flag),
        }

    async def plan(self) -> Planned:
        flags = read_flags(self.path)
        flag = self.params.flag
        before = json.dumps(flags[flag]) if flag in flags else "unset"
        return Planned(
            targets=[f"{self.path}: {flag}"],
            undo=f"set {flag} back to {before}",
            revert=self._handle(flags),
        )

    async def inject(self) -> Injected:
        flags = read_flags(self.path)
        handle = self._handle(flags)
        write_flags(self.path, {**flags, self.params.flag: self.params.value})
        detail = f"{self.params.flag} = {json.dumps(self.params.value)}"
        return Injected([f"{self.path}: {self.params.flag}"], revert=handle, detail=detail)

    async def revert(self, handle: Handle) -> str:
        path, flag = Path(str(handle["file"])), str(handle["flag"])
        flags = read_flags(path)
        if handle.get("had"):
            flags[flag] = handle.get("previous")
            write_flags(path, flags)
            return f"set {flag} back to {json.dumps(handle.get('previous'))} in {path}"
        flags.pop(flag, None)
        write_flags(path, flags)
        return f"removed {flag} from {path} (it was unset)"


class FlagProbe(Probe[FlagProbeParams]):
    """Ok while a feature flag in a JSON file has the expected value."""

    summary = "Example: ok while a feature flag in a JSON file has the expected value."

    async def check(self) -> ProbeResult:
        params = self.params  # typed by Probe[FlagProbeParams], validated when the scenario loads
        path = self.ctx.resolve_path(params.file)
        try:
            flags = read_flags(path)
        except InjectionError as exc:  # a broken file is a failing check, not a crash
            return ProbeResult(False, str(exc))
        value = flags.get(params.flag)
        if value == params.expect:
            return ProbeResult(True, f"{params.flag} is {json.dumps(value)}")
        shown = json.dumps(value) if params.flag in flags else "unset"
        return ProbeResult(False, f"{params.flag} is {shown}, expected {json.dumps(params.expect)}")
