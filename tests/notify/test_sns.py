"""The SNS channel against moto's server mode, delivering into an SQS queue we can read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kunren.notify import NoticeRequest
from kunren.runtime.aws_session import RESOURCE_KEY, AwsSessions
from tests.notify.conftest import Drill, customers, shipped_templates, write_audience

pytestmark = [pytest.mark.integration, pytest.mark.aws]

REGION = "ap-northeast-1"


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield endpoint
    finally:
        server.stop()


def topic_with_queue(endpoint: str, name: str) -> tuple[str, Any, str]:
    import boto3

    sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, sqs, queue_url


def sns_drill(make_drill: Any, tmp_path: Any, topic: str, allow: list[str], lang: str) -> Drill:
    write_audience(tmp_path / "audiences" / "c.csv", customers(4, "example.jp"))
    drill: Drill = make_drill(
        {
            "templates": shipped_templates("investigating"),
            "audiences": {"customers": {"file": "audiences/c.csv"}},
            "channels": [{"sns": {"topic_arn": topic}}],
            "drill_allowlist": allow,
            "variables": {"service": "Shop", "affected_features": "search"},
        },
        lang=lang,
    )
    return drill


def test_sns_publishes_the_marked_notice_to_an_allowlisted_topic(
    make_drill: Any, tmp_path: Any, moto_endpoint: str
) -> None:
    topic, sqs, queue = topic_with_queue(moto_endpoint, "drill-notices")
    drill = sns_drill(make_drill, tmp_path, topic, [topic.rsplit(":", 1)[0] + ":drill-"], "ja")

    result = drill.service().send(
        NoticeRequest(template="investigating", vars={"next_update_time": "15:30"}),
        sender="alice",
        role="support",
    )

    (event,) = result.events
    assert (event.channel, event.status, event.delivered, event.failed) == ("sns", "sent", 1, [])
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    # SNS subjects must be ASCII: a Japanese subject becomes a stand-in, the message keeps it
    assert envelope["Subject"] == f"[DRILL] investigating notice {result.notice}"
    assert envelope["Message"].startswith("[DRILL] 【調査中】Shopでsearch")
    assert "[DRILL] これは訓練です。" in envelope["Message"]
    assert envelope["MessageAttributes"]["kunren.notice"]["Value"] == result.notice


def test_sns_topic_off_the_allowlist_is_captured_and_not_published(
    make_drill: Any, tmp_path: Any, moto_endpoint: str
) -> None:
    topic, sqs, queue = topic_with_queue(moto_endpoint, "customers-all")
    drill = sns_drill(make_drill, tmp_path, topic, ["@example.jp"], "en")

    result = drill.service().send(
        NoticeRequest(template="investigating", vars={"next_update_time": "15:30"}),
        sender="alice",
        role="support",
    )

    (event,) = result.events
    assert (event.status, event.delivered, event.captured) == ("sent", 0, 1)
    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []) == []
    captured = (drill.folder / "notices" / result.notice / "sns.json").read_text()
    assert captured.startswith("Subject: [DRILL] Shop: investigating a problem with search\n")


def test_an_unknown_topic_is_a_failed_notice_with_the_aws_error(
    make_drill: Any, tmp_path: Any, moto_endpoint: str
) -> None:
    missing = f"arn:aws:sns:{REGION}:123456789012:no-such-topic"
    drill = sns_drill(make_drill, tmp_path, missing, [missing], "en")

    result = drill.service().send(
        NoticeRequest(template="investigating", vars={"next_update_time": "15:30"}),
        sender="alice",
        role="support",
    )

    (event,) = result.events
    assert event.status == "failed"
    assert event.failed == [missing]
    assert event.note.startswith("NotFound:")


def test_sns_publishes_through_the_drills_aws_sessions_to_the_endpoint_it_names(
    make_drill: Any, tmp_path: Any, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic, sqs, queue = topic_with_queue(moto_endpoint, "drill-own-endpoint")
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only the channel's endpoint_url leads to moto
    write_audience(tmp_path / "audiences" / "c.csv", customers(2, "example.jp"))
    channel = {"sns": {"topic_arn": topic, "endpoint_url": moto_endpoint}}
    drill: Drill = make_drill(
        {
            "templates": shipped_templates("investigating"),
            "audiences": {"customers": {"file": "audiences/c.csv"}},
            "channels": [channel],
            "drill_allowlist": [topic],
            "variables": {"service": "Shop", "affected_features": "search"},
        },
        lang="en",
    )

    result = drill.service().send(
        NoticeRequest(template="investigating", vars={"next_update_time": "15:30"}),
        sender="alice",
        role="support",
    )

    (event,) = result.events
    assert (event.status, event.delivered, event.failed) == ("sent", 1, [])
    assert isinstance(drill.ctx.resources[RESOURCE_KEY], AwsSessions)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(messages[0]["Body"])["Subject"].startswith("[DRILL] Shop:")
