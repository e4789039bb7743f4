"""AWS fault kinds (extra ``kunren[aws]``). Registered now; behaviour arrives with the AWS work."""

from __future__ import annotations

from kunren.injectors.base import NotBuiltInjector


class _Aws(NotBuiltInjector):
    extra = "aws"
    requires = ("boto3",)
    reversible = True


class Ec2Stop(_Aws):
    target_kinds = ("aws.ec2",)


class Ec2Reboot(_Aws):
    target_kinds = ("aws.ec2",)


class Ec2Terminate(_Aws):
    target_kinds = ("aws.ec2",)


class AsgTerminateInstance(_Aws):
    target_kinds = ("aws.asg",)


class AsgSetCapacity(_Aws):
    target_kinds = ("aws.asg",)


class EcsStopTask(_Aws):
    target_kinds = ("aws.ecs",)


class RdsReboot(_Aws):
    target_kinds = ("aws.rds",)


class RdsFailover(_Aws):
    target_kinds = ("aws.rds",)


class FisExperiment(_Aws):
    target_kinds = ()
