"""Slack-style and generic webhooks against a real local HTTP receiver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kunren.errors import PluginError, ScenarioError
from kunren.notify import NoticeRequest
from tests.notify.conftest import Drill, Receiver, customers, shipped_templates, write_audience

pytestmark = pytest.mark.integration

VARS = {"service": "Shop", "affected_features": "search", "next_update_time": "15:30"}


def hook_drill(make_drill: Any, tmp_path: Any, channels: list[Any], allow: list[str]) -> Drill:
    write_audience(tmp_path / "audiences" / "c.csv", customers(3, "example.jp"))
    drill: Drill = make_drill(
        {
            "templates": shipped_templates("investigating"),
            "audiences": {"customers": {"file": "audiences/c.csv"}},
            "channels": channels,
            "drill_allowlist": allow,
            "variables": VARS,
        },
        lang="ja",
    )
    return drill


def send(drill: Drill, **kwargs: Any) -> Any:
    return drill.service(**kwargs).send(
        NoticeRequest(template="investigating"), sender="alice", role="support"
    )


def test_slack_webhook_posts_one_marked_message(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver
) -> None:
    url = f"{http_receiver.url}/services/T000/B000/drill"
    drill = hook_drill(
        make_drill,
        tmp_path,
        [{"slack": {"url": url, "username": "kunren"}}],
        [f"{http_receiver.url}/services/"],
    )

    result = send(drill)

    (post,) = http_receiver.posts
    assert post.path == "/services/T000/B000/drill"
    assert post.headers["Content-Type"] == "application/json; charset=utf-8"
    payload = post.json()
    assert payload["username"] == "kunren"
    first_line, rest = payload["text"].split("\n", 1)
    assert first_line == "*[DRILL] 【調査中】Shopでsearchがご利用いただけない状況について*"
    assert rest.startswith("[DRILL] これは訓練です。")
    (event,) = result.events
    assert (event.channel, event.status, event.recipients, event.delivered) == (
        "slack",
        "sent",
        1,
        1,
    )


def test_generic_webhook_posts_the_notice_as_json_with_headers_from_env(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILL_HOOK_URL", f"{http_receiver.url}/hook")
    monkeypatch.setenv("DRILL_HOOK_TOKEN", "Bearer t0ken")
    channel = {
        "webhook": {
            "url_env": "DRILL_HOOK_URL",
            "headers": {"X-Team": "support"},
            "headers_env": {"Authorization": "DRILL_HOOK_TOKEN"},
        }
    }
    drill = hook_drill(make_drill, tmp_path, [channel], [http_receiver.url])

    result = send(drill)

    (post,) = http_receiver.posts
    assert post.headers["Authorization"] == "Bearer t0ken"
    assert post.headers["X-Team"] == "support"
    payload = post.json()
    assert payload["kunren"] == 1
    assert payload["notice"] == result.notice
    assert (payload["state"], payload["lang"], payload["audience"], payload["sender"]) == (
        "investigating",
        "ja",
        "customers",
        "alice",
    )
    assert payload["subject"].startswith("[DRILL] ")
    assert payload["marker"] == "[DRILL]"
    assert "[DRILL]" in payload["body"]


def test_a_webhook_not_on_the_allowlist_is_captured_and_never_posted(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver
) -> None:
    url = f"{http_receiver.url}/hook"
    drill = hook_drill(make_drill, tmp_path, [{"webhook": {"url": url}}], ["@example.jp"])

    result = send(drill)

    assert http_receiver.posts == []
    (event,) = result.events
    assert (event.status, event.delivered, event.captured) == ("sent", 0, 1)
    captured = json.loads((drill.folder / "notices" / result.notice / "webhook.json").read_text())
    assert captured["notice"] == result.notice
    line = json.loads((drill.folder / "notices" / "captured.jsonl").read_text())
    assert (line["channel"], line["recipient"], line["reason"]) == (
        "webhook",
        url,
        "not on the drill allowlist",
    )


def test_live_notifications_reach_a_webhook_off_the_allowlist(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver
) -> None:
    drill = hook_drill(make_drill, tmp_path, [{"webhook": {"url": f"{http_receiver.url}/h"}}], [])

    result = send(drill, live=True)

    assert len(http_receiver.posts) == 1
    (event,) = result.events
    assert event.live is True and event.delivered == 1


def test_a_receiver_error_is_a_failed_notice_with_the_reason(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver
) -> None:
    http_receiver.status[0] = 503
    url = f"{http_receiver.url}/hook"
    drill = hook_drill(
        make_drill, tmp_path, ["capture", {"webhook": {"url": url}}], [http_receiver.url]
    )

    result = send(drill)

    by_channel = {r.channel: r for r in result.results}
    assert by_channel["capture"].event.status == "sent"
    failed = by_channel["webhook"]
    assert failed.event.status == "failed"
    assert failed.event.failed == [url]
    assert failed.event.note == "HTTP 503: receiver is down"


def test_webhook_settings_are_checked_before_anything_is_sent(
    make_drill: Any, tmp_path: Any, http_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_HOOK_URL", raising=False)
    drill = hook_drill(
        make_drill, tmp_path, ["capture", {"slack": {"url_env": "NO_SUCH_HOOK_URL"}}], []
    )
    with pytest.raises(PluginError, match="slack url: environment variable NO_SUCH_HOOK_URL"):
        send(drill)
    assert drill.notifications() == []

    both = hook_drill(make_drill, tmp_path, [{"webhook": {"url": "http://x", "url_env": "Y"}}], [])
    with pytest.raises(ScenarioError) as caught:
        send(both)
    assert caught.value.lines == [
        "scenario.yaml: notifications.channels[0].webhook: give exactly one of url or url_env"
    ]


def test_a_channel_needing_settings_the_scenario_lacks_is_named(
    make_drill: Any, tmp_path: Any
) -> None:
    drill = hook_drill(make_drill, tmp_path, ["capture"], [])
    with pytest.raises(ScenarioError) as caught:
        drill.service().send(
            NoticeRequest(template="investigating", channels=["email"]), sender="a", role="x"
        )
    assert caught.value.lines == [
        "scenario.yaml: notifications.channels: email is not configured in this scenario "
        "(from: Field required)"
    ]
    assert drill.notifications() == []
