"""Notice wording: jinja2 templates per public state and language, strict about variables.

Wording prepared before the outage is what lets anyone send the first notice quickly, so the
templates are files a team keeps beside its scenarios (``scenarios/templates/``), one per
public state (investigating, identified, monitoring, resolved, or any the team adds) and per
language: ``investigating.ja.md.j2``, ``investigating.en.md.j2``.

Convention: after rendering, the first non-blank line is ``Subject: …`` (or ``件名: …``) and
everything after it is the body. A variable the template uses but nobody gave is an error
listing every missing name at once (a notice must never go out with a hole in it); the
preview shows the holes as ``{{ name }}`` instead, so the page can still show the wording.

``check_notice`` warns about two habits that hurt in real outages: a notice that does not say
when the next update comes, and a notice that promises when the service will be fixed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import jinja2
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field

from kunren.errors import InputError, Problem, UsageError
from kunren.factories import new_list
from kunren.notify.template_meta import TemplateMeta, template_meta
from kunren.scenarios.models import Notifications

FINAL_STATES: frozenset[str] = frozenset({"resolved", "closed", "completed"})
SUBJECT_PREFIXES: tuple[str, ...] = ("subject:", "件名:")
NEXT_UPDATE = "next_update_time"

_LANG = re.compile(r"^[a-z]{2}(?:-[A-Za-z0-9]{2,4})?$")
_NOT_LANGS = frozenset({"md", "txt", "rst", "html", "j2"})

_ETA_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bETA\b"),
    re.compile(
        r"\b(?:will|should|expect(?:ed)?\s+to)\s+be\s+(?:fully\s+)?"
        r"(?:restored|resolved|fixed|recovered|back(?:\s+online|\s+up)?|available\s+again)"
        r"\s+(?:by|within|in|at|before)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:restored|resolved|fixed|recovered)\s+(?:by|within|before)\s+\d", re.I),
    re.compile(
        r"\bestimated\s+(?:time\s+(?:of|to)\s+)?(?:recovery|resolution|restoration|fix)\b",
        re.IGNORECASE,
    ),
    re.compile(r"復旧(?:見込み|予定|目処|目途|めど)"),
    re.compile(r"(?:まで|以内)に(?:は)?(?:復旧|解消|回復)"),
    re.compile(r"(?:復旧|解消|回復)(?:する|できる)?見込み"),
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TemplateWarning(_Frozen):
    code: Literal["no-next-update", "eta-promised", "language-mismatch", "duplicates"]
    message: str


class TemplateInfo(_Frozen):
    """One template as the page lists it: its languages and the variables it uses."""

    name: str
    languages: list[str]
    variables: list[str]
    files: dict[str, str]  # language -> path
    meta: TemplateMeta = Field(default_factory=TemplateMeta)  # title, when, variable labels


class Rendered(_Frozen):
    subject: str
    body: str
    missing: list[str] = Field(default_factory=new_list)  # only in a preview
    used: list[str] = Field(default_factory=new_list)  # variables the template reads


def language_of(path: Path) -> tuple[str, str | None, str]:
    """``investigating.ja.md.j2`` -> (investigating, ja, md.j2); no language part -> None."""
    parts = path.name.split(".")
    if len(parts) >= 3 and _LANG.match(parts[1]) and parts[1] not in _NOT_LANGS:
        return parts[0], parts[1], ".".join(parts[2:])
    return parts[0], None, ".".join(parts[1:])


def discover(path: Path, default_lang: str) -> dict[str, Path]:
    """The file given and its siblings in other languages (same stem, same extension)."""
    stem, lang, rest = language_of(path)
    if lang is None:
        return {default_lang: path}
    found = {lang: path}
    for sibling in sorted(path.parent.glob(f"{stem}.*.{rest}")):
        s_stem, s_lang, s_rest = language_of(sibling)
        if s_lang is not None and s_stem == stem and s_rest == rest:
            found.setdefault(s_lang, sibling)
    return found


class TemplateSet:
    """The scenario's templates, resolved to files, ready to render."""

    def __init__(
        self,
        notifications: Notifications | None,
        resolve: Callable[[str], Path],
        default_lang: str = "en",
        source: str = "scenario.yaml",
    ) -> None:
        self.default_lang = default_lang
        self._files: dict[str, dict[str, Path]] = {}
        problems: list[Problem] = []
        refs = notifications.templates if notifications is not None else {}
        for name, ref in refs.items():
            key = f"notifications.templates.{name}"
            if isinstance(ref, str):
                path = resolve(ref)
                if not path.is_file():
                    problems.append(Problem(source, None, key, f"{ref}: no such file"))
                    continue
                self._files[name] = discover(path, default_lang)
                continue
            files: dict[str, Path] = {}
            for lang, each in ref.items():
                path = resolve(each)
                if not path.is_file():
                    problems.append(Problem(source, None, f"{key}.{lang}", f"{each}: no such file"))
                files[lang] = path
            self._files[name] = files
        if problems:
            raise InputError(problems)

    def names(self) -> list[str]:
        return list(self._files)

    def languages(self, name: str) -> list[str]:
        return sorted(self._files.get(name, {}))

    def info(self) -> list[TemplateInfo]:
        return [self._info(name) for name in self._files]

    def _info(self, name: str) -> TemplateInfo:
        files = self._files[name]
        used: set[str] = set()
        for path in files.values():
            used |= variables_of(path)
        return TemplateInfo(
            name=name,
            languages=sorted(files),
            variables=sorted(used),
            files={lang: str(path) for lang, path in sorted(files.items())},
            meta=template_meta(files),
        )

    def path(self, name: str, lang: str | None) -> tuple[str, Path]:
        """(language, file) of template ``name``; the default language when ``lang`` is None."""
        files = self._files.get(name)
        if files is None:
            known = ", ".join(self._files) or "none in this scenario"
            raise UsageError(f"unknown template {name!r} (templates: {known})")
        if lang is None:
            lang = self.default_lang if self.default_lang in files else next(iter(files))
        if lang not in files:
            raise UsageError(
                f"template {name!r} has no {lang!r} version (languages: {', '.join(sorted(files))})"
            )
        return lang, files[lang]

    def render(
        self, name: str, lang: str | None, values: Mapping[str, str], strict: bool = True
    ) -> tuple[str, Rendered]:
        lang, path = self.path(name, lang)
        return lang, render_file(path, values, strict=strict)


def _syntax_problem(path: Path, exc: jinja2.TemplateSyntaxError) -> InputError:
    return InputError([Problem(str(path), exc.lineno, "", f"template syntax: {exc.message}")])


def variables_of(path: Path) -> set[str]:
    """Top-level variable names the template reads."""
    env = jinja2.Environment(autoescape=False)
    try:
        return set(meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8"))))
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_problem(path, exc) from exc


class _Holes(jinja2.StrictUndefined):
    """StrictUndefined that notes every missing name instead of stopping at the first.

    Rendering then fails with all of them at once (strict) or shows them (preview).
    """

    __slots__ = ()
    missing: ClassVar[set[str]]

    def _note(self) -> str:
        name = self._undefined_name or "?"
        self.missing.add(name)
        return name

    def __str__(self) -> str:  # type: ignore[override]
        return "{{ " + self._note() + " }}"

    def __bool__(self) -> bool:  # type: ignore[override]
        self._note()
        return False

    def __iter__(self) -> Any:
        self._note()
        return iter(())

    def __len__(self) -> int:  # type: ignore[override]
        self._note()
        return 0


def render_file(path: Path, values: Mapping[str, str], strict: bool = True) -> Rendered:
    """Render one template file; strict: every missing variable is one InputError."""
    holes: type[_Holes] = type("_TheseHoles", (_Holes,), {"__slots__": (), "missing": set()})
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        undefined=holes,
        autoescape=False,
        keep_trailing_newline=False,
    )
    try:
        template = env.get_template(path.name)
        text = template.render(**values)
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_problem(path, exc) from exc
    except jinja2.UndefinedError as exc:
        raise InputError([Problem(str(path), None, "", f"template: {exc.message}")]) from exc
    missing = sorted(holes.missing)
    if missing and strict:
        raise InputError(
            [
                Problem(str(path), None, "", f"undefined variable: {name} (give --var {name}=…)")
                for name in missing
            ]
        )
    subject, body = split_subject(text, path)
    return Rendered(subject=subject, body=body, missing=missing, used=sorted(variables_of(path)))


def split_subject(text: str, path: Path) -> tuple[str, str]:
    lines = text.splitlines()
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    first = lines[index].strip() if index is not None else ""
    prefix = next((p for p in SUBJECT_PREFIXES if first.lower().startswith(p)), None)
    if index is None or prefix is None:
        raise InputError(
            [Problem(str(path), 1, "", "the first line must be 'Subject: …' (or '件名: …')")]
        )
    subject = first[len(prefix) :].strip()
    body = "\n".join(lines[index + 1 :]).strip("\n")
    return subject, body + "\n"


def check_notice(
    state: str, rendered: Rendered, values: Mapping[str, str]
) -> list[TemplateWarning]:
    """Warnings about the wording: no next-update time, a promised recovery time."""
    warnings: list[TemplateWarning] = []
    if state not in FINAL_STATES and (
        NEXT_UPDATE not in rendered.used or not values.get(NEXT_UPDATE, "").strip()
    ):
        warnings.append(
            TemplateWarning(
                code="no-next-update",
                message="no next-update time: say when the next update comes "
                "(--var next_update_time=15:30 or next_update_in=30m)",
            )
        )
    promise = eta_promise(f"{rendered.subject}\n{rendered.body}")
    if promise is not None:
        warnings.append(
            TemplateWarning(
                code="eta-promised",
                message=f"promises a recovery time ({promise!r}): "
                "promise the next update, not the fix",
            )
        )
    return warnings


def eta_promise(text: str) -> str | None:
    """The words in ``text`` that promise when the service will be fixed, if any."""
    for pattern in _ETA_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None
