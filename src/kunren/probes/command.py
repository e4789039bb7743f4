"""The ``command`` probe: any check a shell command can make, judged by its exit code.

Teams already have scripts that say whether a system is healthy (a database ping, a queue
depth check); this runs one on the probe's interval. A command that overruns its timeout is
killed with its whole process group, so a stuck check never piles up behind the next one.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from kunren.factories import new_dict
from kunren.probes.base import Probe, ProbeResult
from kunren.probes.http import seconds_text
from kunren.scenarios.models import Duration

if TYPE_CHECKING:
    import asyncio.subprocess


def _codes(value: object) -> object:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


def _command(value: object) -> object:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(part, str) for part in value)
    ):
        return value
    raise PydanticCustomError(
        "command",
        "expected a command: a list of arguments or a string for /bin/sh, got {value!r}",
        {"value": value},
    )


class CommandProbeParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run: Annotated[list[str] | str, BeforeValidator(_command)]  # a string runs via /bin/sh -c
    expect_exit: Annotated[list[int], BeforeValidator(_codes)] = Field(default_factory=lambda: [0])
    timeout: Duration = 10.0
    cwd: str | None = None  # relative to the scenario's folder
    env: dict[str, str] = Field(default_factory=new_dict)

    @field_validator("run")
    @classmethod
    def _not_empty(cls, value: list[str] | str) -> list[str] | str:
        if not value or (isinstance(value, str) and not value.strip()):
            raise ValueError("give a command to run")
        return value

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("timeout must be longer than 0s")
        return value

    @property
    def argv(self) -> list[str]:
        return ["/bin/sh", "-c", self.run] if isinstance(self.run, str) else list(self.run)


def _last_line(output: bytes) -> str:
    lines = output.decode(errors="replace").strip().splitlines()
    last = lines[-1].strip() if lines else ""
    return last if len(last) <= 120 else last[:117] + "..."


def _kill_group(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


class CommandProbe(Probe[CommandProbeParams]):
    """Run a command; ok when it exits with an expected code within the timeout."""

    summary = "Runs a command; ok when it exits with an expected code in time."

    async def check(self) -> ProbeResult:
        import asyncio  # here: checking a scenario loads the probe, not asyncio

        params = self.params
        cwd = self.ctx.resolve_path(params.cwd) if params.cwd else None
        try:
            process = await asyncio.create_subprocess_exec(
                *params.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=cwd,
                env={**os.environ, **params.env} if params.env else None,
                start_new_session=True,  # its own process group: a timeout kills it all
            )
        except FileNotFoundError:
            return ProbeResult(ok=False, detail=f"command not found: {params.argv[0]}")
        except OSError as exc:
            return ProbeResult(ok=False, detail=f"cannot run {params.argv[0]}: {exc.strerror}")
        try:
            async with asyncio.timeout(params.timeout):
                output, _ = await process.communicate()
        except TimeoutError:
            _kill_group(process)
            await process.wait()
            return ProbeResult(
                ok=False, detail=f"timeout after {seconds_text(params.timeout)} (killed)"
            )
        finally:
            _kill_group(process)  # cancelled from outside: never leave the check running
        code = process.returncode
        assert code is not None
        if code in params.expect_exit:
            return ProbeResult(ok=True, detail=f"exit {code}")
        detail = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        last = _last_line(output)
        return ProbeResult(ok=False, detail=f"{detail}: {last}" if last else detail)
