"""Probe ``aws.cloudwatch.alarm``: a CloudWatch alarm's state as a drill probe.

Teams already alarm on what matters (5xx rate, latency, queue depth); reading the alarm keeps
kunren's idea of "impact" the same as the team's. The probe fails while the alarm is in ALARM,
so it marks impact in the timeline and can drive a stop condition (``failing_for: 20m``).
OK and INSUFFICIENT_DATA pass. An alarm that does not exist, or an AWS error, raises: that is a
broken scenario or missing access, not a failing system.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kunren.errors import KunrenError
from kunren.probes.base import Probe, ProbeResult
from kunren.runtime.aws_session import aws_sessions, scope_for


class CloudWatchAlarmParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    region: str | None = None
    profile: str | None = None


class CloudWatchAlarmProbe(Probe[CloudWatchAlarmParams]):
    """Fails while a CloudWatch alarm (metric or composite) is in state ALARM."""

    extra = "aws"
    requires = ("boto3",)

    async def check(self) -> ProbeResult:
        params = self.params
        sessions = aws_sessions(self.ctx)
        scope = await sessions.resolve(
            scope_for(self.ctx, None, region=params.region, profile=params.profile)
        )
        answer = await sessions.call(
            "cloudwatch",
            scope,
            "describe_alarms",
            resource=f"alarm {params.name}",
            error=KunrenError,
            AlarmNames=[params.name],
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
        )
        alarms = list(answer.get("MetricAlarms", [])) + list(answer.get("CompositeAlarms", []))
        if not alarms:
            raise KunrenError(f"CloudWatch alarm {params.name} not found in {scope.region}")
        state = str(alarms[0].get("StateValue", ""))
        reason = " ".join(str(alarms[0].get("StateReason", "")).split())
        detail = f"alarm {params.name} is {state}" + (f": {reason}" if reason else "")
        return ProbeResult(ok=state != "ALARM", detail=detail)
