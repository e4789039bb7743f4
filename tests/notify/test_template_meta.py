"""A template describes itself for the person choosing it: title, when to use, its fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from kunren.errors import InputError
from kunren.notify.template_meta import read_meta, template_meta
from kunren.notify.templates import render_file
from tests.notify.conftest import TEMPLATES


def test_the_shipped_templates_have_titles_and_labels_in_both_languages() -> None:
    for state in ("investigating", "identified", "monitoring", "resolved"):
        files = {lang: TEMPLATES / f"{state}.{lang}.md.j2" for lang in ("ja", "en")}
        meta = template_meta(files)
        assert meta.text("title", "ja") and meta.text("title", "en") != meta.text("title", "ja")
        assert meta.text("when", "ja") and meta.text("when", "en")
        for name, help_ in meta.variables.items():
            assert help_.text("label", "ja") and help_.text("label", "en"), (state, name)
    meta = template_meta({"ja": TEMPLATES / "investigating.ja.md.j2"})
    assert (meta.text("title", "ja"), meta.text("when", "ja")) == (
        "調査中のお知らせ",
        "障害に気づいたらまず送る第一報",
    )
    workaround = meta.variables["workaround"]
    assert workaround.text("label", "ja") == "お客様にお願いする代替手段"
    assert workaround.text("example", "ja") == "お電話でのご予約"
    assert workaround.text("example", "en") == "booking by phone"


def test_the_block_never_reaches_customers() -> None:
    values = {"service": "Shop", "affected_features": "booking", "start_time": "14:00 JST"}
    rendered = render_file(TEMPLATES / "investigating.en.md.j2", values, strict=False)
    assert rendered.subject == "Shop: investigating a problem with booking"
    assert "kunren:" not in rendered.body and "title" not in rendered.body


def test_the_form_of_scenario_md_is_read_too(tmp_path: Path) -> None:
    text = (
        "{#- kunren:\n"
        "title: {ja: 調査中のお知らせ, en: Investigating}\n"
        "variables:\n"
        "  affected: {ja: 影響を受けている機能, en: What is affected, example: オンライン予約}\n"
        "  plain: Just a label\n"
        "-#}\nSubject: x\n"
    )
    meta = read_meta(tmp_path / "t.md.j2", text)
    assert meta.variables["affected"].text("label", "en") == "What is affected"
    assert meta.variables["affected"].text("example", "en") == "オンライン予約"
    assert meta.variables["plain"].text("label", "ja") == "Just a label"
    assert read_meta(tmp_path / "t.md.j2", "Subject: no block\n").title == {}


@pytest.mark.parametrize(
    ("block", "line", "key", "message"),
    [
        ("title: [unclosed\n", 4, "kunren", "not valid YAML"),  # where YAML gave up
        ("- a list\n", 3, "kunren", "expected a mapping"),
        ("title: {ja: x}\ncolour: red\n", 3, "kunren.colour", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_block_names_the_file_line_and_key(
    tmp_path: Path, block: str, line: int, key: str, message: str
) -> None:
    path = tmp_path / "bad.ja.md.j2"
    with pytest.raises(InputError) as caught:
        read_meta(path, "\n{#- kunren:\n" + block + "-#}\n件名: x\n")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (str(path), line, key)
    assert message in problem.message
