"""The words of the report in English and Japanese (``--lang ja``).

The Scorecard keeps ids and English text; everything a reader sees in a report goes through a
``Texts`` for one language, so the HTML and the Markdown say the same thing in the same words.
"""

from __future__ import annotations

from kunren.durations import format_clock
from kunren.scorers.card import Gap, Scorecard, TimelineEntry, TrendLine
from kunren.scorers.display import format_timing

LANGS: tuple[str, ...] = ("en", "ja")

CATALOG: dict[str, tuple[str, str]] = {
    "report": ("Drill report", "訓練レポート"),
    "drill": ("Drill", "訓練"),
    "series": ("Series", "シリーズ"),
    "started": ("Started", "開始"),
    "duration": ("Planned length", "予定時間"),
    "ran_for": ("Ran for", "実施時間"),
    "source": ("Recorded by", "記録方法"),
    "source_import": ("kunren import (typed in afterwards)", "kunren import（後から入力）"),
    "source_conductor": ("the conductor (live)", "コンダクター（実施中に記録）"),
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
    "reverted": ("Reverted", "復元"),
    "targets": ("Resources", "リソース"),
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
    "milestones": ("Milestones per role", "ロール別マイルストーン"),
    "milestone": ("Milestone", "マイルストーン"),
    "first": ("First", "最初"),
    "objective": ("Objective", "目標"),
    "not_reached": ("not reached", "未到達"),
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
}

_GAPS_JA = {
    "objective_missed": "{milestone}: {took}（目標 {limit}{by}）",
    "single_sender": "{actor} が告知 {count} 件をすべて送信しました（ほかに送った人はいません）",
    "lacked_access": "{actor}（{role}）は {tool} を開けませんでした",
    "understaffed": "{role}: 参加 {count} 人（必要 {needed} 人）",
}

_TIMELINE_JA = {
    "drill.started": "訓練開始",
    "drill.ended": "訓練終了",
    "drill.aborted": "訓練中止",
    "drill.resumed": "訓練再開",
    "fault.injected": "障害 {s} を注入",
    "fault.failed": "障害 {s} の注入に失敗",
    "fault.reverted": "障害 {s} を復元",
    "fault.revert_failed": "障害 {s} の復元に失敗",
    "load.stage": "負荷 {s} ユーザー",
    "probe.failed": "プローブ {s} 失敗",
    "probe.recovered": "プローブ {s} 回復",
    "alert": "アラート {s}",
    "runbook": "ランブック {s} を実行",
    "readiness": "{s} を開けない",
    "participant.joined": "{s} として参加",
}

_NOTICE_JA = {
    "drafted": "告知の下書き",
    "approved": "告知を承認",
    "rejected": "告知を差し戻し",
    "sent": "告知を送信",
    "failed": "告知の送信に失敗",
}


class Texts:
    """Labels and phrases in one language, handed to the templates as ``tx``."""

    def __init__(self, lang: str, card: Scorecard) -> None:
        self.lang = lang
        self.card = card
        self._ja = lang == "ja"

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
        if not self._ja:
            return display
        return self.timing(bound if censored else seconds, censored)

    def minutes(self, whole: int) -> str:
        """An axis label: always minutes, so 0 reads "0 min" and not "0 s"."""
        return f"{whole}分" if self._ja else f"{whole} min"

    def notice(self, status: str) -> str:
        return _NOTICE_JA.get(status, status) if self._ja else f"notice {status}"

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
        objective = self.card.milestones.get(gap.milestone or "")
        by = ""
        if objective is not None and objective.objective is not None and objective.objective.by:
            by = "、" + self("by_roles", roles=self.roles(objective.objective.by))
        took = self.timing(gap.seconds) if gap.seconds is not None else self("not_reached")
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

    def entry(self, entry: TimelineEntry) -> str:
        """What a timeline entry says; English keeps the recorded wording."""
        if entry.kind == "milestone":
            return self.milestone(entry.subject) + entry.text[len(entry.subject) :]
        if not self._ja:
            return entry.text
        if entry.kind == "notification":
            return _NOTICE_JA.get(entry.subject, entry.text)
        if entry.kind in ("note", "inject"):
            return entry.text
        template = _TIMELINE_JA.get(entry.kind)
        if template is None:
            return entry.text
        text = template.format(s=entry.subject)
        if entry.lane == "drill" and ": " in entry.text:
            text += "：" + entry.text.split(": ", 1)[1]  # the reason, as recorded
        return text

    def lane(self, lane: str) -> str:
        return self(f"lane_{lane}")

    def change(self, line: TrendLine) -> str:
        return self(f"change_{line.change}")
