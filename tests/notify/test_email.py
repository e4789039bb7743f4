"""The email channel against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import ssl
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

import pytest

from kunren.errors import PluginError
from kunren.notify import NoticeRequest
from kunren.runtime.ports import free_port
from tests.notify.conftest import Drill, customers, shipped_templates, write_audience

pytestmark = pytest.mark.integration

VARS = {"service": "Shop", "affected_features": "booking", "next_update_time": "15:30"}


def email_drill(make_drill: Any, tmp_path: Path, port: int, rows: list[Any], **email: Any) -> Drill:
    write_audience(tmp_path / "audiences" / "customers.csv", rows)
    params = {"host": "127.0.0.1", "port": port, "from": "drill@example.com", "concurrency": 8}
    params.update(email)
    drill: Drill = make_drill(
        {
            "templates": shipped_templates("investigating"),
            "audiences": {"customers": {"file": "audiences/customers.csv"}},
            "channels": ["capture", {"email": params}],
            "drill_allowlist": ["@drill.example.com", "customer0300@example.jp"],
        }
    )
    return drill


def parsed(received: list[Any]) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(r.content, policy=policy.default) for r in received]


def test_500_recipients_allowed_ones_arrive_once_marked_the_rest_captured(
    make_drill: Any, tmp_path: Path, smtp_server: Any
) -> None:
    handler, port = smtp_server()
    rows = customers(300, "drill.example.com") + customers(200, "example.jp", start=300)
    drill = email_drill(make_drill, tmp_path, port, rows)
    allowed = {r[0] for r in rows[:300]} | {"customer0300@example.jp"}

    result = drill.service().send(
        NoticeRequest(template="investigating", vars=VARS), sender="alice", role="support"
    )

    arrived = Counter(rcpt for message in handler.messages for rcpt in message.rcpt_tos)
    assert set(arrived) == allowed
    assert set(arrived.values()) == {1}
    assert all(len(message.rcpt_tos) == 1 for message in handler.messages)
    language = {r[0]: r[3] for r in rows}
    for message in parsed(handler.messages):  # each recipient in their own language
        if language[str(message["To"].addresses[0].addr_spec)] == "ja":
            assert message["Subject"].startswith("[DRILL] 【調査中】Shop")
            assert message.get_content().startswith("[DRILL] これは訓練です。")
        else:
            assert message["Subject"].startswith("[DRILL] Shop: investigating")
            assert message.get_content().startswith("[DRILL] This is a drill.")
        assert message["X-Kunren-Notice"] == result.notice
    by_channel = {e.channel: e for e in drill.notifications()}
    sent = by_channel["email"]
    assert (sent.status, sent.recipients, sent.delivered, sent.captured, sent.failed) == (
        "sent",
        500,
        301,
        199,
        [],
    )
    assert (sent.sender, sent.role, sent.template, sent.audience) == (
        "alice",
        "support",
        "investigating",
        "customers",
    )
    assert sent.languages == {"en": 250, "ja": 250}
    capture = by_channel["capture"]
    assert (capture.recipients, capture.delivered, capture.captured) == (500, 0, 500)

    notices = drill.folder / "notices"
    lines = [json.loads(line) for line in (notices / "captured.jsonl").read_text().splitlines()]
    held = [line["recipient"] for line in lines if line["channel"] == "email"]
    assert sorted(held) == sorted({r[0] for r in rows} - allowed)
    assert {line["reason"] for line in lines if line["channel"] == "email"} == {
        "not on the drill allowlist"
    }
    held_file = notices / result.notice / "customer0301@example.jp.txt"
    assert "[DRILL]" in held_file.read_text(encoding="utf-8")
    deliveries = (notices / "deliveries.jsonl").read_text().splitlines()
    assert len(deliveries) == 301


def test_a_refused_recipient_is_reported_and_the_rest_are_delivered(
    make_drill: Any, tmp_path: Path, smtp_server: Any
) -> None:
    bad = "customer0007@drill.example.com"
    handler, port = smtp_server(refuse={bad})
    rows = customers(40, "drill.example.com")
    drill = email_drill(make_drill, tmp_path, port, rows)

    result = drill.service().send(
        NoticeRequest(template="investigating", vars=VARS, channels=["email"]),
        sender="bob",
        role="support",
    )

    arrived = {rcpt for message in handler.messages for rcpt in message.rcpt_tos}
    assert arrived == {r[0] for r in rows} - {bad}
    (item,) = result.results
    assert [(f.recipient, f.reason) for f in item.failures] == [
        (bad, "550 5.1.1 mailbox unavailable")
    ]
    (event,) = drill.notifications()
    assert (event.status, event.delivered, event.failed) == ("sent", 39, [bad])
    assert result.failed_count == 1 and not result.ok


def test_an_unreachable_server_fails_the_email_channel_but_not_capture(
    make_drill: Any, tmp_path: Path
) -> None:
    closed = _closed_port()
    drill = email_drill(make_drill, tmp_path, closed, customers(5, "drill.example.com"))

    result = drill.service().send(
        NoticeRequest(template="investigating", vars=VARS), sender="bob", role="support"
    )

    by_channel = {e.channel: e for e in result.events}
    assert by_channel["capture"].status == "sent"
    failed = by_channel["email"]
    assert failed.status == "failed"
    assert len(failed.failed) == 5
    assert failed.note.startswith(f"cannot reach 127.0.0.1:{closed}")
    assert {f.recipient for f in result.results[1].failures} == set(failed.failed)


def _closed_port() -> int:
    return free_port()  # nothing listens there once the probe socket is closed


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_and_login_with_credentials_from_the_environment(
    make_drill: Any, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.smtp import AuthResult

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (data.login, data.password) == (b"drill-sender", b"s3cret")
        if ok:
            logins.append(data.login.decode())
        return AuthResult(success=ok)

    handler, port = smtp_server(
        tls_context=context, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    monkeypatch.setenv("DRILL_SMTP_USER", "drill-sender")
    monkeypatch.setenv("DRILL_SMTP_PASSWORD", "s3cret")
    drill = email_drill(
        make_drill,
        tmp_path,
        port,
        customers(6, "drill.example.com"),
        starttls=True,
        ca_file=str(cert),
        username_env="DRILL_SMTP_USER",
        password_env="DRILL_SMTP_PASSWORD",
        concurrency=2,
    )

    result = drill.service().send(
        NoticeRequest(template="investigating", vars=VARS, channels=["email"]),
        sender="bob",
        role="support",
    )

    assert result.ok
    assert len(handler.messages) == 6
    assert logins and set(logins) == {"drill-sender"}


def test_a_missing_password_variable_sends_nothing_and_records_nothing(
    make_drill: Any, tmp_path: Path, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp_server()
    monkeypatch.setenv("DRILL_SMTP_USER", "drill-sender")
    monkeypatch.delenv("NO_SUCH_SMTP_PASSWORD", raising=False)
    drill = email_drill(
        make_drill,
        tmp_path,
        port,
        customers(3, "drill.example.com"),
        username_env="DRILL_SMTP_USER",
        password_env="NO_SUCH_SMTP_PASSWORD",
    )

    with pytest.raises(PluginError) as caught:
        drill.service().send(
            NoticeRequest(template="investigating", vars=VARS), sender="bob", role="support"
        )

    assert str(caught.value) == (
        "email password: environment variable NO_SUCH_SMTP_PASSWORD is not set"
    )
    assert handler.messages == []
    assert drill.notifications() == []
    assert not (drill.folder / "notices").exists()
