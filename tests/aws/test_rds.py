"""RDS faults against moto: reboot (with or without failover) and cluster failover.

moto's RebootDBInstance changes nothing it could show, so for reboots these tests check the
call is made on exactly the named, tagged database and refused on an untagged one; the cluster
failover is visible (the writer changes).
"""

from __future__ import annotations

import pytest

from kunren.errors import GuardrailError, InjectionError
from tests.aws.helpers import ALLOW, client, context, injector, request, run, scenario, tag_list

pytestmark = pytest.mark.aws

PASSWORD = "drill-password-1"


def make_instance(name: str, tags: dict[str, str], multi_az: bool = False) -> None:
    client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="drill",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=20,
        MultiAZ=multi_az,
        Tags=tag_list(tags),
    )


def make_cluster(name: str, tags: dict[str, str]) -> None:
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="drill",
        MasterUserPassword=PASSWORD,
        Tags=tag_list(tags),
    )
    for member in ("a", "b"):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{member}",
            DBClusterIdentifier=name,
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
        )


def writer(cluster: str) -> str:
    found = client("rds").describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]
    member: str = next(
        m["DBInstanceIdentifier"] for m in found["DBClusterMembers"] if m["IsClusterWriter"]
    )
    return member


def db_target(**spec: str) -> dict[str, object]:
    return {"db": {"aws.rds": {"region": "us-east-1", **spec}}}


@pytest.mark.parametrize("force", [False, True])
def test_reboot_named_tagged_instance(unique: str, force: bool) -> None:
    name = f"db-{unique}"
    make_instance(name, ALLOW, multi_az=True)
    scn = scenario(db_target(db_instance=name))
    reboot = injector(context(scn), request(scn, "aws.rds.reboot", "db", {"force_failover": force}))

    injected = run(reboot.inject())

    assert injected.targets == [name]
    assert injected.detail == ("rebooted with failover" if force else "rebooted")
    assert injected.revert is None


def test_reboot_of_untagged_instance_is_refused(unique: str) -> None:
    name = f"db-{unique}"
    make_instance(name, {"team": "data"})
    scn = scenario(db_target(db_instance=name))
    with pytest.raises(GuardrailError, match=f"{name} in us-east-1 lacks the allow tag"):
        run(injector(context(scn), request(scn, "aws.rds.reboot", "db")).inject())


def test_reboot_of_a_cluster_reboots_its_writer(unique: str) -> None:
    name = f"cl-{unique}"
    make_cluster(name, ALLOW)
    scn = scenario(db_target(db_cluster=name))
    injected = run(injector(context(scn), request(scn, "aws.rds.reboot", "db")).inject())
    assert injected.targets == [writer(name)]


def test_cluster_failover_moves_the_writer(unique: str) -> None:
    name = f"cl-{unique}"
    make_cluster(name, ALLOW)
    before = writer(name)
    scn = scenario(db_target(db_cluster=name))

    injected = run(injector(context(scn), request(scn, "aws.rds.failover", "db")).inject())

    after = writer(name)
    assert after != before
    assert injected.targets == [name]
    assert injected.detail == f"failed over; writer now {after}"


def test_failover_of_untagged_cluster_is_refused_and_writer_stays(unique: str) -> None:
    name = f"cl-{unique}"
    make_cluster(name, {"team": "data"})
    before = writer(name)
    scn = scenario(db_target(db_cluster=name))
    with pytest.raises(GuardrailError, match="lacks the allow tag"):
        run(injector(context(scn), request(scn, "aws.rds.failover", "db")).inject())
    assert writer(name) == before


def test_failover_of_single_az_instance_says_there_is_no_standby(unique: str) -> None:
    name = f"db-{unique}"
    make_instance(name, ALLOW, multi_az=False)
    scn = scenario(db_target(db_instance=name))
    with pytest.raises(InjectionError, match=f"DB instance {name} is not Multi-AZ"):
        run(injector(context(scn), request(scn, "aws.rds.failover", "db")).inject())


def test_missing_instance_is_one_line_with_the_aws_code(unique: str) -> None:
    scn = scenario(db_target(db_instance=f"none-{unique}"))
    with pytest.raises(InjectionError) as caught:
        run(injector(context(scn), request(scn, "aws.rds.reboot", "db")).plan())
    assert str(caught.value).startswith(
        f"DescribeDBInstances on DB instance none-{unique} (us-east-1) failed: DBInstanceNotFound"
    )
