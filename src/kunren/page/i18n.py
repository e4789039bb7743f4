"""The participant and facilitator pages in English and Japanese.

Support staff take part from their own laptop or phone, in their own language. The language is
``?lang=`` (remembered in a cookie), else the browser's ``Accept-Language``, else the scenario's
``lang``. Every string has both languages; a test keeps it so.
"""

from __future__ import annotations

from collections.abc import Callable

from kunren.page.strings_notices import NOTICE_STRINGS
from kunren.page.strings_timeline import TIMELINE_STRINGS
from kunren.scenarios.models import Scenario

LANGS: tuple[str, ...] = ("en", "ja")
LANG_NAMES: dict[str, str] = {"en": "English", "ja": "日本語"}

STRINGS: dict[str, dict[str, str]] = {
    # -- join
    "join_title": {"en": "Join the drill", "ja": "訓練に参加"},
    "join_intro": {
        "en": "Enter your name, then press the button of your role. "
        "Every button you press is timed.",
        "ja": "お名前を入力して、ご自分の役割のボタンを押してください。"
        "押したボタンはすべて時刻が記録されます。",
    },
    "your_name": {"en": "Your name", "ja": "お名前"},
    "your_role": {"en": "Your role", "ja": "役割"},
    "join": {"en": "Join", "ja": "参加する"},
    "change_identity": {"en": "Not you? Change name or role", "ja": "名前・役割を変更"},
    # -- page
    "drill_time": {"en": "Drill time", "ja": "訓練時間"},
    "drill_ended": {"en": "The drill has ended.", "ja": "訓練は終了しました。"},
    "drill_aborted": {
        "en": "The drill was aborted: {reason}",
        "ja": "訓練は中止されました: {reason}",
    },
    "messages": {"en": "Messages for you", "ja": "あなた宛てのお知らせ"},
    "no_messages": {"en": "Nothing yet.", "ja": "まだありません。"},
    "inject_announcement": {"en": "Announcement", "ja": "お知らせ"},
    "inject_inquiry": {"en": "Customer inquiry", "ja": "お客様からの問い合わせ"},
    "inject_unavailable": {"en": "Unavailable", "ja": "不在"},
    "unavailable_text": {
        "en": "{who} cannot be reached for now.",
        "ja": "{who} さんは現在連絡がつきません。",
    },
    "milestones": {"en": "Press when it happens", "ja": "起きたら押してください"},
    "note_optional": {"en": "Note (optional)", "ja": "メモ(任意)"},
    "recorded_at": {"en": "Recorded at T+{at}", "ja": "T+{at} に記録しました"},
    "already_recorded": {"en": "Already recorded at T+{at}", "ja": "T+{at} に記録済みです"},
    "sending": {"en": "Sending…", "ja": "送信中…"},
    "network_error": {
        "en": "Not sent. Check your connection and press again.",
        "ja": "送信できませんでした。接続を確認してもう一度押してください。",
    },
    # -- runbooks
    "runbooks": {"en": "Runbooks you may run", "ja": "実行できるランブック"},
    "runbook_confirm": {"en": "Run “{title}” now?", "ja": "「{title}」を今すぐ実行しますか?"},
    "runbook_doc": {"en": "Read the manual", "ja": "手順書を読む"},
    "run": {"en": "Yes, run it", "ja": "はい、実行します"},
    "runbook_ok": {"en": "Done: {detail}", "ja": "完了: {detail}"},
    "runbook_failed": {"en": "Failed: {detail}", "ja": "失敗: {detail}"},
    "runbook_refused": {"en": "Refused: {detail}", "ja": "実行されませんでした: {detail}"},
    "runbook_busy": {
        "en": "This runbook is already running; wait for its result.",
        "ja": "このランブックは実行中です。結果をお待ちください。",
    },
    # -- readiness
    "readiness": {
        "en": "Can you open the tools your role needs?",
        "ja": "役割に必要なツールを開けますか?",
    },
    "readiness_intro": {
        "en": "Open each link, then say whether it worked.",
        "ja": "各リンクを開いて、開けたかどうかを教えてください。",
    },
    "tool_opens": {"en": "It opens", "ja": "開けた"},
    "tool_fails": {"en": "It does not open", "ja": "開けない"},
    "readiness_ok": {"en": "Recorded: {tool} opens", "ja": "記録しました: {tool} を開けます"},
    "readiness_no": {
        "en": "Recorded: {tool} does not open",
        "ja": "記録しました: {tool} を開けません",
    },
    # -- notes
    "add_note": {"en": "Add a note to the record", "ja": "記録にメモを残す"},
    "note_button": {"en": "Add note", "ja": "メモを残す"},
    "note_recorded": {"en": "Note recorded", "ja": "メモを記録しました"},
    # -- customer notices
    "notice_send": {"en": "Send to customers", "ja": "お客様に送信"},
    "notices_pending": {"en": "Waiting for your approval", "ja": "あなたの承認待ち"},
    "notice_by": {"en": "Drafted by {author}", "ja": "作成: {author}"},
    "notice_approve": {"en": "Approve", "ja": "承認する"},
    "notice_reject": {"en": "Send back", "ja": "差し戻す"},
    "notice_approved": {"en": "Notice {notice} approved.", "ja": "告知 {notice} を承認しました。"},
    "notice_rejected": {
        "en": "Notice {notice} sent back.",
        "ja": "告知 {notice} を差し戻しました。",
    },
    "notices_ready": {"en": "Approved, ready to send", "ja": "承認済み(送信できます)"},
    "notice_busy": {
        "en": "This notice is being sent already.",
        "ja": "この告知はすでに送信中です。",
    },
    "err_notice": {"en": "{message}", "ja": "{message}"},
    "err_notice_role": {
        "en": "Your role does not send customer notices in this drill.",
        "ja": "この訓練ではあなたの役割はお客様への告知を送りません。",
    },
    # -- facilitator
    "facilitator": {"en": "Facilitator", "ja": "ファシリテーター"},
    "participants": {"en": "Participants", "ja": "参加者"},
    "no_participants": {"en": "Nobody has joined yet.", "ja": "まだ誰も参加していません。"},
    "col_name": {"en": "Name", "ja": "名前"},
    "col_role": {"en": "Role", "ja": "役割"},
    "col_joined": {"en": "Joined", "ja": "参加"},
    "col_tools": {"en": "Tools", "ja": "ツール"},
    "tools_missing": {"en": "cannot open: {tools}", "ja": "開けない: {tools}"},
    "tools_ok": {"en": "all open", "ja": "すべて開ける"},
    "tools_unanswered": {"en": "not answered", "ja": "未回答"},
    "tools_none": {"en": "none needed", "ja": "不要"},
    "timeline": {"en": "Timeline (newest first)", "ja": "タイムライン(新しい順)"},
    "col_seq": {"en": "#", "ja": "#"},
    "col_time": {"en": "Time", "ja": "時刻"},
    "col_event": {"en": "Event", "ja": "イベント"},
    "col_detail": {"en": "Detail", "ja": "詳細"},
    "amended_to": {"en": "amended to T+{at}", "ja": "T+{at} に修正済み"},
    "amend": {"en": "Amend a recorded time", "ja": "記録時刻の修正"},
    "amend_seq": {"en": "Event #", "ja": "イベント番号"},
    "amend_time": {"en": "New drill time (12:30 or 5m)", "ja": "新しい訓練時刻(12:30 や 5m)"},
    "reason": {"en": "Reason", "ja": "理由"},
    "amend_button": {"en": "Amend", "ja": "修正する"},
    "amended": {
        "en": "Event #{seq} amended to T+{at}",
        "ja": "イベント #{seq} を T+{at} に修正しました",
    },
    "mark_for": {"en": "Mark a milestone for someone", "ja": "代理でマイルストーンを記録"},
    "mark_for_help": {
        "en": "Recorded now as the facilitator's mark, for any milestone and any role. "
        "Amend its time below if it happened earlier.",
        "ja": "ファシリテーターの記録として今の時刻で記録します。どのマイルストーン・役割でも"
        "記録できます。実際の時刻が早ければ下の「記録時刻の修正」で直してください。",
    },
    "mark_person": {"en": "Who reached it", "ja": "到達した人"},
    "mark_milestone": {"en": "Milestone", "ja": "マイルストーン"},
    "mark_button": {"en": "Record the mark", "ja": "記録する"},
    "marked_for": {
        "en": "Recorded for {actor} at T+{at}",
        "ja": "{actor} さんの分を T+{at} に記録しました",
    },
    "abort": {"en": "Abort the drill", "ja": "訓練の中止"},
    "abort_confirm": {
        "en": "Yes, abort the drill and undo every fault",
        "ja": "はい、訓練を中止してすべての障害を元に戻します",
    },
    "abort_button": {"en": "Abort now", "ja": "今すぐ中止"},
    "abort_requested": {"en": "Abort requested.", "ja": "中止を要求しました。"},
    "facilitator_name": {"en": "Your name (optional)", "ja": "お名前(任意)"},
    "intake": {"en": "Alert intake", "ja": "アラートの受付"},
    # -- errors
    "error": {"en": "Error", "ja": "エラー"},
    "err_token": {
        "en": "This page needs the drill link with its token. Ask the facilitator for the link.",
        "ja": "このページを開くにはトークン付きの訓練リンクが必要です。"
        "ファシリテーターにリンクを確認してください。",
    },
    "err_facilitator_only": {
        "en": "This page is for the facilitator only.",
        "ja": "このページはファシリテーター専用です。",
    },
    "err_cross_site": {
        "en": "Refused: the request did not come from this drill's page.",
        "ja": "拒否しました: この訓練のページからの送信ではありません。",
    },
    "err_csrf": {
        "en": "This form has expired. Reload the page and try again.",
        "ja": "フォームの有効期限が切れました。ページを再読み込みしてやり直してください。",
    },
    "err_too_large": {
        "en": "Too much data (the limit is {limit} KiB).",
        "ja": "データが大きすぎます(上限 {limit} KiB)。",
    },
    "err_name": {
        "en": "Enter a name of 1 to {limit} characters.",
        "ja": "名前は1〜{limit}文字で入力してください。",
    },
    "err_note": {
        "en": "Notes are limited to {limit} characters.",
        "ja": "メモは{limit}文字までです。",
    },
    "err_text": {
        "en": "Write 1 to {limit} characters.",
        "ja": "1〜{limit}文字で入力してください。",
    },
    "err_reason": {
        "en": "Give a reason of 1 to {limit} characters.",
        "ja": "理由を1〜{limit}文字で入力してください。",
    },
    "err_role": {"en": "Pick one of the drill's roles.", "ja": "訓練の役割から選んでください。"},
    "err_join_first": {"en": "Join the drill first.", "ja": "先に訓練に参加してください。"},
    "err_milestone": {
        "en": "That milestone is not one of your role's.",
        "ja": "そのマイルストーンはあなたの役割にはありません。",
    },
    "err_milestone_role": {
        "en": "Your role ({role}) cannot mark “{milestone}”. Your role's milestones: {names}. "
        "The facilitator can record it for you.",
        "ja": "あなたの役割（{role}）では「{milestone}」は記録できません。"
        "この役割のマイルストーン: {names}。ファシリテーターが代わりに記録できます。",
    },
    "err_runbook": {
        "en": "That runbook is not available to your role.",
        "ja": "そのランブックはあなたの役割では使えません。",
    },
    "err_runbook_error": {
        "en": "The runbook could not be run. The facilitator can see what happened.",
        "ja": "ランブックを実行できませんでした。詳細はファシリテーターが確認できます。",
    },
    "err_tool": {
        "en": "That tool is not one your role needs.",
        "ja": "そのツールはあなたの役割には含まれていません。",
    },
    "err_ended": {
        "en": "The drill has ended; nothing was recorded.",
        "ja": "訓練は終了しています。記録されませんでした。",
    },
    "err_bad_request": {
        "en": "The request could not be read.",
        "ja": "リクエストを読み取れませんでした。",
    },
    "err_not_found": {"en": "Not found.", "ja": "見つかりません。"},
    "err_method": {"en": "That method is not allowed here.", "ja": "この操作はできません。"},
    "err_amend_seq": {
        "en": "There is no event #{seq} to amend.",
        "ja": "修正できるイベント #{seq} がありません。",
    },
    "err_amend_time": {
        "en": "Give the new time as 12:30, 1:02:03 or 5m.",
        "ja": "新しい時刻は 12:30、1:02:03、5m のように入力してください。",
    },
    "err_abort_confirm": {
        "en": "Tick the confirmation box to abort.",
        "ja": "中止するには確認のチェックを入れてください。",
    },
    "err_internal": {
        "en": "Something went wrong on the drill server. The drill is still running; try again.",
        "ja": "訓練サーバーで問題が起きました。訓練は続いています。もう一度お試しください。",
    },
    "err_not_recorded": {
        "en": "Not recorded: the drill server cannot write its record (a disk error). "
        "Tell the facilitator.",
        "ja": "記録できませんでした: 訓練サーバーが記録を書き込めません(ディスクのエラー)。"
        "ファシリテーターに伝えてください。",
    },
    "err_not_recorded_full": {
        "en": "Not recorded: the drill server's disk is full, so its record cannot be written. "
        "Tell the facilitator.",
        "ja": "記録できませんでした: 訓練サーバーのディスクがいっぱいで、記録を書き込めません。"
        "ファシリテーターに伝えてください。",
    },
    "err_stopping": {
        "en": "The drill server is stopping; nothing was recorded.",
        "ja": "訓練サーバーを停止しています。記録されませんでした。",
    },
    "back": {"en": "Back to the drill page", "ja": "訓練ページに戻る"},
}


STRINGS.update(NOTICE_STRINGS)
STRINGS.update(TIMELINE_STRINGS)


def role_label(scenario: Scenario, role: str, t: Callable[..., str]) -> str:
    """A role as people read it: the scenario's label, else a built-in name, else its key."""
    lang = getattr(t, "lang", "en")
    spec = scenario.roles.get(role)
    if spec is not None:
        if lang == "ja" and spec.label_ja:
            return spec.label_ja
        if spec.label:
            return spec.label
    key = f"role_{role}"
    text = t(key)
    return role if text == key else text


def pick_lang(
    query: str | None, cookie: str | None, accept_language: str | None, default: str
) -> str:
    """The page language: explicit choice, then remembered choice, then browser, then scenario."""
    for explicit in (query, cookie):
        if explicit in LANGS:
            return explicit
    for lang in _accepted(accept_language or ""):
        if lang in LANGS:
            return lang
    return default if default in LANGS else "en"


def _accepted(header: str) -> list[str]:
    """Primary language tags of ``Accept-Language``, most preferred first."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, index, primary))
    return [lang for _, _, lang in sorted(ranked)]


class Translator:
    """``t("key", name=...)`` in one language, English when a key lacks it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"

    def __call__(self, key: str, **values: object) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return key
        text = entry.get(self.lang) or entry["en"]
        return text.format(**values) if values else text
