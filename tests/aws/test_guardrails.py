"""Every guardrail refuses before any mutating call, and preflight/resolve_targets report exactly.

Each refusal test asserts the instances are still running afterwards: the refusal came first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kunren.errors import GuardrailError, UsageError
from kunren.injectors.aws import preflight, resolve_targets
from kunren.scenarios.models import Scenario
from tests.aws.helpers import (
    ACCOUNT,
    ALLOW,
    REGION,
    SAFE,
    client,
    context,
    injector,
    launch,
    request,
    run,
    scenario,
    states,
)

pytestmark = pytest.mark.aws


@pytest.fixture
def tagged(unique: str) -> list[str]:
    return launch(2, {"Role": f"api-{unique}", **ALLOW})


def api(unique: str, region: str = REGION, **spec: Any) -> dict[str, Any]:
    return {
        "api": {"aws.ec2": {"region": region, "filters": {"tag:Role": f"api-{unique}"}, **spec}}
    }


def refused(scn: Scenario, kind: str = "aws.ec2.stop", **settings: Any) -> str:
    """The refusal of both the drill-start preflight and the injector's own check."""
    req = request(scn, kind, "api")
    with pytest.raises(GuardrailError) as before:
        run(preflight(context(scn, **settings), [req]))
    with pytest.raises(GuardrailError) as at_inject:
        run(injector(context(scn, **settings), req).inject())
    assert str(before.value) == str(at_inject.value)
    assert before.value.exit_code == 2
    return str(before.value)


def all_running(ids: list[str]) -> bool:
    return all(state == "running" for state in states(ids).values())


def test_missing_safety_section_refuses(unique: str, tagged: list[str]) -> None:
    message = refused(scenario(api(unique), safety=None))
    assert message == (
        "fault f1 (aws.ec2.stop): refused: the scenario has no safety section; add one with "
        "require_tag, max_targets, allowed_regions and allowed_accounts"
    )
    assert all_running(tagged)


def test_region_outside_allowed_regions_refuses_before_any_call(
    unique: str, tagged: list[str]
) -> None:
    message = refused(scenario(api(unique, region="eu-west-1")))
    assert message == (
        "fault f1 (aws.ec2.stop): refused: region eu-west-1 is not in safety.allowed_regions "
        "(allowed: us-east-1)"
    )
    assert all_running(tagged)


def test_empty_allowed_regions_allows_none(unique: str, tagged: list[str]) -> None:
    message = refused(scenario(api(unique), safety={**SAFE, "allowed_regions": []}))
    assert "(allowed: none (the list is empty))" in message
    assert all_running(tagged)


def test_account_outside_allowed_accounts_refuses(unique: str, tagged: list[str]) -> None:
    message = refused(scenario(api(unique), safety={**SAFE, "allowed_accounts": ["111122223333"]}))
    assert message == (
        f"fault f1 (aws.ec2.stop): refused: the credentials belong to account {ACCOUNT}, which is "
        "not in safety.allowed_accounts (allowed: 111122223333)"
    )
    assert all_running(tagged)


def test_untagged_named_instance_refuses(unique: str) -> None:
    untagged = launch(1, {"Role": f"api-{unique}"})
    message = refused(scenario({"api": {"aws.ec2": {"region": REGION, "ids": untagged}}}))
    assert "lacks the allow tag kunren:allow=true (safety.require_tag)" in message
    assert all_running(untagged)


def test_a_custom_allow_tag_is_the_one_required(unique: str, tagged: list[str]) -> None:
    safety = {**SAFE, "require_tag": {"chaos": "yes"}}
    message = refused(scenario(api(unique), safety=safety))
    assert "none tagged chaos=yes" in message
    assert all_running(tagged)


def test_max_targets_refuses_instead_of_truncating(unique: str, tagged: list[str]) -> None:
    message = refused(scenario(api(unique), safety={**SAFE, "max_targets": 1}))
    assert f"2 resources chosen ({', '.join(tagged)}), more than safety.max_targets=1" in message
    assert all_running(tagged)


@pytest.fixture
def denied_credentials(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, unique: str
) -> Iterator[None]:
    """An IAM user that may look but not stop instances, with moto enforcing IAM.

    moto checks IAM policies only once told to (its reset-auth API); it is switched back off
    afterwards because the server is shared by the whole test session.
    """
    import urllib.request

    iam = client("iam")
    name = f"viewer-{unique}"
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="look-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["ec2:Describe*", "sts:GetCallerIdentity"],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])

    def auth(count: str) -> None:
        # A form content type would make moto read an empty body: send plain text.
        req = urllib.request.Request(
            f"{aws_env}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(req, timeout=10) as answer:
            assert answer.status == 200

    auth("0")
    try:
        yield
    finally:
        auth("inf")


def test_ec2_dry_run_denied_refuses(
    unique: str, tagged: list[str], denied_credentials: None
) -> None:
    scn = scenario(api(unique))
    req = request(scn, "aws.ec2.stop", "api")
    with pytest.raises(GuardrailError) as caught:
        run(preflight(context(scn, fresh=True), [req]))

    message = str(caught.value)
    assert message.startswith(
        f"fault f1 (aws.ec2.stop): refused: the EC2 DryRun of StopInstances on {', '.join(tagged)} "
        "(us-east-1) was denied, the credentials may not do this: AccessDenied: "
    )
    assert "ec2:StopInstances" in message


def test_after_denied_dry_run_nothing_was_stopped(unique: str, tagged: list[str]) -> None:
    # Runs with the ordinary credentials: the denied preflight above left moto's IAM off again.
    scn = scenario(api(unique))
    resolved = run(preflight(context(scn), [request(scn, "aws.ec2.stop", "api")]))
    assert resolved[0].ids == tagged
    assert all_running(tagged)


def test_dry_run_preflight_can_be_switched_off(
    unique: str, tagged: list[str], denied_credentials: None
) -> None:
    scn = scenario(api(unique), safety={**SAFE, "dry_run_preflight": False})
    resolved = run(preflight(context(scn, fresh=True), [request(scn, "aws.ec2.stop", "api")]))
    assert resolved[0].ids == tagged


def test_preflight_checks_every_aws_fault_and_skips_other_kinds(
    unique: str, tagged: list[str]
) -> None:
    scn = scenario(
        {**api(unique), "other": {"aws.ec2": {"region": "eu-west-1", "filters": {"tag:Role": "x"}}}}
    )
    first = request(scn, "aws.ec2.reboot", "api", fault_id="reboot-api")
    second = request(scn, "aws.ec2.stop", "other", fault_id="second")
    local = request(scn, "process.kill", None, fault_id="local")

    with pytest.raises(GuardrailError, match=r"fault second .* region eu-west-1"):
        run(preflight(context(scn), [local, first, second]))
    ok = run(preflight(context(scn), [local, first]))
    assert [r.fault_id for r in ok] == ["reboot-api"]
    assert all_running(tagged)


def test_resolve_targets_lists_exactly_what_would_be_hit_and_touches_nothing(
    unique: str, tagged: list[str]
) -> None:
    launch(2, {"Role": f"api-{unique}"})  # untagged: never listed
    scn = scenario(api(unique, select={"count": 1}), safety=None)  # resolving needs no safety
    resolved = run(
        resolve_targets(context(scn, seed=3), [request(scn, "aws.ec2.terminate", "api")])
    )

    (only,) = resolved
    assert len(only.ids) == 1 and only.ids[0] in tagged
    assert (only.matched, only.untagged, only.region) == (4, 2, REGION)
    assert only.summary().startswith(
        f"f1: aws.ec2.terminate on api (us-east-1): {only.ids[0]} [count 1: 1 of 2"
    )
    assert "2 without the allow tag left out" in only.summary()
    assert json.loads(json.dumps(only.to_json()))["resources"][0]["id"] == only.ids[0]
    assert all_running(tagged)


def test_resolve_targets_defaults_to_the_scenarios_aws_faults(
    unique: str, tagged: list[str]
) -> None:
    scn = scenario(
        {**api(unique), "proc": {"process": {"pattern": "never-matches"}}},
        faults=[
            {"id": "kill", "at": "1m", "kind": "aws.ec2.terminate", "target": "api"},
            {"id": "local", "at": "2m", "kind": "process.kill", "target": "proc"},
        ],
    )
    resolved = run(resolve_targets(context(scn)))
    assert [(r.fault_id, r.ids) for r in resolved] == [("kill", tagged)]


def test_profile_gives_region_and_credentials(
    unique: str, tagged: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "aws"
    config.mkdir(exist_ok=True)
    (config / "config").write_text(f"[profile drill]\nregion = {REGION}\n")
    (config / "credentials").write_text(
        "[drill]\naws_access_key_id = a\naws_secret_access_key = b\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    scn = scenario({"api": {"aws.ec2": {"filters": {"tag:Role": f"api-{unique}"}}}})  # no region

    resolved = run(
        preflight(context(scn, fresh=True, profile="drill"), [request(scn, "aws.ec2.stop", "api")])
    )

    assert (resolved[0].profile, resolved[0].region, resolved[0].ids) == ("drill", REGION, tagged)


def test_unknown_profile_is_one_line(unique: str) -> None:
    scn = scenario(
        {"api": {"aws.ec2": {"profile": "nope", "filters": {"tag:Role": f"api-{unique}"}}}}
    )
    with pytest.raises(UsageError) as caught:
        run(resolve_targets(context(scn, fresh=True), [request(scn, "aws.ec2.stop", "api")]))
    assert str(caught.value) == (
        "loading the AWS configuration on profile nope failed: "
        "ProfileNotFound: The config profile (nope) could not be found"
    )
