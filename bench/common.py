"""What every benchmark shares: result rows, the table, percentiles, child processes, scratch dirs.

The machines kunren is measured on are shared and noisy, so every benchmark measures its own
baseline in the same run and is judged on the ratio, never on an absolute time. A process a
benchmark keeps running (a shop, a conductor, a baseline loop) goes through ``Child``, stopped
with its whole process group in a ``finally`` even when the benchmark fails half-way; short
commands run through ``subprocess.run`` with a timeout, which kills them when it expires.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kunren.runtime.ports import free_port as free_port  # the benchmarks import it from here

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
KUNREN = [PYTHON, "-m", "kunren"]


@dataclass(frozen=True)
class Target:
    """A bound on the ratio: ``ratio >= value`` (``at_least``) or ``ratio <= value``."""

    value: float
    at_least: bool
    shown: str  # how the target reads in the table ("≥ 95%", "≤ 1.5×")

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.at_least else ratio <= self.value


def at_least(value: float, shown: str) -> Target:
    return Target(value, True, shown)


def at_most(value: float, shown: str) -> Target:
    return Target(value, False, shown)


@dataclass(frozen=True)
class Row:
    """One line of the results table; ``details`` are printed under the table."""

    name: str
    measured: str
    baseline: str
    ratio: float | None
    ratio_text: str
    target: Target | None
    details: list[str] = field(default_factory=list)
    failed: str | None = None  # the benchmark could not run: why
    holds: bool | None = None  # a yes/no expectation beside (or instead of) the ratio target
    expect: str = ""  # how that expectation reads in the target column
    settled: bool = True  # False: the rounds spread across the target, noise won
    load: str = ""  # the machine's load average when the benchmark started and ended

    @property
    def verdict(self) -> str:
        if self.failed is not None:
            return "error"
        if self.holds is False:
            return "MISS"
        if self.target is None or self.ratio is None:
            return "pass" if self.holds else "info"
        if not self.settled:
            return "unsettled"
        return "pass" if self.target.met(self.ratio) else "MISS"


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages now, as ``/proc/loadavg`` shows them."""
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


@dataclass(frozen=True)
class Settled:
    """The per-round ratios of an interleaved benchmark, and whether they settled.

    The ratio is the median of the rounds' ratios. The spread is half the range of the rounds
    once the highest and lowest are set aside (from five rounds on: one hiccup of the machine
    must not decide), and the result is settled when that spread is smaller than the median's
    distance from the target, that is when every central round falls on the same side of it.
    """

    ratios: tuple[float, ...]
    ratio: float
    spread: float
    settled: bool
    seconds: float
    load_start: str
    load_end: str

    @property
    def load(self) -> str:
        return f"{self.load_start} → {self.load_end}"

    def describe(self, shown: Callable[[float], str]) -> str:
        state = "settled" if self.settled else "UNSETTLED (noise wider than the distance)"
        return (
            f"{len(self.ratios)} interleaved round(s) in {self.seconds:.0f} s, ratio per round "
            + ", ".join(shown(r) for r in self.ratios)
            + f"; median {shown(self.ratio)} ± {shown(self.spread)}: {state}; "
            f"load average {self.load}"
        )


def spread_of(ratios: Sequence[float]) -> float:
    """Half the range of the central rounds; one round alone says nothing of the noise."""
    if len(ratios) < 2:
        return math.inf
    ordered = sorted(ratios)
    central = ordered[1:-1] if len(ordered) >= 5 else ordered
    return (central[-1] - central[0]) / 2


def settle(
    one_round: Callable[[int], float],
    target: Target,
    *,
    min_rounds: int,
    max_rounds: int,
    max_seconds: float,
) -> Settled:
    """Run ``one_round(n)`` (which measures baseline and subject, alternating their order with
    ``n``, and returns the round's ratio) until the rounds settle, or the bounds stop them.

    Bounded both ways: at least ``min_rounds``, at most ``max_rounds``, and no new round once
    ``max_seconds`` have passed. Noise is then reported as such instead of as a pass or a miss.
    """
    load_start = load_average()
    start = time.monotonic()
    ratios: list[float] = []
    while len(ratios) < max_rounds:
        ratios.append(one_round(len(ratios)))
        if len(ratios) >= min_rounds and _is_settled(ratios, target):
            break
        if time.monotonic() - start >= max_seconds:
            break
    median = statistics.median(ratios)
    return Settled(
        ratios=tuple(ratios),
        ratio=median,
        spread=spread_of(ratios),
        settled=_is_settled(ratios, target),
        seconds=time.monotonic() - start,
        load_start=load_start,
        load_end=load_average(),
    )


def _is_settled(ratios: Sequence[float], target: Target) -> bool:
    """Every central round on the same side of the target (never for a single round)."""
    if len(ratios) < 2:
        return False
    ordered = sorted(ratios)
    central = ordered[1:-1] if len(ordered) >= 5 else ordered
    return central[-1] < target.value or central[0] > target.value


def error_row(name: str, reason: str) -> Row:
    return Row(name, "-", "-", None, "-", None, [reason], failed=reason)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; values need not be sorted."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary_ms(values: Sequence[float]) -> str:
    """``median / p99 / max`` of seconds, shown in milliseconds."""
    return (
        f"median {statistics.median(values) * 1000:.2f} ms, "
        f"p99 {percentile(values, 0.99) * 1000:.2f} ms, max {max(values) * 1000:.2f} ms "
        f"(n={len(values)})"
    )


def fmt_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.2f}×"


def render_table(rows: Sequence[Row]) -> str:
    head = ("benchmark", "measured", "baseline", "ratio", "target", "result")
    body = [(r.name, r.measured, r.baseline, r.ratio_text, _target(r), r.verdict) for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def _target(row: Row) -> str:
    shown = [row.target.shown] if row.target is not None else []
    shown += [row.expect] if row.expect else []
    return "; ".join(shown) or "-"


def machine() -> list[str]:
    """What the numbers were measured on: cores, CPU model, Python, OS."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return [
        f"nproc: {os.cpu_count()}",
        f"CPU: {model}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
        f"os: {platform.platform()}",
    ]


# ---------------------------------------------------------------------- processes


class Child:
    """A process in its own session; ``stop`` ends the whole group, TERM then KILL."""

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.args = list(args)
        self._log = open(log, "wb") if log is not None else None  # noqa: SIM115
        out = self._log if self._log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def stop(self, grace: float = 5.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(grace)
        else:
            # the leader is gone; its group may not be (a Locust worker, a shop)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; RuntimeError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    if not condition():
        raise RuntimeError(f"{what} not ready within {timeout:g}s")


def http_ok(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A scratch folder on the filesystem drills are written to (not tmpfs: fsync must count).

    ``KUNREN_BENCH_TMP`` overrides where; by default a hidden folder in the current directory.
    """
    root = Path(os.environ.get("KUNREN_BENCH_TMP") or Path.cwd() / ".bench-tmp")
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.rmdir()  # only when empty: another run may be using it
