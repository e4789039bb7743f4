"""Turning a sender's request into the notice's wording: every language, checked.

A mixed audience is told in each recipient's own language: a Japanese-speaking customer gets
the Japanese version, an English-speaking one the English version, whenever the template has
that language; everyone else gets the version the sender chose. So a notice is rendered once
per language of its template, with the same values, and all versions are stored with the
draft: what the approver approves is every version that goes out.

The version the sender reads is also checked here: the template's own warnings (no next
update, a promised fix time), the audience's (duplicates), and the scenario's checklist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kunren.notify.audiences import Audience, AudienceBook, audience_warnings
from kunren.notify.checklist import check, internal_names, lacking
from kunren.notify.drafts import NoticeDraft, NoticeRequest, Wording
from kunren.notify.message import Recipient
from kunren.notify.safety import mark_body, mark_subject
from kunren.notify.templates import TemplateSet, check_notice
from kunren.scenarios.models import Notifications, Scenario


class Composer:
    """Renders requests for one drill: templates, audiences and the checklist."""

    def __init__(
        self,
        scenario: Scenario,
        templates: TemplateSet,
        audiences: AudienceBook,
        channels: Callable[[NoticeRequest], list[str]],
    ) -> None:
        self.notifications: Notifications = scenario.notifications or Notifications()
        self.templates = templates
        self.audiences = audiences
        self._channels = channels
        self._internal = internal_names(scenario)

    def audience(self, request: NoticeRequest) -> Audience:
        return self.audiences.load(request.audience or self.audiences.default_name())

    def render(
        self,
        request: NoticeRequest,
        values: Mapping[str, str],
        author: str,
        role: str | None,
        strict: bool,
    ) -> tuple[NoticeDraft, list[str]]:
        """The notice a request makes (not stored), and the variables nobody gave."""
        lang, rendered = self.templates.render(request.template, request.lang, values, strict)
        group = self.audience(request)
        warnings = check_notice(request.template, rendered, values)
        warnings += [
            w
            for w in audience_warnings(group, lang, self.audiences.default_lang)
            if w.code != "language-mismatch" or not self._covers(request.template, group)
        ]
        versions = {
            lang: Wording(
                subject=mark_subject(rendered.subject), body=mark_body(rendered.body, lang)
            )
        }
        for other in self.templates.languages(request.template):
            if other != lang:
                _, each = self.templates.render(request.template, other, values, strict)
                versions[other] = Wording(
                    subject=mark_subject(each.subject), body=mark_body(each.body, other)
                )
        results = check(
            self.notifications.checklist,
            state=request.template,
            text=f"{rendered.subject}\n{rendered.body}",
            values=values,
            used=rendered.used,
            internal=self._internal,
        )
        draft = NoticeDraft(
            notice="",
            template=request.template,
            lang=lang,
            audience=group.name,
            vars=dict(values),
            channels=self._channels(request),
            subject=versions[lang].subject,
            body=versions[lang].body,
            author=author,
            role=role,
            warnings=warnings,
            versions=versions,
            checks=results,
            lacking=lacking(results),
        )
        return draft, rendered.missing

    def _covers(self, template: str, group: Audience) -> bool:
        """Every recipient's language has a version: nobody gets a language not theirs."""
        have = set(self.templates.languages(template))
        return set(group.languages(self.audiences.default_lang)) <= have


def by_language(
    recipients: Sequence[Recipient], draft: NoticeDraft, default_lang: str
) -> dict[str, list[Recipient]]:
    """Recipients grouped by the version each gets: their own language where the notice has
    it, else the sender's chosen language. The chosen language comes first."""
    groups: dict[str, list[Recipient]] = {draft.lang: []}
    for recipient in recipients:
        wanted = recipient.language or default_lang
        groups.setdefault(wanted if wanted in draft.versions else draft.lang, []).append(recipient)
    return {lang: group for lang, group in groups.items() if group}


def language_counts(
    recipients: Sequence[Recipient], draft: NoticeDraft, default_lang: str
) -> dict[str, int]:
    return {
        lang: len(group) for lang, group in by_language(recipients, draft, default_lang).items()
    }
