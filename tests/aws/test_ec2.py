"""EC2 faults against moto: exactly the allowed, capped selection is hit, and reverted."""

from __future__ import annotations

import json

import pytest

from kunren.errors import GuardrailError, InjectionError
from tests.aws.helpers import (
    ALLOW,
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


def fleet(unique: str, tagged: int = 3, untagged: int = 3) -> tuple[list[str], list[str]]:
    role = {"Role": f"web-{unique}"}
    return launch(tagged, {**role, **ALLOW}), launch(untagged, role)


def web(unique: str, **spec: object) -> dict[str, object]:
    return {
        "web": {
            "aws.ec2": {"region": "us-east-1", "filters": {"tag:Role": f"web-{unique}"}, **spec}
        }
    }


def test_stop_hits_only_tagged_capped_selection_and_revert_starts_them(unique: str) -> None:
    tagged, untagged = fleet(unique)
    scn = scenario(web(unique, select={"count": 2}))
    ctx = context(scn, seed=7)
    stop = injector(ctx, request(scn, "aws.ec2.stop", "web", fault_id="stop-web"))

    planned = run(stop.plan())
    injected = run(stop.inject())

    assert injected.targets == planned.targets
    assert len(injected.targets) == 2
    assert set(injected.targets) <= set(tagged)
    after = states(tagged + untagged)
    assert {i for i, s in after.items() if s == "stopped"} == set(injected.targets)
    assert all(after[i] == "running" for i in untagged)
    assert "seed 7:stop-web" in injected.detail

    # The handle alone undoes it, in what could be a new process: a fresh context and injector.
    assert injected.revert is not None
    handle = json.loads(json.dumps(injected.revert))
    fresh = injector(context(scn, fresh=True), request(scn, "aws.ec2.stop", "web"))
    said = run(fresh.revert(handle))

    assert all(state == "running" for state in states(tagged + untagged).values())
    assert said.startswith("started ")


def test_same_seed_chooses_same_instances_and_another_seed_may_differ(unique: str) -> None:
    tagged, _ = fleet(unique, tagged=5, untagged=0)
    scn = scenario(web(unique, select={"count": 2}))
    req = request(scn, "aws.ec2.stop", "web")

    def choice(seed: int) -> list[str]:
        return run(injector(context(scn, seed=seed), req).plan()).targets

    assert choice(1) == choice(1)
    assert len({tuple(choice(seed)) for seed in range(8)}) > 1
    assert all(states(tagged)[i] == "running" for i in tagged)  # plan touched nothing


def test_percent_selection_rounds_up_within_tagged(unique: str) -> None:
    tagged, _ = fleet(unique, tagged=3, untagged=2)
    scn = scenario(web(unique, select={"percent": 50}))
    planned = run(injector(context(scn), request(scn, "aws.ec2.reboot", "web")).plan())

    assert len(planned.targets) == 2  # ceil(3 * 50%)
    assert set(planned.targets) <= set(tagged)


def test_reboot_acts_on_the_selection_and_has_nothing_to_undo(unique: str) -> None:
    tagged, untagged = fleet(unique, tagged=2, untagged=2)
    scn = scenario(web(unique))
    injected = run(injector(context(scn), request(scn, "aws.ec2.reboot", "web")).inject())

    assert sorted(injected.targets) == tagged
    assert injected.revert is None
    assert all(state == "running" for state in states(tagged + untagged).values())


def test_terminate_terminates_exactly_one_chosen_instance(unique: str) -> None:
    tagged, untagged = fleet(unique)
    scn = scenario(web(unique, select={"count": 1}))
    injected = run(injector(context(scn), request(scn, "aws.ec2.terminate", "web")).inject())

    after = states(tagged + untagged)
    assert [i for i, s in after.items() if s == "terminated"] == injected.targets
    assert injected.targets[0] in tagged
    assert injected.revert is None


def test_more_tagged_matches_than_max_targets_is_refused_not_truncated(unique: str) -> None:
    tagged, untagged = fleet(unique)  # three tagged, max_targets 2, no select
    scn = scenario(web(unique))

    with pytest.raises(
        GuardrailError, match=r"3 resources chosen .* more than safety.max_targets=2"
    ):
        run(injector(context(scn), request(scn, "aws.ec2.terminate", "web")).inject())

    assert all(state == "running" for state in states(tagged + untagged).values())


def test_named_untagged_instance_is_refused(unique: str) -> None:
    tagged, untagged = fleet(unique, tagged=1, untagged=1)
    scn = scenario({"web": {"aws.ec2": {"ids": [untagged[0]]}}})

    with pytest.raises(
        GuardrailError, match=rf"{untagged[0]} in us-east-1 lacks the allow tag kunren:allow=true"
    ):
        run(injector(context(scn), request(scn, "aws.ec2.stop", "web")).inject())

    assert all(state == "running" for state in states(tagged + untagged).values())


def test_filters_matching_only_untagged_instances_are_refused(unique: str) -> None:
    _, untagged = fleet(unique, tagged=0, untagged=2)
    scn = scenario(web(unique))

    with pytest.raises(GuardrailError, match="matched 2 resources in us-east-1, none tagged"):
        run(injector(context(scn), request(scn, "aws.ec2.stop", "web")).inject())
    assert all(state == "running" for state in states(untagged).values())


def test_dry_run_context_resolves_and_guards_but_changes_nothing(unique: str) -> None:
    tagged, _ = fleet(unique, tagged=1, untagged=0)
    scn = scenario(web(unique))
    injected = run(
        injector(context(scn, dry_run=True), request(scn, "aws.ec2.terminate", "web")).inject()
    )

    assert injected.targets == tagged
    assert injected.detail.startswith("dry run, nothing changed")
    assert states(tagged) == {tagged[0]: "running"}


def test_unknown_instance_id_is_one_readable_line(unique: str) -> None:
    scn = scenario({"web": {"aws.ec2": {"ids": ["i-0123456789abcdef0"]}}})

    with pytest.raises(InjectionError) as caught:
        run(injector(context(scn), request(scn, "aws.ec2.stop", "web")).plan())

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("DescribeInstances on target web (us-east-1) failed: ")
    assert "InvalidInstanceID.NotFound" in message


def test_revert_of_instances_terminated_meanwhile_says_so(unique: str) -> None:
    tagged, _ = fleet(unique, tagged=1, untagged=0)
    scn = scenario(web(unique))
    stop = injector(context(scn), request(scn, "aws.ec2.stop", "web"))
    injected = run(stop.inject())
    client("ec2").terminate_instances(InstanceIds=tagged)
    assert injected.revert is not None
    said = run(stop.revert(injected.revert))

    assert said == f"no stopped instance to start; gone meanwhile: {tagged[0]}"
