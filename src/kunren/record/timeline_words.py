"""The words of a timeline entry, in English and Japanese, as plain unescaped text.

One sentence per event type, in both languages, side by side, so a Japanese reader never
meets an English leftover and adding an event type is one edit here (``assert_never`` makes
mypy insist). Text from the record (a reason, a note, an inject's text, a name) is inserted as
it was written; the caller escapes the result for its format (HTML, Markdown, a terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, assert_never

from kunren.durations import format_clock
from kunren.record.marks import Mark
from kunren.record.timeline import Entry
from kunren.scenarios.models import MILESTONE_LABELS

Lang = Literal["en", "ja"]


def describe(entry: Entry | Mark, lang: Lang, milestone: Callable[[str], str] | None = None) -> str:
    """What ``entry`` says in ``lang``; ``milestone`` names a milestone for this reader (the
    scenario's own labels); without it, the built-in labels."""
    en, ja = _pair(entry, milestone or (lambda name: _builtin_label(name, lang)))
    return ja if lang == "ja" else en


def _builtin_label(name: str, lang: Lang) -> str:
    return MILESTONE_LABELS.get(name, {}).get(lang) or name.replace("_", " ")


def _said(text: str, ja: bool = False) -> str:
    if not text:
        return ""
    return f"：{text}" if ja else f": {text}"


def _on(targets: Sequence[str]) -> tuple[str, str]:
    if not targets:
        return "", ""
    return f" on {', '.join(targets)}", f"（{', '.join(targets)}）"


def _pair(e: Entry | Mark, milestone: Callable[[str], str]) -> tuple[str, str]:
    s, d = e.subject, e.detail
    match e.kind:
        case "drill.started":
            return "drill started", "訓練開始"
        case "drill.ended":
            return f"drill ended{_said(d)}", f"訓練終了{_said(_reason_ja(d), True)}"
        case "drill.aborted":
            return f"drill aborted{_said(d)}", f"訓練中止{_said(_reason_ja(d), True)}"
        case "drill.resumed":
            return f"drill resumed{_said(d)}", f"訓練再開{_said(_reason_ja(d), True)}"
        case "fault.injecting":
            en, ja = _on(e.targets)
            return f"injecting fault {s}{en}", f"障害 {s} を注入中{ja}"
        case "fault.injected":
            en, ja = _on(e.targets)
            if e.lane == "people":  # a runbook's action, not a fault
                return f"{s} done{en}", f"{s} を実行{ja}"
            return f"fault {s} injected{en}", f"障害 {s} を注入{ja}"
        case "fault.failed":
            return f"fault {s} failed{_said(d)}", f"障害 {s} の注入に失敗{_said(d, True)}"
        case "fault.reverting":
            return f"reverting fault {s}", f"障害 {s} を復元中"
        case "fault.reverted":
            return f"fault {s} reverted", f"障害 {s} を復元"
        case "fault.revert_failed":
            return f"fault {s} REVERT FAILED{_said(d)}", f"障害 {s} の復元に失敗{_said(d, True)}"
        case "service.started":
            return f"service {s} started", f"サービス {s} を起動"
        case "service.stopped":
            return f"service {s} stopped", f"サービス {s} を停止"
        case "service.exited":
            code = _count(e.count)
            return (
                f"service {s} exited by itself (code {code})",
                f"サービス {s} が自ら終了（コード {code}）",
            )
        case "load.stage":
            users = _count(e.count)
            if e.status == "planned":
                return (
                    f"load {users} users (planned, no load generated)",
                    f"負荷 {users} ユーザー（予定のみ、負荷は発生させず）",
                )
            return f"load {users} users", f"負荷 {users} ユーザー"
        case "load.stats":
            return f"load {e.count or 0:.1f} req/s", f"負荷 {e.count or 0:.1f} リクエスト/秒"
        case "load.lost":
            if e.status == "load stopped":
                return (
                    f"load stopped: Locust {s} exited{_said(d)}",
                    f"負荷停止：負荷生成プロセス {s} が終了{_said(d, True)}",
                )
            return f"Locust {s} exited{_said(d)}", f"負荷生成プロセス {s} が終了{_said(d, True)}"
        case "probe.failed":
            return f"probe {s} failed{_said(d)}", f"プローブ {s} 失敗{_said(d, True)}"
        case "probe.recovered":
            return f"probe {s} recovered", f"プローブ {s} 回復"
        case "alert":
            en_status, ja_status = _ALERT.get(e.status, (e.status, e.status))
            return f"alert {s} {en_status} ({e.via})", f"アラート {s} {ja_status}（{e.via}）"
        case "inject":
            en_kind, ja_kind = _INJECT.get(s, (s, s))
            who = f" {e.actor}" if e.actor else ""
            return f"{en_kind}{who}{_said(d)}", f"{ja_kind}{who}{_said(d, True)}"
        case "milestone":
            note = f" ({d})" if d else ""
            return f"{milestone(s)}{note}", f"{milestone(s)}{f'（{d}）' if d else ''}"
        case "notification":
            return _notice(e)
        case "runbook":
            en_result, ja_result = _RESULT.get(e.status, (e.status, e.status))
            return (
                f"ran {s}: {en_result}{_said(d)}",
                f"ランブック {s} を実行：{ja_result}{_said(d, True)}",
            )
        case "readiness":
            if e.status == "ok":
                return f"can open {s}", f"{s} を開ける"
            return f"cannot open {s}{_said(d)}", f"{s} を開けない{_said(d, True)}"
        case "participant.joined":
            return f"joined as {s}", f"{s} として参加"
        case "note":
            return d, d
        case "amendment":
            at = format_clock(e.count or 0.0)
            return (
                f"event #{s} moved to {at}{_said(d)}",
                f"イベント #{s} を {at} に修正{_said(d, True)}",
            )
        case _:
            assert_never(e.kind)


def _count(value: float | None) -> str:
    return "0" if value is None else f"{value:g}"


def _notice(e: Entry | Mark) -> tuple[str, str]:
    en_status, ja_status = _NOTICE.get(e.status, (e.status, e.status))
    audience = (f" to {e.to}", f"（宛先 {e.to}）") if e.to else ("", "")
    size = (f", {_count(e.count)} recipients", f"、{_count(e.count)} 件") if e.count else ("", "")
    failed = (
        (f", failed for {len(e.targets)}", f"、{len(e.targets)} 件失敗") if e.targets else ("", "")
    )
    return (
        f"notice {en_status} via {e.via}{audience[0]}{size[0]}{failed[0]}{_said(e.detail)}",
        f"告知を{ja_status}（{e.via}）{audience[1]}{size[1]}{failed[1]}{_said(e.detail, True)}",
    )


def _reason_ja(reason: str) -> str:
    for en, ja in _REASON_PREFIXES.items():
        if reason.startswith(en):
            return ja + reason[len(en) :]
    return _REASONS.get(reason, reason)


def reason_text(reason: str, lang: Lang) -> str:
    """A drill's end reason for this reader: the conductor's own reasons are translated."""
    return _reason_ja(reason) if lang == "ja" else reason


_ALERT = {
    "firing": ("firing", "発報"),
    "acknowledged": ("acknowledged", "確認済み"),
    "resolved": ("resolved", "解消"),
}
_INJECT = {
    "announcement": ("announcement", "アナウンス"),
    "inquiry": ("inquiry", "問い合わせ"),
    "unavailable": ("unavailable", "不在"),
}
_RESULT = {"ok": ("ok", "成功"), "failed": ("failed", "失敗"), "refused": ("refused", "拒否")}
_NOTICE = {
    "drafted": ("drafted", "下書き"),
    "approved": ("approved", "承認"),
    "rejected": ("rejected", "差し戻し"),
    "sent": ("sent", "送信"),
    "partial": ("sent only in part", "一部のみ送信"),
    "failed": ("failed", "送信失敗"),
}
# Reasons the conductor itself writes; a facilitator's own words are shown as written.
_REASONS = {
    "duration reached": "予定時間に到達",
    "resumed after the conductor stopped": "コンダクター停止後に再開",
    "aborted by the facilitator": "ファシリテーターが中止",
    "the duration passed while the conductor was down": "コンダクター停止中に予定時間が経過",
}
_REASON_PREFIXES = {"could not start: ": "開始できませんでした：", "stop condition": "停止条件"}
