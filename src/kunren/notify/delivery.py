"""One channel's part of one send: each language group its own version, or a retry.

A per-recipient channel (email, capture) sends every recipient the version in their own
language; a broadcast channel (a webhook, a topic) posts once, in the sender's language. On a
retry only the recipients the channel did not reach last time are sent to, so a customer who
got the notice never gets it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kunren.notify.base import AnyChannel
from kunren.notify.compose import by_language
from kunren.notify.dispatch import Dispatcher
from kunren.notify.drafts import NoticeDraft
from kunren.notify.message import Delivery, OutgoingNotice, Recipient


@dataclass(frozen=True)
class ChannelRound:
    make: Callable[[], AnyChannel]  # a fresh channel per dispatch (a dispatch closes its channels)
    dispatcher: Dispatcher
    draft: NoticeDraft
    default_lang: str
    missed: list[str] | None  # a retry: the addresses (or destination) not reached last time

    async def send(
        self, base: OutgoingNotice, everyone: list[Recipient]
    ) -> tuple[int, Delivery, dict[str, int]]:
        """(recipients addressed, what happened, recipients per language version)."""
        first = self.make()
        recipients = self._targets(first, everyone)
        if first.per_recipient:
            groups = by_language(recipients, self.draft, self.default_lang)
        else:
            groups = {self.draft.lang: recipients}
        total, merged, languages = 0, Delivery(), {}
        channel: AnyChannel | None = first
        for lang, group in groups.items():
            each = channel or self.make()
            channel = None
            each.prepare()
            wording = self.draft.wording(lang)
            outgoing = base.model_copy(
                update={"lang": lang, "subject": wording.subject, "body": wording.body}
            )
            ((count, delivery),) = await self.dispatcher.dispatch([each], outgoing, group)
            total += count
            languages[lang] = len(group)
            merged = Delivery(
                delivered=merged.delivered + delivery.delivered,
                failed=merged.failed + delivery.failed,
                captured=merged.captured + delivery.captured,
                error=merged.error or delivery.error,
            )
        return total, merged, languages

    def _targets(self, channel: AnyChannel, everyone: list[Recipient]) -> list[Recipient]:
        if self.missed is None or not channel.per_recipient:
            return everyone
        missed = {address.lower() for address in self.missed}
        return [r for r in everyone if r.email.lower() in missed]
