"""Templates: strict variables, the subject convention, languages, and the wording checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kunren.errors import InputError, UsageError
from kunren.notify.templates import (
    Rendered,
    TemplateSet,
    check_notice,
    discover,
    render_file,
)
from kunren.scenarios.models import Notifications
from tests.notify.conftest import TEMPLATES

FULL = {
    "service": "Shop",
    "affected_features": "search",
    "start_time": "2024-05-01 14:05",
    "now": "2024-05-01 14:30",
    "next_update_time": "15:00",
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_missing_variable_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "t.en.md.j2", "Subject: {{ service }} down\n\n{{ a }} {{ b }} {{ c }}\n")

    with pytest.raises(InputError) as caught:
        render_file(path, {"a": "1"})

    assert caught.value.lines == [
        f"{path}: undefined variable: b (give --var b=…)",
        f"{path}: undefined variable: c (give --var c=…)",
        f"{path}: undefined variable: service (give --var service=…)",
    ]


def test_an_undefined_variable_in_a_condition_is_an_error_too(tmp_path: Path) -> None:
    path = write(tmp_path, "t.md.j2", "Subject: x\n{% if eta %}soon{% endif %}\n")
    with pytest.raises(InputError, match="undefined variable: eta"):
        render_file(path, {})


def test_a_preview_shows_the_holes_instead_of_failing(tmp_path: Path) -> None:
    path = write(tmp_path, "t.md.j2", "Subject: {{ service }} down\n\nSince {{ start_time }}.\n")

    rendered = render_file(path, {"service": "Shop"}, strict=False)

    assert rendered.subject == "Shop down"
    assert rendered.body == "Since {{ start_time }}.\n"
    assert rendered.missing == ["start_time"]


def test_default_and_is_defined_do_not_count_as_missing(tmp_path: Path) -> None:
    text = "Subject: s\n{{ sig | default('team') }}{% if w is defined %}{{ w }}{% endif %}\n"
    path = write(tmp_path, "t.md.j2", text)
    assert render_file(path, {}).body == "team\n"


def test_subject_line_convention_in_english_and_japanese(tmp_path: Path) -> None:
    en = write(tmp_path, "a.md.j2", "{# note #}\n\nSubject:  Outage \n\nBody line\n")
    ja = write(tmp_path, "b.md.j2", "件名: 障害のお知らせ\n本文\n")
    bad = write(tmp_path, "c.md.j2", "Outage\n\nBody\n")

    assert (render_file(en, {}).subject, render_file(en, {}).body) == ("Outage", "Body line\n")
    assert (render_file(ja, {}).subject, render_file(ja, {}).body) == ("障害のお知らせ", "本文\n")
    with pytest.raises(InputError) as caught:
        render_file(bad, {})
    assert caught.value.lines == [f"{bad}:1: the first line must be 'Subject: …' (or '件名: …')"]


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.md.j2", "Subject: x\n\n{% if %}\n")
    with pytest.raises(InputError) as caught:
        render_file(path, {})
    (line,) = caught.value.lines
    assert line.startswith(f"{path}:3: template syntax: ")


def test_one_file_brings_its_siblings_in_other_languages() -> None:
    found = discover(TEMPLATES / "investigating.ja.md.j2", "en")
    assert found == {
        "ja": TEMPLATES / "investigating.ja.md.j2",
        "en": TEMPLATES / "investigating.en.md.j2",
    }
    assert discover(Path("/x/notice.md.j2"), "ja") == {"ja": Path("/x/notice.md.j2")}


def test_template_set_lists_languages_and_variables_and_refuses_unknown_ones() -> None:
    notes = Notifications.model_validate({"templates": {"investigating": "investigating.en.md.j2"}})
    templates = TemplateSet(notes, lambda rel: TEMPLATES / rel, default_lang="ja")

    (info,) = templates.info()
    assert info.languages == ["en", "ja"]
    assert {"service", "affected_features", "next_update_time"} <= set(info.variables)
    assert templates.path("investigating", None)[0] == "ja"
    with pytest.raises(UsageError, match="unknown template 'monitoring'"):
        templates.path("monitoring", None)
    with pytest.raises(UsageError, match=r"has no 'fr' version \(languages: en, ja\)"):
        templates.path("investigating", "fr")


def test_a_missing_template_file_is_reported_with_its_key(tmp_path: Path) -> None:
    notes = Notifications.model_validate(
        {"templates": {"resolved": {"en": "nope.en.md.j2"}, "x": "gone.md.j2"}}
    )
    with pytest.raises(InputError) as caught:
        TemplateSet(notes, lambda rel: tmp_path / rel)
    assert caught.value.lines == [
        "scenario.yaml: notifications.templates.resolved.en: nope.en.md.j2: no such file",
        "scenario.yaml: notifications.templates.x: gone.md.j2: no such file",
    ]


def rendered(subject: str, body: str, used: list[str]) -> Rendered:
    return Rendered(subject=subject, body=body, used=used)


def test_warns_about_a_notice_without_a_next_update_time() -> None:
    without = rendered("Down", "We are looking into it.\n", ["service"])
    empty = rendered("Down", "Next update by .\n", ["next_update_time"])
    given = rendered("Down", "Next update by 15:00.\n", ["next_update_time"])

    assert [w.code for w in check_notice("investigating", without, {})] == ["no-next-update"]
    assert [w.code for w in check_notice("identified", empty, {"next_update_time": " "})] == [
        "no-next-update"
    ]
    assert check_notice("investigating", given, {"next_update_time": "15:00"}) == []
    assert check_notice("resolved", without, {}) == []  # a final notice needs none


@pytest.mark.parametrize(
    "text",
    [
        "Service will be restored by 15:00.",
        "We expect to be back online within the hour.",
        "ETA: 30 minutes",
        "Estimated time of recovery: 16:00",
        "15時までに復旧する見込みです。",
        "復旧予定時刻は16時です。",
        "30分以内に復旧いたします。",
    ],
)
def test_warns_about_a_promised_recovery_time(text: str) -> None:
    notice = rendered("Down", text, ["next_update_time"])
    warnings = check_notice("investigating", notice, {"next_update_time": "15:00"})
    assert [w.code for w in warnings] == ["eta-promised"]


@pytest.mark.parametrize(
    "text",
    [
        "We will post the next update by 15:30.",
        "次回のご報告は15:30頃を予定しております。",
        "15:00に復旧いたしました。",
    ],
)
def test_promising_the_next_update_is_not_an_eta(text: str) -> None:
    notice = rendered("Down", text, ["next_update_time"])
    assert check_notice("investigating", notice, {"next_update_time": "15:30"}) == []


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.j2")), ids=lambda p: p.name)
def test_shipped_templates_render_clean_with_the_documented_variables(path: Path) -> None:
    result = render_file(path, FULL)
    state = path.name.split(".")[0]
    assert result.subject and "{{" not in result.subject + result.body
    assert check_notice(state, result, FULL) == []


@pytest.mark.parametrize(
    "path",
    sorted(p for p in TEMPLATES.glob("*.j2") if not p.name.startswith("resolved")),
    ids=lambda p: p.name,
)
def test_shipped_templates_warn_when_no_next_update_is_given(path: Path) -> None:
    values: dict[str, Any] = {k: v for k, v in FULL.items() if k != "next_update_time"}
    result = render_file(path, values)
    assert [w.code for w in check_notice(path.name.split(".")[0], result, values)] == [
        "no-next-update"
    ]
    assert "\n\n\n" not in result.body
