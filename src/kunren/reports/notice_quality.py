"""Notice quality and cadence in the report's words: what each notice lacked of the checklist,
and each promised update against when the next notice went out.

The Scorecard holds the facts (``Notice.checked``, ``lacking``, ``next_update_at`` and
``next_update``); this module turns them into the rows and summary lines the Customer notices
section shows, once, so the HTML and the Markdown say the same in either language. A promise
nobody kept before the drill ended is a lower bound ("20+ min late"), never a measured delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, assert_never

from kunren.scorers.card import NextUpdate, NextUpdateStatus, Notice, Scorecard

NOTICE_CATALOG: dict[str, tuple[str, str]] = {
    "notice_quality": ("Notice quality and cadence", "告知の質と更新間隔"),
    "checklist_is": (
        "Checklist (from the scenario): {items}",
        "チェックリスト（シナリオの指定）：{items}",
    ),
    "checklist_lacking": (
        "{lacking} of {sent} notices did not meet the checklist.",
        "告知 {sent} 件中 {lacking} 件がチェックリストを満たしていません。",
    ),
    "checklist_unchecked": (
        "Not checked: this drill was imported, so its notices were typed in afterwards.",
        "未確認：取り込んだ訓練のため、告知は後から入力されたものです。",
    ),
    "promises": ("Promised next updates: {counts}.", "次回のお知らせの約束：{counts}。"),
    "promises_on_time": ("{n} on time", "予定どおり {n} 件"),
    "promises_late": ("{n} late", "遅れ {n} 件"),
    "promises_no_update": (
        "{n} with no update before the drill ended",
        "訓練終了までにお知らせなし {n} 件",
    ),
    "promises_not_due": ("{n} not yet due when the drill ended", "訓練終了時に期限前 {n} 件"),
    "template": ("Template", "テンプレート"),
    "checklist": ("Checklist", "チェックリスト"),
    "not_met": ("not met: {items}", "満たしていない項目：{items}"),
    "all_met": ("meets all {n}", "{n} 項目すべて満たしています"),
    "not_checked": ("not checked (imported)", "未確認（取り込み）"),
    "promised_update": ("Next update promised for", "次回のお知らせの予定"),
    "next_notice": ("Next notice went out", "次の告知の送信"),
    "cadence": ("Promise kept?", "約束どおりか"),
    "update_on_time": ("on time", "予定どおり"),
    "update_late": ("{t} late", "{t}遅れ"),
    "update_no_update": (
        "{t} late (no update before the drill ended)",
        "{t}遅れ（訓練終了までに次のお知らせなし）",
    ),
    "update_not_due": ("not due: the drill ended first", "期限前に訓練が終了"),
    "none_before_end": ("none before the drill ended", "訓練終了までになし"),
    "item_affected": ("what is affected", "影響範囲"),
    "item_workaround": ("a workaround for customers", "代替手段"),
    "item_next_update": ("when the next update comes", "次回のお知らせ予定"),
    "item_no_eta": ("no promised fix time", "復旧時刻を約束しない"),
    "item_no_internal_hosts": ("no internal host names", "社内のホスト名を含めない"),
}


class Words(Protocol):
    """The part of the report's ``Texts`` this module speaks through."""

    def __call__(self, key: str, **values: object) -> str: ...

    def timing(self, seconds: float | None, censored: bool = False) -> str: ...

    def clock(self, at: float | None) -> str: ...

    def roles(self, roles: list[str]) -> str: ...


@dataclass(frozen=True)
class QualityRow:
    """One sent notice in the notice quality table, every cell already in words."""

    notice: Notice
    sent: str
    checklist: str
    lacking: bool
    promised: str
    next_sent: str
    kept: str
    kept_status: str  # the tag it wears: met, missed, open, or "" for no promise
    censored: bool  # no update before the drill ended: the delay is a lower bound


@dataclass(frozen=True)
class NoticeQuality:
    """The notice quality part of the Customer notices section; ``None`` when there is
    nothing to say (no checklist and no promise)."""

    checklist: bool  # show the checklist column
    cadence: bool  # show the promise columns
    lines: list[str]
    rows: list[QualityRow]


def notice_quality(card: Scorecard, tx: Words) -> NoticeQuality | None:
    sent = [n for n in card.notices if n.sent_at is not None]
    items = card.scenario.checklist
    promised = [n for n in sent if n.next_update_at is not None]
    if not sent or (not items and not promised):
        return None
    lines = []
    if items:
        lines.append(tx("checklist_is", items=tx.roles([item_name(i, tx) for i in items])))
        if all(n.checked for n in sent):
            lacking = sum(1 for n in sent if n.lacking)
            lines.append(tx("checklist_lacking", lacking=lacking, sent=len(sent)))
        else:
            lines.append(tx("checklist_unchecked"))
    if promised:
        lines.append(tx("promises", counts=_counts(promised, tx)))
    rows = [_row(n, len(items), tx) for n in sent]
    return NoticeQuality(checklist=bool(items), cadence=bool(promised), lines=lines, rows=rows)


def item_name(item: str, tx: Words) -> str:
    """A checklist item in words; an item this version does not know stays as written."""
    key = f"item_{item}"
    return tx(key) if key in NOTICE_CATALOG else item


def _counts(promised: list[Notice], tx: Words) -> str:
    order: tuple[NextUpdateStatus, ...] = ("on_time", "late", "no_update", "not_due")
    statuses = [n.next_update.status for n in promised if n.next_update is not None]
    parts = [
        tx(f"promises_{status}", n=statuses.count(status)) for status in order if status in statuses
    ]
    return tx.roles(parts)


def _row(notice: Notice, items: int, tx: Words) -> QualityRow:
    if not notice.checked:
        checklist = tx("not_checked")
    elif notice.lacking:
        checklist = tx("not_met", items=tx.roles([item_name(i, tx) for i in notice.lacking]))
    else:
        checklist = tx("all_met", n=items)
    update = notice.next_update
    next_sent, kept, status = _kept(update, tx) if update is not None else ("–", "–", "")
    return QualityRow(
        notice=notice,
        sent=tx.clock(notice.sent_at),
        checklist=checklist,
        lacking=notice.checked and bool(notice.lacking),
        promised=tx.clock(notice.next_update_at),
        next_sent=next_sent,
        kept=kept,
        kept_status=status,
        censored=update is not None and update.censored,
    )


def _kept(update: NextUpdate, tx: Words) -> tuple[str, str, str]:
    """(when the next notice went out, whether the promise was kept, its tag)."""
    match update.status:
        case "on_time":
            return tx.clock(update.at), tx("update_on_time"), "met"
        case "late":
            late = tx("update_late", t=tx.timing(update.late_seconds))
            return tx.clock(update.at), late, "missed"
        case "no_update":
            bound = tx.timing(update.bound_seconds, censored=True)
            return tx("none_before_end"), tx("update_no_update", t=bound), "missed"
        case "not_due":
            return tx("none_before_end"), tx("update_not_due"), "open"
        case _:
            assert_never(update.status)
