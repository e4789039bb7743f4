"""kunren-example: a complete kunren plugin package to copy (see docs/guides/plugin-authors.md).

The plugin classes live in :mod:`kunren_example.flags`; kunren finds them through the entry
points in this package's pyproject.toml, never by importing this package itself.
"""

__all__: list[str] = []
