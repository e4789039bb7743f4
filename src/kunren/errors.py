"""The one exception tree of kunren, so the CLI can turn any failure into one line and an exit code.

Library code raises these and never prints or exits; ``kunren.cli`` is the only boundary that
does. Foreign exceptions (botocore, OSError, yaml) are translated where they enter, with
``raise KunrenError(...) from exc``, so a traceback is only ever shown with ``--debug``.

    KunrenError                 exit 1   something failed
    ├── UsageError              exit 2   bad command-line input
    ├── ScenarioError           exit 2   a scenario file is wrong (carries every problem found)
    ├── InputError              exit 2   another input file is wrong (CSV timeline, audience…)
    ├── GuardrailError          exit 2   a safety rule refused to act; nothing was touched
    ├── PluginError             exit 2   a plugin is missing or its extra is not installed
    ├── NotAvailableError       exit 1   a registered kind whose behaviour is not built yet
    ├── EventLogError           exit 1   the event log is damaged or locked
    │   └── RecordWriteError    exit 5   the record could not be written (disk full, I/O error);
    │                                    what was active was reverted from memory
    ├── InjectionError          exit 1   an injector failed to act
    ├── ObjectivesMissed        exit 3   --check / --fail-under: objectives missed
    └── RevertError             exit 4   a revert failed: the environment may be left broken
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from errno import EDQUOT, EFBIG, EIO, ENOSPC


class KunrenError(Exception):
    """Base of every error kunren raises on purpose."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class UsageError(KunrenError):
    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file, located as ``FILE:LINE: KEY.PATH: message``."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        path, message = _printable(self.path), _printable(self.message)
        return f"{where}: {path}: {message}" if path else f"{where}: {message}"


def _printable(text: str) -> str:
    """One line per problem, always: control characters from the input are shown escaped."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class ProblemsError(KunrenError):
    """An input with one or more located problems; all of them are reported at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ScenarioError(ProblemsError):
    """A scenario did not validate; nothing was run."""


class InputError(ProblemsError):
    """A timeline, audience or other input file did not validate; nothing was written."""


class GuardrailError(KunrenError):
    """A safety guardrail refused to act; nothing was changed."""

    exit_code = 2


class PluginError(KunrenError):
    exit_code = 2


class NotAvailableError(KunrenError):
    """A kind that is registered (and validated) but whose behaviour is not built yet."""


class EventLogError(KunrenError):
    pass


class RecordWriteError(EventLogError):
    """The record cannot be written (ENOSPC, EIO, EFBIG): the drill stops, reverts from memory.

    Its own exit code, so a script can tell "the disk is full, the record is incomplete" from
    every other failure: the message says what was reverted and what was not recorded.
    ``errno`` is the refusal's, when known: a full disk and a failing one need different advice.
    """

    exit_code = 5

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    @property
    def disk_full(self) -> bool:
        """The disk (or the file's size limit) has no room: not a failing disk."""
        return self.errno in (ENOSPC, EDQUOT, EFBIG)

    @property
    def when_writable(self) -> str:
        """When to try again, as a sentence starts: "When the disk has room again"."""
        if self.disk_full:
            return "When the disk has room again"
        if self.errno == EIO:
            return "When the record's disk works again (an I/O error: check the disk, `dmesg`)"
        if self.errno is not None:
            return f"When the record can be written again ({os.strerror(self.errno)})"
        return "When the record can be written again"


class InjectionError(KunrenError):
    pass


class ObjectivesMissed(KunrenError):
    exit_code = 3


class RevertError(KunrenError):
    exit_code = 4


def reason(exc: BaseException) -> str:
    """What went wrong, in one line: a kunren error's own message, else the exception's type
    and text (foreign code: a plugin, a library)."""
    return exc.message if isinstance(exc, KunrenError) else f"{type(exc).__name__}: {exc}"
