"""Who a notice goes to: named lists from CSV or YAML files, filtered by segment and language.

Support staff need to know, before pressing send, how many people a notice reaches; so an
audience is always loaded whole, checked row by row (every bad row reported with its line),
de-duplicated by address, and counted per segment and language.

Files have the columns ``email, name, segment, language`` (``lang`` also accepted; extra
columns are ignored). YAML files hold a list of such mappings, or ``recipients:`` with one.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from kunren.errors import InputError, Problem, UsageError
from kunren.notify.message import Recipient
from kunren.notify.safety import Allowlist
from kunren.notify.templates import TemplateWarning
from kunren.scenarios.models import AudienceSpec, Notifications

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_COLUMNS = {
    "email": "email",
    "name": "name",
    "segment": "segment",
    "language": "language",
    "lang": "language",
}


class Audience(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    file: str
    recipients: list[Recipient]
    duplicates: int = 0  # rows merged because the address appeared before

    @property
    def count(self) -> int:
        return len(self.recipients)

    def languages(self, default: str) -> dict[str, int]:
        return dict(Counter(r.language or default for r in self.recipients))

    def segments(self) -> dict[str, int]:
        return dict(Counter(r.segment for r in self.recipients))


class AudienceInfo(BaseModel):
    """An audience as the page lists it, before anyone picks it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    file: str
    count: int
    allowed: int  # really delivered in a drill (on the allowlist); the rest are captured
    segments: dict[str, int]
    languages: dict[str, int]
    label: str | None = None
    label_ja: str | None = None


def load_recipients(path: Path) -> tuple[list[Recipient], int]:
    """(unique recipients in file order, number of duplicate rows merged)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        rows = list(_yaml_rows(path, text))
    else:
        rows = list(_csv_rows(path, text))
    problems: list[Problem] = []
    seen: set[str] = set()
    recipients: list[Recipient] = []
    duplicates = 0
    for line, row in rows:
        email = row.get("email", "").strip()
        if not _EMAIL.match(email):
            problems.append(Problem(str(path), line, "email", f"not an email address: {email!r}"))
            continue
        key = email.lower()
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        recipients.append(
            Recipient(
                email=email,
                name=row.get("name", "").strip(),
                segment=row.get("segment", "").strip(),
                language=row.get("language", "").strip(),
            )
        )
    if problems:
        raise InputError(problems)
    return recipients, duplicates


def _csv_rows(path: Path, text: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    names = [_COLUMNS.get(h.strip().lower(), "") for h in header or []]
    if "email" not in names:
        got = ", ".join(h.strip() for h in header or []) or "none"
        raise InputError([Problem(str(path), 1, "", f"no 'email' column (columns: {got})")])
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = {name: value for name, value in zip(names, values, strict=False) if name}
        yield reader.line_num, row


def _yaml_rows(path: Path, text: str) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError([Problem(str(path), line, "", f"not valid YAML: {exc}")]) from exc
    if isinstance(data, dict) and isinstance(root, yaml.MappingNode):
        data = data.get("recipients")
        root = next((v for k, v in root.value if k.value == "recipients"), None)
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise InputError(
            [Problem(str(path), 1, "", "expected a list of recipients (or recipients: [...])")]
        )
    for index, (item, node) in enumerate(zip(data, root.value, strict=True)):
        line = node.start_mark.line + 1
        if not isinstance(item, dict):
            raise InputError(
                [Problem(str(path), line, f"[{index}]", "expected a mapping with email, name…")]
            )
        row = {
            _COLUMNS[str(k).lower()]: "" if v is None else str(v)
            for k, v in item.items()
            if str(k).lower() in _COLUMNS
        }
        yield line, row


def select(recipients: list[Recipient], spec: AudienceSpec, default_lang: str) -> list[Recipient]:
    """Apply the audience's segment and language filters."""
    segments = [spec.segment] if isinstance(spec.segment, str) else spec.segment
    chosen = recipients
    if segments:
        chosen = [r for r in chosen if r.segment in segments]
    if spec.lang:
        chosen = [r for r in chosen if (r.language or default_lang) == spec.lang]
    return chosen


class AudienceBook:
    """The scenario's named audiences, loaded on demand."""

    def __init__(
        self,
        notifications: Notifications | None,
        resolve: Callable[[str], Path],
        default_lang: str = "en",
    ) -> None:
        self._specs = dict(notifications.audiences) if notifications is not None else {}
        self._resolve = resolve
        self.default_lang = default_lang

    def names(self) -> list[str]:
        return list(self._specs)

    def default_name(self) -> str:
        if len(self._specs) == 1:
            return next(iter(self._specs))
        known = ", ".join(self._specs) or "none in this scenario"
        raise UsageError(f"give an audience (audiences: {known})")

    def load(self, name: str) -> Audience:
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self._specs) or "none in this scenario"
            raise UsageError(f"unknown audience {name!r} (audiences: {known})")
        path = self._resolve(spec.file)
        recipients, duplicates = load_recipients(path)
        return Audience(
            name=name,
            file=str(path),
            recipients=select(recipients, spec, self.default_lang),
            duplicates=duplicates,
        )

    def info(self, allowlist: Allowlist, live: bool) -> list[AudienceInfo]:
        infos = []
        for name in self._specs:
            audience = self.load(name)
            allowed, _ = allowlist.split(audience.recipients, live)
            infos.append(
                AudienceInfo(
                    name=name,
                    file=audience.file,
                    count=audience.count,
                    allowed=len(allowed),
                    segments=audience.segments(),
                    languages=audience.languages(self.default_lang),
                    label=self._specs[name].label,
                    label_ja=self._specs[name].label_ja,
                )
            )
        return infos


def audience_warnings(audience: Audience, lang: str, default: str) -> list[TemplateWarning]:
    """Warnings for the preview: recipients preferring another language, merged duplicates."""
    warnings = []
    other = {k: v for k, v in audience.languages(default).items() if k != lang}
    if other:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
        warnings.append(
            TemplateWarning(
                code="language-mismatch",
                message=f"this notice is in {lang}; {counts} recipient(s) prefer another language",
            )
        )
    if audience.duplicates:
        warnings.append(
            TemplateWarning(
                code="duplicates",
                message=f"{audience.duplicates} duplicate address(es) in {audience.file} merged",
            )
        )
    return warnings
