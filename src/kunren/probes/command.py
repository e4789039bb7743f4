from __future__ import annotations

from kunren.probes.base import NotBuiltProbe


class CommandProbe(NotBuiltProbe):
    pass
