"""kunren's benchmarks: the timing, scale and no-data-loss claims, each against a baseline.

``python -m bench`` runs them all and prints one table; ``--quick`` runs smaller versions.
See ``bench/README.md`` and ``docs/benchmarks.md``.
"""
