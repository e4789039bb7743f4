"""The public surface: ``__all__`` sorted, complete, and every name importable."""

from __future__ import annotations

import subprocess
import sys

import kunren


def test_all_is_sorted_and_matches_the_exports() -> None:
    assert kunren.__all__ == sorted(kunren.__all__)
    assert set(kunren.__all__) == set(kunren._EXPORTS) | {"__version__"}


def test_every_public_name_resolves() -> None:
    for name in kunren.__all__:
        assert getattr(kunren, name) is not None, name


def test_unknown_names_raise_attribute_error() -> None:
    try:
        kunren.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_kunren_loads_no_submodule_but_the_lazy_resolver() -> None:
    code = "import sys, kunren; print(sorted(m for m in sys.modules if m.startswith('kunren.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['kunren.lazy']"  # its one function, and importlib


def test_the_notify_packages_resolve_their_names_on_first_use() -> None:
    code = (
        "import sys, kunren.notify.channels as c; before = sorted(m for m in sys.modules "
        "if m.startswith('kunren.notify.')); c.EmailChannel; import kunren.notify as n; "
        "n.Recipient; print(before, 'kunren.notify.smtp' in sys.modules, "
        "'kunren.notify.webhooks' in sys.modules, 'kunren.notify.service' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['kunren.notify.channels']", "True", "False", "False"]


def test_every_event_type_of_the_record_is_exported() -> None:
    from typing import get_args

    from kunren.record.events import Event

    union, _discriminator = get_args(Event)
    for cls in get_args(union):
        assert getattr(kunren, cls.__name__) is cls, cls.__name__
    assert kunren.Event is Event


def test_what_a_plugin_author_needs_is_exported() -> None:
    from kunren.injectors.base import FaultRequest, Injector
    from kunren.notify.base import Channel
    from kunren.probes.base import Probe, ProbeResult

    needed = {
        "Injector": Injector,
        "FaultRequest": FaultRequest,
        "Probe": Probe,
        "ProbeResult": ProbeResult,
        "Channel": Channel,
    }
    for name, value in needed.items():
        assert getattr(kunren, name) is value, name
    for name in ("Planned", "Injected", "Handle", "NoParams", "Scorer", "ScoringContext"):
        assert name in kunren.__all__, name
    for name in ("Delivery", "OutgoingNotice", "Recipient", "drill_context", "DrillContext"):
        assert name in kunren.__all__, name
