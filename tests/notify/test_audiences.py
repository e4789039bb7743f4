"""Audiences (CSV and YAML, filters, counts) and the drill allowlist and marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from kunren.errors import InputError, UsageError
from kunren.notify.audiences import AudienceBook, load_recipients
from kunren.notify.message import Recipient
from kunren.notify.safety import Allowlist, mark_body, mark_subject
from kunren.scenarios.models import Notifications
from tests.notify.conftest import REPO


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_columns_in_any_order_with_lang_alias_and_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        "\ufeffName,EMAIL,lang,segment,phone\n"
        "佐藤 花子,hanako@example.jp,ja,premium,000\n"
        "\n"
        "Bob,bob@example.com,en,,111\n",
    )
    recipients, duplicates = load_recipients(path)
    assert recipients == [
        Recipient(email="hanako@example.jp", name="佐藤 花子", segment="premium", language="ja"),
        Recipient(email="bob@example.com", name="Bob", segment="", language="en"),
    ]
    assert duplicates == 0


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "email,name\nok@example.com,A\nnot-an-address,B\n,C\n")
    with pytest.raises(InputError) as caught:
        load_recipients(path)
    assert caught.value.lines == [
        f"{path}:3: email: not an email address: 'not-an-address'",
        f"{path}:4: email: not an email address: ''",
    ]


def test_a_file_without_an_email_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "mail,name\nx@example.com,A\n")
    with pytest.raises(InputError) as caught:
        load_recipients(path)
    assert caught.value.lines == [f"{path}:1: no 'email' column (columns: mail, name)"]


def test_duplicate_addresses_are_merged_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "email\na@example.com\nA@Example.com\nb@example.com\n")
    recipients, duplicates = load_recipients(path)
    assert [r.email for r in recipients] == ["a@example.com", "b@example.com"]
    assert duplicates == 1


def test_yaml_audiences_as_a_list_or_under_recipients_with_lines(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.yaml", "- {email: a@example.jp, language: ja}\n- email: b@x.jp\n")
    nested = write(
        tmp_path / "b.yml",
        "recipients:\n  - email: c@example.com\n    segment: partner\n  - email: broken\n",
    )
    assert [r.email for r in load_recipients(plain)[0]] == ["a@example.jp", "b@x.jp"]
    with pytest.raises(InputError) as caught:
        load_recipients(nested)
    assert caught.value.lines == [f"{nested}:4: email: not an email address: 'broken'"]


def test_segment_and_language_filters_and_counts(tmp_path: Path) -> None:
    write(
        tmp_path / "all.csv",
        "email,segment,language\n"
        "a@example.jp,premium,ja\nb@example.jp,standard,ja\n"
        "c@example.com,premium,en\nd@example.com,partner,\n",
    )
    notes = Notifications.model_validate(
        {
            "audiences": {
                "everyone": {"file": "all.csv"},
                "premium": {"file": "all.csv", "segment": "premium"},
                "paying-ja": {"file": "all.csv", "segment": ["premium", "standard"], "lang": "ja"},
                "english": {"file": "all.csv", "lang": "en"},
            },
            "drill_allowlist": ["@example.com"],
        }
    )
    book = AudienceBook(notes, lambda rel: tmp_path / rel, default_lang="en")

    counts = {info.name: (info.count, info.allowed) for info in book.info(Allowlist(), False)}
    assert counts == {"everyone": (4, 0), "premium": (2, 0), "paying-ja": (2, 0), "english": (2, 0)}
    allow = Allowlist.of(notes.drill_allowlist)
    everyone = next(i for i in book.info(allow, live=False) if i.name == "everyone")
    assert (everyone.allowed, everyone.segments, everyone.languages) == (
        2,
        {"premium": 2, "standard": 1, "partner": 1},
        {"ja": 2, "en": 2},
    )
    assert next(i for i in book.info(allow, live=True) if i.name == "everyone").allowed == 4
    with pytest.raises(UsageError, match="give an audience"):
        book.default_name()
    with pytest.raises(UsageError, match="unknown audience 'vip'"):
        book.load("vip")


def test_allowlist_matches_exact_addresses_domains_and_destination_prefixes() -> None:
    allow = Allowlist.of(
        [" ops@Example.com ", "@drill.example.jp", "https://hooks.example.com/services/T1/", ""]
    )
    assert allow.allows_address("OPS@example.com")
    assert allow.allows_address("anyone@drill.example.jp")
    assert not allow.allows_address("anyone@sub.drill.example.jp")
    assert not allow.allows_address("ops2@example.com")
    assert not allow.allows_address("x@example.jp")
    assert allow.allows_destination("https://hooks.example.com/services/T1/B2/xyz")
    assert not allow.allows_destination("https://hooks.example.com/services/T2/B2/xyz")
    assert not allow.allows_destination("ops@example.com")


def test_the_drill_marker_is_added_once_in_the_notice_language() -> None:
    assert mark_subject("Outage") == "[DRILL] Outage"
    assert mark_subject("[DRILL] Outage") == "[DRILL] Outage"
    assert (
        mark_body("本文\n", "ja")
        == "[DRILL] これは訓練です。実際のサービスへの影響はありません。\n\n本文\n"
    )
    assert mark_body("Body\n", "fr").startswith("[DRILL] This is a drill.")
    assert mark_body("[DRILL] already\n", "en") == "[DRILL] already\n"


def test_the_shipped_drill_audience_uses_example_domains_only() -> None:
    recipients, duplicates = load_recipients(REPO / "scenarios/audiences/drill-customers.csv")
    assert recipients and duplicates == 0
    assert {r.email.rpartition("@")[2] for r in recipients} <= {"example.com", "example.jp"}
    assert {r.language for r in recipients} == {"ja", "en"}
