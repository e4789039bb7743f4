"""The page's words for customer notices and the drill's end, in English and Japanese.

Kept apart from ``i18n`` (which merges them) because the notice composer is where most of
the page's words are; each entry has both languages, and a test keeps it so.
"""

from __future__ import annotations

NOTICE_STRINGS: dict[str, dict[str, str]] = {
    # -- roles: built-in names for the usual roles (a scenario's label wins)
    "role_sre": {"en": "SRE", "ja": "SRE"},
    "role_support": {"en": "Support", "ja": "サポート"},
    "role_engineer": {"en": "Engineer", "ja": "エンジニア"},
    "role_commander": {"en": "Incident commander", "ja": "指揮者"},
    "role_participant": {"en": "Participant", "ja": "参加者"},
    "join_as": {"en": "Join as {role}", "ja": "{role}として参加"},
    # -- the situation above the composer
    "situation": {"en": "What is happening", "ja": "いまの状況"},
    "failing_now": {"en": "Failing now: {names}", "ja": "現在うまく動いていないもの: {names}"},
    # -- composing
    "notices": {"en": "Tell customers", "ja": "お客様へのお知らせ"},
    "notice_template": {"en": "Which notice?", "ja": "どのお知らせを送りますか"},
    "notice_lang": {
        "en": "Language for customers with none on file",
        "ja": "言語の登録がないお客様に送る言語",
    },
    "notice_audience": {"en": "Send to", "ja": "送信先"},
    "notice_variables": {"en": "What the notice says", "ja": "お知らせの内容"},
    "notice_example": {"en": "e.g. {example}", "ja": "例: {example}"},
    "notice_zone": {
        "en": "Times are in {zone} (now {now} {zone}).",
        "ja": "時刻は {zone} で書きます(現在 {now} {zone})。",
    },
    "reach_live": {
        "en": "{count} customers. This is live: every one of them gets it.",
        "ja": "お客様 {count} 名。本番送信です。全員に届きます。",
    },
    "reach_all": {
        "en": "{count} customers; every one of them gets it.",
        "ja": "お客様 {count} 名。全員に届きます。",
    },
    "reach_none": {
        "en": "{count} customers. In this drill nobody really gets it: all are only recorded.",
        "ja": "お客様 {count} 名。この訓練では実際には誰にも届きません(全員記録のみ)。",
    },
    "reach_drill": {
        "en": "{count} customers. In this drill only {allowed} really get it; "
        "the other {held} are only recorded.",
        "ja": "お客様 {count} 名。この訓練で実際に届くのは {allowed} 名です"
        "(残り {held} 名は記録のみで、送られません)。",
    },
    "lang_count": {"en": "{lang} {count}", "ja": "{lang} {count} 名"},
    "notice_each_language": {
        "en": "Each customer gets their own language: {counts}.",
        "ja": "お客様ごとの言語で届きます: {counts}。",
    },
    "notice_preview": {"en": "Preview", "ja": "プレビュー"},
    "notice_previewed": {
        "en": "Check the preview below.",
        "ja": "下のプレビューを確認してください。",
    },
    "notice_checklist": {"en": "Checklist", "ja": "チェックリスト"},
    "check_affected": {"en": "Says what is affected", "ja": "何が使えないかを書いている"},
    "check_workaround": {
        "en": "Says what customers can do meanwhile",
        "ja": "お客様にできること(代替案)を書いている",
    },
    "check_next_update": {
        "en": "Says when the next update comes",
        "ja": "次のお知らせの時刻を書いている",
    },
    "check_no_eta": {
        "en": "Promises no time for the fix",
        "ja": "復旧時刻を約束していない",
    },
    "check_no_internal_hosts": {
        "en": "Names no internal server or address",
        "ja": "社内のサーバー名やアドレスを書いていない",
    },
    "check_found": {"en": "(found: “{found}”)", "ja": "(「{found}」があります)"},
    "notice_missing": {"en": "Still to fill in: {names}", "ja": "未入力: {names}"},
    "warn_no_next_update": {
        "en": "No time for the next update: say when customers hear from you next.",
        "ja": "次のお知らせの時刻がありません。次にいつお知らせするかを書いてください。",
    },
    "warn_eta_promised": {
        "en": "It promises when the fix comes: promise the next update instead.",
        "ja": "復旧時刻を約束しています。約束するのは次のお知らせの時刻にしてください。",
    },
    "warn_duplicates": {
        "en": "Some addresses are listed twice; each gets one message.",
        "ja": "同じアドレスが重複しています。1 通ずつだけ送ります。",
    },
    "warn_language_mismatch": {
        "en": "Some customers prefer a language this notice does not have.",
        "ja": "このお知らせにない言語を希望するお客様がいます。",
    },
    "notice_next": {"en": "Next: send…", "ja": "送信へ進む"},
    "notice_back": {"en": "Back to editing", "ja": "戻って直す"},
    "notice_confirm": {
        "en": "Send this notice to {count} customers? In this drill {allowed} really get it "
        "and {held} are only recorded.",
        "ja": "このお知らせをお客様 {count} 名に送信しますか? "
        "この訓練で実際に届くのは {allowed} 名、残り {held} 名は記録のみです。",
    },
    "notice_confirm_live": {
        "en": "Send this notice to {count} real customers now?",
        "ja": "このお知らせを実際のお客様 {count} 名に今すぐ送信しますか?",
    },
    "notice_send_to": {"en": "Yes, send to {count}", "ja": "はい、{count} 名に送信します"},
    "notice_request_approval": {
        "en": "Ask {roles} to approve",
        "ja": "{roles}に承認を依頼",
    },
    "notice_drafted": {
        "en": "Sent to {roles} for approval. Once approved it shows here, ready to send.",
        "ja": "{roles}に承認を依頼しました。承認されると、ここに送信ボタンが表示されます。",
    },
    # -- the result
    "notice_reached": {
        "en": "Sent: {delivered} people got it.",
        "ja": "送信しました。{delivered} 名に届きました。",
    },
    "notice_captured": {
        "en": "{captured} more were only recorded (drill).",
        "ja": "ほか {captured} 名は訓練のため記録のみです。",
    },
    "notice_not_reached": {
        "en": "Sending failed: {failed} people did not get it ({delivered} did).",
        "ja": "送信に失敗しました: {failed} 名に届いていません(届いたのは {delivered} 名)。",
    },
    "notice_reason": {"en": "Reason: {reason}", "ja": "理由: {reason}"},
    "reason_unreachable": {
        "en": "Reason: the mail server did not answer ({detail})",
        "ja": "理由: メールサーバーに接続できませんでした({detail})",
    },
    "reason_refused": {
        "en": "Reason: the mail server refused the address ({detail})",
        "ja": "理由: メールサーバーがアドレスを受け付けませんでした({detail})",
    },
    "notice_retry": {
        "en": "Send again, only to the {failed} who did not get it",
        "ja": "届かなかった {failed} 名にだけ再送する",
    },
    "notices_sent": {"en": "Notices sent", "ja": "送信したお知らせ"},
    "sent_line": {
        "en": "{title}, T+{at}: {delivered} people got it",
        "ja": "{title}(T+{at}): {delivered} 名に届きました",
    },
    "sent_line_failed": {
        "en": "{title}, T+{at}: {failed} people did not get it",
        "ja": "{title}(T+{at}): {failed} 名に届いていません",
    },
    "notified_by_notice": {
        "en": "Recorded by your notice at T+{at}",
        "ja": "T+{at} のお知らせ送信で記録されました",
    },
    # -- errors from the notice service, in words
    "err_needs_approval": {
        "en": "Notices in this drill need approval by {roles} first.",
        "ja": "この訓練のお知らせは、先に{roles}の承認が必要です。",
    },
    "err_waits_approval": {
        "en": "This notice waits for approval by {roles}.",
        "ja": "このお知らせは{roles}の承認待ちです。",
    },
    "err_sent_already": {
        "en": "This notice was sent already and reached everyone.",
        "ja": "このお知らせは送信済みで、全員に届いています。",
    },
    "err_was_rejected": {
        "en": "This notice was sent back by {who}.",
        "ja": "このお知らせは {who} さんが差し戻しました。",
    },
    "err_may_not_decide": {
        "en": "Your role does not approve notices.",
        "ja": "あなたの役割ではお知らせを承認できません。",
    },
    "err_self_approval": {
        "en": "You wrote this notice: someone else approves it.",
        "ja": "このお知らせはあなたが作成しました。承認は別の人が行います。",
    },
    "err_missing_value": {
        "en": "Still to fill in: {names}",
        "ja": "未入力の項目があります: {names}",
    },
    "err_decided_already": {
        "en": "This notice was decided on already.",
        "ja": "このお知らせはすでに承認または差し戻しされています。",
    },
    # -- the drill's end
    "drill_over": {
        "en": "The drill time is over. Wait for the facilitator.",
        "ja": "訓練時間が終わりました。ファシリテーターの案内をお待ちください。",
    },
    "server_gone": {
        "en": "The drill server no longer answers: the drill has most likely ended. "
        "Nothing you press now is recorded.",
        "ja": "訓練サーバーが応答しません。訓練は終了したと思われます。"
        "これ以降の操作は記録されません。",
    },
    "summary": {"en": "Your drill in short", "ja": "あなたの訓練のまとめ"},
    "summary_milestone": {"en": "{label}: T+{at}", "ja": "{label}: T+{at}"},
    "summary_none": {"en": "Nothing was recorded for you.", "ja": "あなたの記録はありません。"},
}
