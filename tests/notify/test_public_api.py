"""The public surface of kunren.notify and the channel entry points stay complete."""

from __future__ import annotations

import kunren.notify
from kunren import plugins
from kunren.notify.base import Channel


def test_all_is_sorted_and_every_name_exists() -> None:
    names = kunren.notify.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(kunren.notify, name) for name in names)


def test_every_built_in_channel_loads_through_its_entry_point() -> None:
    expected = {"capture", "email", "slack", "webhook", "sns", "statuspage"}
    assert expected <= set(plugins.names(plugins.CHANNELS))
    for name in expected:
        cls = plugins.load(plugins.CHANNELS, name)
        assert issubclass(cls, Channel)
        assert cls.available and cls.name == name
    infos = {i.name: i for i in plugins.describe(plugins.CHANNELS)}
    assert infos["sns"].extra == "aws"
    assert infos["email"].summary.startswith("SMTP: one message per recipient")
