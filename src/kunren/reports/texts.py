"""The words of the report in English and Japanese (``--lang ja``).

The Scorecard keeps ids and English text; everything a reader sees in a report goes through a
``Texts`` for one language, so the HTML and the Markdown say the same thing in the same words.
"""

from __future__ import annotations

from datetime import datetime

from kunren.durations import format_clock
from kunren.record.timeline import NOT_LIVE, DrillProvenance
from kunren.record.timeline_words import Lang, describe, reason_text
from kunren.reports.notice_quality import NOTICE_CATALOG
from kunren.scorers.card import (
    AmendmentItem,
    Gap,
    MilestoneResult,
    Scorecard,
    Shown,
    Timing,
    TrendLine,
    TrendPoint,
)
from kunren.scorers.display import BEFORE_T0, format_observed, format_timing

LANGS: tuple[str, ...] = ("en", "ja")

CATALOG: dict[str, tuple[str, str]] = {
    "report": ("Drill report", "訓練レポート"),
    "drill": ("Drill", "訓練"),
    "series": ("Series", "シリーズ"),
    "started": ("Started", "開始"),
    "duration": ("Planned length", "予定時間"),
    "ran_for": ("Ran for", "実施時間"),
    "drill_kind": ("What this drill was", "訓練の種類"),
    "kind_live": (
        "live: the conductor injected faults and watched",
        "実地：コンダクターが障害を注入し監視",
    ),
    "kind_import": (
        "imported: typed in afterwards with kunren import",
        "取り込み：後から kunren import で入力",
    ),
    "kind_tabletop": ("tabletop: nothing was injected or watched", "机上訓練：注入・監視なし"),
    "clock": ("Clock", "時計"),
    "clock_real": ("real time", "実時間"),
    "clock_scaled": (
        "scaled ×{speed}: {drill} of drill time took {real} of real time",
        "×{speed} 倍速：訓練時間 {drill} を実時間 {real} で実施",
    ),
    "clock_virtual": (
        "virtual: no real time passed (a simulation)",
        "仮想時計：実時間は経過していません（シミュレーション）",
    ),
    "marks_by": ("Marks made by", "マーク記録者"),
    "src_participant": ("participants", "参加者"),
    "src_facilitator": ("the facilitator", "ファシリテーター"),
    "src_simulated": ("simulated people", "シミュレーションの参加者"),
    "src_alert": ("alerts", "アラート"),
    "src_notice": ("notices sent", "送信された告知"),
    "src_import": ("a hand-kept timeline", "手書きのタイムライン"),
    "label_facilitator": ("by the facilitator", "ファシリテーター記録"),
    "label_simulated": ("simulated", "シミュレーション"),
    "label_alert": ("from an alert", "アラートから"),
    "label_notice": ("from a notice", "告知から"),
    "before_t0": ("before T0", "T0より前"),
    "short_live": ("live", "実地"),
    "short_import": ("imported", "取り込み"),
    "short_tabletop": ("tabletop", "机上"),
    "short_virtual": ("virtual clock", "仮想時計"),
    "observed": ("Observed", "観測時間"),
    "observed_text": ("{t} after T0", "T0 から {t}"),
    "not_reached_observed": ("not reached in the {t} observed", "観測した {t} の間に未到達"),
    "open": ("not due", "期限前"),
    "open_text": (
        "the drill stopped before this deadline ({t})",
        "期限（{t}）の前に訓練が終了しました",
    ),
    "met_by": ("met by {who} at {t}", "{who} が {t} で達成"),
    "no_alert_source": (
        "no alert reached kunren: no alert source was connected, or nothing fired",
        "アラートは届いていません（送信元が未接続、または発報なし）",
    ),
    "firing_at_t0": (
        "already firing at T0, left out: {names}",
        "T0 の時点で発報中のため除外：{names}",
    ),
    "ended": ("Ended", "終了"),
    "ended_by_reverted": ("reverted", "復元"),
    "ended_by_restarted": ("target restarted", "対象を再起動"),
    "ended_by_recovered": ("probes recovered", "プローブ回復"),
    "ended_by_drill_end": ("still active at the end", "終了時も継続"),
    "time_to_alert": ("Time to alert", "アラートまで"),
    "time_to_clear": ("Time to clear", "解消まで"),
    "alert_not_alerted": ("no alert", "アラートなし"),
    "alert_no_source": ("no alert reached kunren", "アラート未着"),
    "runbook_action": ("a runbook run by the team", "チームが実行したランブック"),
    "attempts": ("Attempts", "試行"),
    "attempts_text": (
        "{attempts} ({failures} failed, {retries} retries)",
        "{attempts} 回（失敗 {failures}、再試行 {retries}）",
    ),
    "notice_status_drafted": ("drafted", "下書き"),
    "notice_status_approved": ("approved", "承認済み"),
    "notice_status_rejected": ("rejected", "差し戻し"),
    "notice_status_sent": ("sent", "送信済み"),
    "notice_status_partial": ("sent only in part", "一部のみ送信"),
    "notice_status_failed": ("failed", "送信失敗"),
    "notified_by_mark": (
        "No notice was sent through kunren; customers notified was marked by {who} at {t} "
        "(a mark, not a recorded notice).",
        "kunren からの告知送信はありません。お客様への告知は {who} が {t} にマークしました"
        "（記録された告知ではなくマークです）。",
    ),
    "not_comparable": (
        "Left out of the trend (stopped before T0, nothing was measured): {drills}",
        "推移から除外（T0 前に停止し、計測していません）：{drills}",
    ),
    "skipped": ("could not be read: {what}", "読み込めませんでした：{what}"),
    "t0": ("T0 (timings count from here)", "T0（計測の起点）"),
    "t0_first_fault": ("first fault injected", "最初の障害注入"),
    "t0_impact": ("impact started (first probe failure)", "影響開始（最初のプローブ失敗）"),
    "t0_drill_start": (
        "drill start (no fault or impact recorded)",
        "訓練開始（障害・影響の記録なし）",
    ),
    "ended_ended": ("ended", "終了"),
    "ended_aborted": ("aborted", "中止"),
    "ended_running": ("still running or interrupted", "実施中または中断"),
    "summary": ("Summary", "サマリー"),
    "objectives": ("Objectives", "目標"),
    "objectives_met": ("{met} of {total} objectives met", "目標 {total} 件中 {met} 件を達成"),
    "objectives_open": ("{n} not due when the drill stopped", "{n} 件は期限前に終了"),
    "no_objectives": ("The scenario sets no objectives", "シナリオに目標はありません"),
    "met": ("met", "達成"),
    "missed": ("missed", "未達"),
    "within": ("within {t}", "{t}以内"),
    "by_roles": ("by {roles}", "{roles} が"),
    "trend": ("Trend across the series", "シリーズの推移"),
    "trend_first": (
        "This is the first drill of the series: nothing to compare with yet.",
        "このシリーズ最初の訓練です。比較対象はまだありません。",
    ),
    "change_improved": ("improved", "改善"),
    "change_worse": ("worse", "悪化"),
    "change_same": ("same", "変化なし"),
    "change_unknown": ("cannot tell (censored)", "判定不可（未到達）"),
    "change_first": ("first drill", "初回"),
    "machine": ("System timings", "システムの計時"),
    "impact": ("Time to impact", "影響発生まで"),
    "first_alert": ("Time to first alert", "最初のアラートまで"),
    "recovery": ("Time to recovery", "復旧まで"),
    "no_impact": ("no probe failed", "プローブ失敗なし"),
    "not_watched": (
        "Nothing watched the system in this drill (no probes, no alerts).",
        "この訓練ではシステムを監視していません（プローブ・アラートなし）。",
    ),
    "scenario": ("Scenario and what was injected", "シナリオと注入内容"),
    "fault": ("Fault", "障害"),
    "kind": ("Kind", "種類"),
    "target": ("Target", "対象"),
    "planned": ("Planned", "予定"),
    "injected": ("Injected", "注入"),
    "result": ("Result", "結果"),
    "not_injected": ("not injected", "未注入"),
    "not_in_plan": ("not in the plan", "計画外"),
    "injects": ("Injects (what happened to the people)", "インジェクト（参加者への出来事）"),
    "timeline": ("Timeline", "タイムライン"),
    "time": ("Time", "時刻"),
    "lane": ("Lane", "レーン"),
    "who": ("Who", "誰が"),
    "what": ("What", "内容"),
    "lane_fault": ("Faults", "障害"),
    "lane_load": ("Load", "負荷"),
    "lane_probe": ("Probes", "プローブ"),
    "lane_alert": ("Alerts", "アラート"),
    "lane_inject": ("Injects", "インジェクト"),
    "lane_people": ("People", "参加者"),
    "lane_drill": ("Drill", "訓練"),
    "users": ("users", "ユーザー"),
    "marks_dense": (
        "{n} marks, {first} to {last} (too close together to draw one by one)",
        "{first}〜{last} の {n} 件（間隔が狭すぎるため一つにまとめて表示）",
    ),
    "recorded": ("recorded {t}", "記録は {t}"),
    "timeline_more": (
        "… {n} more entries of this kind ({kind}), from {first} to {last}: not listed here",
        "… この種類（{kind}）の項目があと {n} 件（{first}〜{last}）：ここには載せていません",
    ),
    "notes_more": (
        "… {n} more notes, from {first} to {last}: not listed here "
        "(`kunren log {drill}` prints every one)",
        "… ほかにメモが {n} 件（{first}〜{last}）：ここには載せていません"
        "（`kunren log {drill}` ですべて表示できます）",
    ),
    "timeline_bounded": (
        "This table lists at most {limit} entries of each kind: {n} of the {total} entries "
        "are left out (the swimlanes above draw them all). The whole timeline is in the "
        "record: `kunren log {drill}` prints it, one event a line, and the file is {record}.",
        "この表は種類ごとに最大 {limit} 件までを載せています。全 {total} 件のうち {n} 件は"
        "省略しました（上のスイムレーンにはすべて描いています）。タイムライン全体は記録にあります："
        "`kunren log {drill}` で 1 行に 1 イベントずつ表示でき、ファイルは {record} です。",
    ),
    "milestones": ("Milestones per role", "ロール別マイルストーン"),
    "milestone": ("Milestone", "マイルストーン"),
    "first": ("First", "最初"),
    "objective": ("Objective", "目標"),
    "per_person": ("Milestones per person", "個人別マイルストーン"),
    "person": ("Person", "人"),
    "role": ("Role", "ロール"),
    "notices": ("Customer notices", "お客様への告知"),
    "no_notices": ("No customer notice was sent.", "お客様への告知は送られませんでした。"),
    "sent": ("Sent", "送信"),
    "channel": ("Channel", "チャネル"),
    "audience": ("Audience", "宛先"),
    "recipients": ("Recipients", "宛先数"),
    "sender": ("Sender", "送信者"),
    "approver": ("Approver", "承認者"),
    "approval_wait": ("Approval wait", "承認待ち"),
    "status": ("Status", "状態"),
    "team_health": ("Team health", "チームの健全性"),
    "senders": ("People who sent customer notices", "告知を送った人数"),
    "top_sender": ("Top sender's share", "最多送信者の割合"),
    "people_by_role": ("People seen per role", "ロール別の参加者"),
    "roles_missed": (
        "Roles that never reached a milestone expected of them",
        "期待されたマイルストーンに到達しなかったロール",
    ),
    "none": ("none", "なし"),
    "readiness": ("Readiness", "準備状況"),
    "no_readiness": (
        "Nobody answered the readiness check.",
        "準備状況の確認への回答はありません。",
    ),
    "tool": ("Tool", "ツール"),
    "access": ("Could open it", "開けたか"),
    "yes": ("yes", "はい"),
    "no": ("NO", "いいえ"),
    "note": ("Note", "メモ"),
    "recorded_at": ("Recorded at", "記録日時"),
    "gaps": ("Gaps", "課題"),
    "no_gaps": ("No gaps found.", "課題は見つかりませんでした。"),
    "notes": ("Notes and action items", "メモとアクションアイテム"),
    "action_items": ("Action items", "アクションアイテム"),
    "other_notes": ("Notes", "メモ"),
    "amendments": ("Facilitator amendments", "ファシリテーターによる修正"),
    "amended_to": ("Amended to", "修正後"),
    "recorded_time": ("Recorded", "記録時刻"),
    "reason": ("Reason", "理由"),
    "scorers": ("Team scorers", "チーム独自の採点"),
    "record": ("The raw record", "元の記録"),
    "record_text": (
        "Every number above comes from this file (one JSON event a line):",
        "上の数値はすべてこのファイル（1 行 1 イベントの JSON）から算出しています:",
    ),
    "warnings": ("Warnings", "警告"),
    "generated": ("Generated by kunren", "kunren が生成"),
    "no_zone": ("no time zone recorded", "タイムゾーン記録なし"),
    **NOTICE_CATALOG,
}

_GAPS_JA = {
    "objective_missed": "{milestone}: {took}（目標 {limit}{by}）",
    "single_sender": "{actor} が告知 {count} 件をすべて送信しました（ほかに送った人はいません）",
    "lacked_access": "{actor}（{role}）は {tool} を開けませんでした",
    "understaffed": "{role}: 参加 {count} 人（必要 {needed} 人）",
    "fault_failed": "障害の注入に失敗：{text}",
    "revert_failed": "障害を復元できませんでした：{text}",
    "runbook_failed": "{actor} のランブックが成功しませんでした：{text}",
}


class Texts:
    """Labels and phrases in one language, handed to the templates as ``tx``."""

    def __init__(self, lang: str, card: Scorecard) -> None:
        self.lang = lang
        self.card = card
        self._ja = lang == "ja"
        self._by_seq: dict[int, Shown] | None = None

    def __call__(self, key: str, **values: object) -> str:
        en, ja = CATALOG[key]
        text = ja if self._ja else en
        return text.format(**values) if values else text

    def timing(self, seconds: float | None, censored: bool = False) -> str:
        return format_timing(seconds, censored, self.lang)

    def shown(
        self, display: str, seconds: float | None, bound: float | None, censored: bool
    ) -> str:
        """A Scorecard display, re-worded for this language."""
        if display == BEFORE_T0["en"]:
            return self("before_t0")
        if not self._ja:
            return display
        return self.timing(bound if censored else seconds, censored)

    def observed(self) -> str:
        """The observed window (T0 to the end), rounded down like a censored bound."""
        return format_observed(self.card.observed_seconds, self.lang)

    def t(self, timing: Timing) -> str:
        """A Timing in this language: "31 min", "27+ min", "before T0"."""
        if timing.before_t0:
            return self("before_t0")
        return self.shown(timing.display, timing.seconds, timing.bound_seconds, timing.censored)

    def label(self, source: str | None) -> str:
        """The provenance label beside a number a live participant did not mark themselves."""
        if source is None or source not in NOT_LIVE or source == "import":
            return ""
        return self(f"label_{source}")

    def entry_label(self, entry: Shown) -> str:
        """A mark's provenance beside it; alerts and notices say what they are already."""
        return self.label(entry.provenance) if entry.kind == "milestone" else ""

    def kind(self) -> str:
        return self(f"kind_{self.card.provenance.kind}")

    def clock_text(self) -> str:
        p = self.card.provenance
        if p.clock != "scaled":
            return self(f"clock_{p.clock}")
        real = self.card.ended_at / p.speed if p.speed > 0 else 0.0
        return self(
            "clock_scaled",
            speed=f"{p.speed:g}",
            drill=format_clock(self.card.ended_at),
            real=format_clock(real),
        )

    def sources(self) -> str:
        found = self.card.provenance.sources
        return self.roles([self(f"src_{s}") for s in found]) if found else self("none")

    def wall(self, iso: str) -> str:
        """A wall time for people: "2024-07-17 18:00:05 (UTC+09:00)", not raw ISO."""
        if not iso:
            return "–"
        try:
            when = datetime.fromisoformat(iso)
        except ValueError:
            return iso
        offset = when.strftime("%z")
        zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else self("no_zone")
        return f"{when:%Y-%m-%d %H:%M:%S} ({zone})"

    def point(self, p: TrendPoint) -> str:
        """A trend point, marked when no live person produced it ("9 min (simulated)") or
        when no real time passed (a virtual-clock rehearsal)."""
        shown = (
            self("before_t0")
            if p.before_t0
            else self.shown(p.display, p.seconds, p.bound_seconds, p.censored)
        )
        marks = []
        if p.source == "simulated":
            marks.append(self("label_simulated"))
        if p.provenance is not None and p.provenance.clock == "virtual":
            marks.append(self("short_virtual"))
        return f"{shown} ({self.roles(marks)})" if marks else shown

    def first(self, m: MilestoneResult) -> str:
        """The first time anyone reached ``m`` (before T0 said as such)."""
        if m.before_t0:
            return self("before_t0")
        return self.shown(m.display, m.seconds, m.bound_seconds, m.censored)

    def prov(self, p: DrillProvenance | None) -> str:
        """A drill's provenance in a few words, for the trend: "imported", "live · ×40"."""
        if p is None:
            return ""
        words = [self(f"short_{p.kind}")]
        if p.clock == "scaled":
            words.append(f"×{p.speed:g}")
        elif p.clock == "virtual":
            words.append(self("short_virtual"))
        if p.simulated:
            words.append(self("label_simulated"))
        return " · ".join(words)

    def amended(self, a: AmendmentItem) -> str:
        """What an amendment moved, from the entry it names (never the scorer's English)."""
        if self._by_seq is None:  # once: a search per amendment made long records quadratic
            named = {item.target_seq for item in self.card.amendments}
            self._by_seq = {e.seq: e for e in self.card.entries() if e.seq in named}
        target = self._by_seq.get(a.target_seq)
        if target is None:
            return a.what if not self._ja else f"#{a.target_seq}"
        who = f" · {target.actor}" if target.actor else ""
        return f"{self.entry(target)}{who}"

    def objective_status(self, m: MilestoneResult) -> str:
        objective = m.objective
        if objective is None:
            return ""
        return self(objective.status if objective.status != "open" else "open")

    def reason(self, text: str) -> str:
        return reason_text(text, "ja" if self._ja else "en")

    def notice_status(self, status: str) -> str:
        key = f"notice_status_{status}"
        return self(key) if key in CATALOG else status

    def minutes(self, whole: int) -> str:
        """An axis label: always minutes, so 0 reads "0 min" and not "0 s"."""
        return f"{whole}分" if self._ja else f"{whole} min"

    def notice(self, status: str) -> str:
        return ("告知 " if self._ja else "notice ") + self.notice_status(status)

    def clock(self, at: float | None) -> str:
        return "–" if at is None else format_clock(at)

    def milestone(self, name: str) -> str:
        m = self.card.milestones.get(name)
        if m is None:
            return name.replace("_", " ")
        return m.label_ja if self._ja else m.label

    def line_label(self, line: TrendLine) -> str:
        return line.label_ja if self._ja else line.label

    def roles(self, roles: list[str]) -> str:
        return "、".join(roles) if self._ja else ", ".join(roles)

    def gap(self, gap: Gap) -> str:
        template = _GAPS_JA.get(gap.kind) if self._ja else None
        if template is None:
            return gap.text
        if gap.kind in ("fault_failed", "revert_failed", "runbook_failed"):
            return template.format(text=gap.text, actor=gap.actor)
        objective = self.card.milestones.get(gap.milestone or "")
        by = ""
        if objective is not None and objective.objective is not None and objective.objective.by:
            by = "、" + self("by_roles", roles=self.roles(objective.objective.by))
        took = (
            self.timing(gap.seconds)
            if gap.seconds is not None
            else self("not_reached_observed", t=self.observed())
        )
        return template.format(
            milestone=self.milestone(gap.milestone or ""),
            took=took,
            limit=self.timing(gap.limit),
            by=by,
            role=gap.role,
            actor=gap.actor,
            tool=gap.tool,
            count=gap.count,
            needed=gap.needed,
        )

    def entry(self, entry: Shown) -> str:
        """What a timeline entry says in this language (plain text: the template escapes)."""
        lang: Lang = "ja" if self._ja else "en"
        return describe(entry, lang, self.milestone)

    def lane(self, lane: str) -> str:
        return self(f"lane_{lane}")

    def change(self, line: TrendLine) -> str:
        return self(f"change_{line.change}")
