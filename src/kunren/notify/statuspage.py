"""The status page channel: a local status page (HTML and a JSON feed) in the drill folder.

Teams practise keeping a public status page current, not only mailing customers; this
channel gives them one that needs no account anywhere: ``drills/<id>/statuspage/index.html``
and ``feed.json``, rewritten on every notice with the newest entry first. Several writers
(the page, a terminal) serialise on a lock file and replace the files atomically, so a
browser refreshing the page never sees half a file.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kunren.errors import PluginError
from kunren.factories import new_list
from kunren.notify.base import Channel
from kunren.notify.message import DRILL_MARKER, Delivery, OutgoingNotice, Recipient
from kunren.notify.safety import DRILL_LINES

STATUSPAGE_DIR = "statuspage"
KNOWN_STATES = ("investigating", "identified", "monitoring", "resolved")
_TEMPLATE = Path(__file__).with_name("statuspage.html.j2")


class StatusPageParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = None  # default: the scenario's title
    lang: str | None = None  # default: the scenario's language


class StatusEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    notice: str
    state: str
    lang: str
    subject: str
    body: str
    at: float
    wall: str


class StatusFeed(BaseModel):
    """``feed.json``: the page's content, newest entry first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kunren: int = 1
    drill: str = ""
    title: str = ""
    marker: str = DRILL_MARKER
    status: str = ""
    updated: str = ""
    entries: list[StatusEntry] = Field(default_factory=new_list)


class StatusPageChannel(Channel[StatusPageParams]):
    """Writes a local status page (index.html, feed.json) into the drill folder."""

    name = "statuspage"
    per_recipient = False
    drill_folder_only = True

    @property
    def folder(self) -> Path:
        return self.drill_dir / STATUSPAGE_DIR

    def destination(self) -> str:
        return str(self.folder / "index.html")

    async def deliver(self, notice: OutgoingNotice, recipients: list[Recipient]) -> Delivery:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            feed = self._updated(self._read(), notice)
            _replace(self.folder / "feed.json", feed.model_dump_json(indent=2))
            _replace(self.folder / "index.html", self._html(feed))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return Delivery(delivered=[self.destination()])

    def _read(self) -> StatusFeed:
        path = self.folder / "feed.json"
        if not path.is_file():
            return StatusFeed()
        try:
            return StatusFeed.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise PluginError(
                f"{path}: not a kunren status feed: {exc.errors()[0]['msg']}"
            ) from exc

    def _updated(self, feed: StatusFeed, notice: OutgoingNotice) -> StatusFeed:
        entry = StatusEntry(
            notice=notice.notice,
            state=notice.template,
            lang=notice.lang,
            subject=notice.subject,
            body=notice.body,
            at=notice.at,
            wall=notice.wall,
        )
        others = [e for e in feed.entries if e.notice != notice.notice]
        return StatusFeed(
            drill=notice.drill,
            title=self.params.title or notice.scenario_title or feed.title,
            marker=notice.marker,
            status=notice.template,
            updated=notice.wall,
            entries=[entry, *others],
        )

    def _html(self, feed: StatusFeed) -> str:
        import jinja2  # here: checking a scenario with a status page does not load jinja2

        lang = self.params.lang or self.ctx.scenario.lang
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        template = env.from_string(_TEMPLATE.read_text(encoding="utf-8"))
        return template.render(
            feed=feed,
            lang=lang,
            known=KNOWN_STATES,
            drill_line=DRILL_LINES.get(lang, DRILL_LINES["en"]),
        )


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
