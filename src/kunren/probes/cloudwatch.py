from __future__ import annotations

from kunren.probes.base import NotBuiltProbe


class CloudWatchAlarmProbe(NotBuiltProbe):
    extra = "aws"
    requires = ("boto3",)
