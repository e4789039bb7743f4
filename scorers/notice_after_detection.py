"""Example team-local scorer: how long customers waited after the team already knew.

Time to notify is counted from the fault; this counts from the first person who noticed,
which is the part of the wait a team controls. Run it with:

    kunren score drills/<drill-id> --plugins-dir scorers/
    kunren report drills/<drill-id> --plugins-dir scorers/
"""

from __future__ import annotations

from kunren.scorers import Metric, Scorer, ScorerResult, ScoringContext, format_timing

TOO_LONG = 15 * 60  # seconds; the team's own bar, not a kunren objective


class NoticeAfterDetection(Scorer):
    """From the first detection to the first customer notice."""

    name = "notice-after-detection"
    summary = "From the first detection to the first customer notice"

    def score(self, ctx: ScoringContext) -> ScorerResult:
        detected = ctx.card.milestones.get("detected")
        notified = ctx.card.milestones.get("customer_notified")
        if detected is None or detected.at is None:
            return ScorerResult(findings=["nobody marked 'detected', so this cannot be measured"])
        if notified is None or notified.at is None:
            waited = ctx.end - detected.at
            metric = Metric(
                name="detect_to_notice",
                label="Detection to first customer notice",
                value=waited,
                unit="s",
                display=format_timing(waited, censored=True),
                censored=True,
            )
            return ScorerResult(
                metrics=[metric], findings=["customers were never told, though the team knew"]
            )
        waited = notified.at - detected.at
        metric = Metric(
            name="detect_to_notice",
            label="Detection to first customer notice",
            value=waited,
            unit="s",
            display=format_timing(waited),
        )
        findings = []
        if waited > TOO_LONG:
            findings.append(
                f"customers heard {format_timing(waited)} after {detected.by} noticed "
                f"(our bar: {format_timing(TOO_LONG)})"
            )
        return ScorerResult(metrics=[metric], findings=findings)
