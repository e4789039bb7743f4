"""The intake on its own port: its own token (file or environment), only ``/intake/…``,
alerts held until the drill starts, and CloudWatch alarms through SNS with real signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from kunren.errors import UsageError
from kunren.page import LocalDrillControl, RunningServer, serve
from kunren.page.alerts import AlertDesk, IntakeOptions
from kunren.page.intake_server import build_intake_app, intake_token, sns_confirmer
from kunren.page.state import DrillView
from kunren.record.eventlog import EventLog
from kunren.record.events import Alert, DrillStarted, Event
from kunren.record.stream import read_record
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.models import Scenario
from tests.page.conftest import LoopThread

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
TOKEN = "intake-token-" + "t" * 24


def test_the_token_file_is_created_once_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "config" / "kunren" / "intake-token"
    token, where = intake_token(path, environ={})
    assert where == str(path) and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert intake_token(path, environ={}) == (token, str(path))  # stable across drills


def test_the_environment_variable_wins_and_short_tokens_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "intake-token"
    assert intake_token(path, environ={"KUNREN_INTAKE_TOKEN": TOKEN}) == (
        TOKEN,
        "$KUNREN_INTAKE_TOKEN",
    )
    assert not path.exists()
    with pytest.raises(UsageError, match="too short"):
        intake_token(path, environ={"KUNREN_INTAKE_TOKEN": "abc"})
    path.write_text("short\n")
    with pytest.raises(UsageError, match="at least 16 characters"):
        intake_token(path, environ={})


@dataclass
class Intake:
    control: LocalDrillControl
    clock: VirtualClock
    log: EventLog
    desk: AlertDesk
    server: RunningServer
    loop: LoopThread

    def post(self, source: str, body: Any, token: str = TOKEN) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(
            f"{self.server.url}/intake/{source}",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10.0,
        )

    def alerts(self) -> list[Alert]:
        return [e for e in read_record(self.log.path).events if isinstance(e, Alert)]

    def start(self) -> Event:
        """``drill.started`` at drill time 0, as the conductor records it."""
        started = DrillStarted(drill="d-1", scenario_id="s", duration=3600, clock="virtual")
        return self.control.recorder.record(started, at=0.0)


def open_intake(tmp_path: Path, **options: Any) -> Intake:
    scenario = Scenario.model_validate(
        {"version": 1, "id": "s", "title": "t", "duration": "60m", "intake": {"port": 0}}
    )
    log = EventLog.create(tmp_path / "drills" / "d-1", "version: 1\n")
    clock = VirtualClock()
    control = LocalDrillControl(
        scenario,
        log,
        clock,
        participant_token="participant-" + "p" * 20,
        facilitator_token="facilitator-" + "f" * 20,
    )
    desk = AlertDesk(
        control,
        DrillView(control),
        IntakeOptions(token=TOKEN, hold_until_started=True, **options),
        record_at=lambda event, at: control.recorder.record(event, at),
    )
    loop = LoopThread()
    server = loop.run(serve(build_intake_app(desk), "127.0.0.1", 0))
    return Intake(control, clock, log, desk, server, loop)


def close_intake(intake: Intake) -> None:
    try:
        intake.loop.run(intake.server.stop())
    finally:
        intake.loop.close()


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[Intake]:
    running = open_intake(tmp_path)
    try:
        yield running
    finally:
        close_intake(running)


def test_alerts_before_the_drill_starts_are_held_then_recorded_before_t0(
    intake: Intake,
) -> None:
    early = {"name": "shop 5xx", "status": "firing", "id": "shop-5xx"}
    assert intake.post("generic", early).json() == {
        "recorded": 0,
        "held": 1,
        "until": "the drill starts",
    }
    assert intake.alerts() == []
    intake.clock.advance(30)
    intake.start()
    assert intake.desk.release() == 1
    (alert,) = intake.alerts()
    assert (alert.name, alert.at) == ("shop 5xx", -30.0)
    resolved = intake.post("generic", {"name": "shop 5xx", "status": "OK", "id": "shop-5xx"})
    assert resolved.json() == {"recorded": 1, "unchanged": 0}


def test_the_intake_port_serves_nothing_but_alerts_and_only_for_its_token(
    intake: Intake,
) -> None:
    intake.start()
    body = {"name": "disk", "status": "firing"}
    assert intake.post("generic", body, token="participant-" + "p" * 20).status_code == 401
    assert intake.post("generic", body).status_code == 200
    with httpx.Client(base_url=intake.server.url, timeout=5.0) as http:
        assert http.get("/", params={"token": TOKEN}).status_code == 404
        assert (
            http.get("/facilitator", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
            == 404
        )
        assert http.get("/intake/generic").status_code == 405


# ---------------------------------------------------------------------- SNS


@dataclass(frozen=True)
class Signer:
    key: rsa.RSAPrivateKey
    pem: bytes

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        # The string to sign, written out as AWS documents it (not kunren's own function).
        if message["Type"] == "Notification":
            keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            keys = [
                "Message",
                "MessageId",
                "SubscribeURL",
                "Timestamp",
                "Token",
                "TopicArn",
                "Type",
            ]
        text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), algorithm)
        return message | {
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
        }


def make_signer() -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.us-east-1.amazonaws.com")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return Signer(key, cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def signer() -> Signer:
    return make_signer()


class Receiver:
    """A real local HTTP server standing in for SNS's SubscribeURL endpoint."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                body = b"<ConfirmSubscriptionResponse/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def sns(tmp_path: Path, signer: Signer) -> Iterator[tuple[Intake, Receiver]]:
    receiver = Receiver()
    running = open_intake(
        tmp_path, sns_certificate=signer.pem, sns_confirm=sns_confirmer(r"127\.0\.0\.1")
    )
    running.start()
    try:
        yield running, receiver
    finally:
        close_intake(running)
        receiver.close()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def test_an_sns_subscription_is_confirmed_by_visiting_its_subscribe_url(
    sns: tuple[Intake, Receiver], signer: Signer
) -> None:
    intake, receiver = sns
    message = load("sns-subscription-confirmation.json")
    message["SubscribeURL"] = receiver.url + "/?Action=ConfirmSubscription&Token=2336412f"
    reply = intake.post("sns", signer.sign(message))
    assert reply.json() == {"confirmed": "arn:aws:sns:us-west-2:123456789012:MyTopic"}
    assert receiver.paths == ["/?Action=ConfirmSubscription&Token=2336412f"]


def test_a_subscribe_url_off_sns_is_never_visited(
    sns: tuple[Intake, Receiver], signer: Signer
) -> None:
    intake, receiver = sns
    message = load("sns-subscription-confirmation.json")
    message["SubscribeURL"] = "http://169.254.169.254/latest/meta-data/"
    reply = intake.post("sns", signer.sign(message))
    assert reply.status_code == 502 and "not an SNS endpoint" in reply.json()["error"]
    assert receiver.paths == []


def test_cloudwatch_alarms_through_sns_are_recorded_by_alarm_arn(
    sns: tuple[Intake, Receiver], signer: Signer
) -> None:
    intake, _ = sns
    alarm = load("sns-cloudwatch-alarm.json")
    assert intake.post("sns", signer.sign(alarm)).json() == {"recorded": 1, "unchanged": 0}
    ok = json.loads(alarm["Message"]) | {
        "NewStateValue": "OK",
        "OldStateValue": "ALARM",
        "StateChangeTime": "2015-06-03T17:48:27.123+0000",
    }
    recovered = alarm | {"Message": json.dumps(ok), "MessageId": "2"}
    assert intake.post("sns", signer.sign(recovered, version="2")).json()["recorded"] == 1
    firing, resolved = intake.alerts()
    assert (firing.source, firing.name, firing.status) == ("cloudwatch", "EXAMPLE", "firing")
    assert (
        firing.identity
        == resolved.identity
        == "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE"
    )
    assert firing.starts_at == "2015-06-03T17:43:27.123000+00:00"
    assert resolved.ends_at == "2015-06-03T17:48:27.123000+00:00"
    assert firing.labels == {
        "account": "123456789012",
        "region": "EXAMPLE",
        "namespace": "AWS/EC2",
        "metricname": "NetworkOut",
    }


def test_an_sns_message_with_a_wrong_signature_or_no_certificate_is_refused(
    sns: tuple[Intake, Receiver], signer: Signer, tmp_path: Path
) -> None:
    intake, _ = sns
    alarm = signer.sign(load("sns-cloudwatch-alarm.json"))
    tampered = alarm | {"Message": alarm["Message"].replace("ALARM", "OK")}
    reply = intake.post("sns", tampered)
    assert reply.status_code == 400 and "signature does not match" in reply.json()["error"]
    other = make_signer().sign(load("sns-cloudwatch-alarm.json"))
    assert intake.post("sns", other).status_code == 400
    assert intake.alerts() == []
    unconfigured = open_intake(tmp_path / "other")
    try:
        unconfigured.start()
        refused = unconfigured.post("sns", alarm)
        assert refused.status_code == 400 and "intake.sns_certificate" in refused.json()["error"]
    finally:
        close_intake(unconfigured)


def test_the_page_of_a_drill_without_an_intake_key_uses_an_intake_token_made_already(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kunren.page.intake_server import existing_intake_token

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUNREN_INTAKE_TOKEN", raising=False)
    assert existing_intake_token() is None  # none made: the page takes no alerts
    assert not (tmp_path / ".config").exists()  # and asking made none
    monkeypatch.setenv("KUNREN_INTAKE_TOKEN", TOKEN)
    assert existing_intake_token() == TOKEN
    monkeypatch.delenv("KUNREN_INTAKE_TOKEN")
    made = tmp_path / ".config" / "kunren" / "intake-token"
    made.parent.mkdir(parents=True)
    made.write_text("f" * 32 + "\n", encoding="utf-8")
    assert existing_intake_token() == "f" * 32
