"""The extension point for scorers: what a team-local or installed scorer plugin implements.

A team measures things kunren does not (time from detection to the first notice, how many
runbooks support ran by themselves…). A scorer is a class deriving from ``Scorer`` with a
``score(ctx)`` method; it reads the drill through ``ScoringContext`` (the amended events, T0,
the end and the built-in Scorecard) and returns a ``ScorerResult``. Scorers are found in a
workspace folder (``--plugins-dir scorers/``) or through the ``kunren.scorers`` entry-point group
of installed packages; built-in milestone scoring registers there the same way.

Scoring stays a pure function of the record: a scorer must not read files, the network or the
clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kunren import plugins
from kunren.plugins import Plugin
from kunren.record.events import Event
from kunren.scenarios.models import Scenario
from kunren.scorers.card import Metric, Scorecard, ScorerResult, Timing
from kunren.scorers.display import format_timing
from kunren.scorers.record import DrillRecord


@dataclass(frozen=True)
class ScoringContext:
    """What a scorer may read: the record (amendments applied) and the built-in Scorecard."""

    record: DrillRecord
    card: Scorecard

    @property
    def scenario(self) -> Scenario:
        return self.record.scenario

    @property
    def events(self) -> list[Event]:
        """Every event in drill-time order, facilitator amendments applied."""
        return self.record.events

    @property
    def t0(self) -> float:
        return self.record.t0.at

    @property
    def end(self) -> float:
        return self.record.end

    def timing(self, at: float | None, by: str | None = None) -> Timing:
        """A Timing from T0 to drill time ``at``; ``None`` means never, which is censored."""
        if at is None:
            return Timing(
                seconds=None,
                censored=True,
                bound_seconds=self.record.window,
                display=self.record.censored_display(),
            )
        seconds = self.record.since_t0(at)
        return Timing(seconds=seconds, display=format_timing(seconds), at=at, by=by)

    def duration_metric(self, name: str, label: str, timing: Timing) -> Metric:
        """A Metric for a duration, displayed and censored like the built-in milestones."""
        value = timing.seconds if not timing.censored else timing.bound_seconds
        return Metric(
            name=name,
            label=label,
            value=value,
            unit="s",
            display=timing.display,
            censored=timing.censored,
        )


class Scorer(Plugin):
    """Base class of scorer plugins: set ``name`` and implement ``score``.

    Subclasses are instantiated without arguments, once per drill scored.
    """

    name: ClassVar[str] = ""

    def score(self, ctx: ScoringContext) -> ScorerResult:
        raise NotImplementedError

    @classmethod
    def display_name(cls) -> str:
        return cls.name or cls.__name__


SCORERS: plugins.Group[Scorer] = plugins.SCORERS.of(Scorer)
"""The ``kunren.scorers`` group, loading ``type[Scorer]``."""
