"""AWS fault kinds (extra ``kunren[aws]``), their guardrails, and the FIS export.

The kinds register as entry points under ``kunren.injectors`` (``aws.ec2.stop`` …); the
conductor calls ``preflight`` before the drill's first mutating AWS call, and the CLI calls
``resolve_targets`` for ``kunren plan --resolve`` / ``kunren run --dry-run``. boto3 is imported
only when an AWS kind runs.
"""

from __future__ import annotations

from kunren.injectors.aws.asg import AsgSetCapacity, AsgTerminateInstance
from kunren.injectors.aws.ec2 import Ec2Reboot, Ec2Stop, Ec2Terminate
from kunren.injectors.aws.ecs import EcsStopTask
from kunren.injectors.aws.fis import FisExperiment
from kunren.injectors.aws.fis_export import FisExport, export_fis
from kunren.injectors.aws.kind import AwsInjector, is_aws_kind
from kunren.injectors.aws.preflight import preflight, resolve_targets
from kunren.injectors.aws.rds import RdsFailover, RdsReboot
from kunren.injectors.aws.selection import ResolvedTargets, Resource
from kunren.runtime.aws_session import AwsScope, AwsSessions, aws_sessions

__all__ = [
    "AsgSetCapacity",
    "AsgTerminateInstance",
    "AwsInjector",
    "AwsScope",
    "AwsSessions",
    "Ec2Reboot",
    "Ec2Stop",
    "Ec2Terminate",
    "EcsStopTask",
    "FisExperiment",
    "FisExport",
    "RdsFailover",
    "RdsReboot",
    "ResolvedTargets",
    "Resource",
    "aws_sessions",
    "export_fis",
    "is_aws_kind",
    "preflight",
    "resolve_targets",
]
