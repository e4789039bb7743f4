"""``kunren init``: a new game-day workspace with working examples.

A team starts from scenarios that already validate and run, not from an empty folder and the
reference. The examples ship inside the package (``kunren/scenarios/examples/``, a copy of the
repository's ``scenarios/`` that a test keeps identical), so ``init`` works from an installed
wheel with no checkout nearby.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from kunren.errors import UsageError

EXAMPLES_PACKAGE = "kunren.scenarios"
EXAMPLES_DIR = "examples"

FOLDER_READMES: dict[str, str] = {
    "drills": "One folder per drill run: `drills/<drill-id>/events.jsonl` (the record) and "
    "`scenario.yaml` (the scenario it ran).\n",
    "scorers": "Team-local scorer plugins (`*.py`), loaded with "
    "`kunren score --plugins-dir scorers/`.\n",
    "reports": "Rendered reports (HTML, Markdown, JSON) written by `kunren report`.\n",
}


def examples_root() -> Traversable:
    """The packaged example scenarios, templates and audiences."""
    return resources.files(EXAMPLES_PACKAGE) / EXAMPLES_DIR


def example_files() -> dict[str, bytes]:
    """Every packaged example file, by its path relative to ``scenarios/``."""
    found: dict[str, bytes] = {}
    _collect(examples_root(), "", found)
    return found


def init_workspace(dest: Path, *, force: bool = False) -> list[Path]:
    """Write a workspace into ``dest``; returns the files written, in order.

    ``dest`` must be missing or empty unless ``force`` is given; with ``force``, files of the
    same name are replaced and everything else in ``dest`` is left alone.
    """
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file, not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise UsageError(
            f"{dest} is not empty; use --force to add the example workspace to it "
            "(files of the same name are replaced)"
        )
    files = {f"scenarios/{name}": data for name, data in example_files().items()}
    files.update({f"{folder}/README.md": text.encode() for folder, text in FOLDER_READMES.items()})
    written = []
    try:
        for name, data in sorted(files.items()):
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    except OSError as exc:
        raise UsageError(f"cannot write the workspace in {dest}: {exc.strerror}") from exc
    return written


def _collect(node: Traversable, prefix: str, found: dict[str, bytes]) -> None:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith((".", "__")):
            continue
        name = f"{prefix}{child.name}"
        if child.is_dir():
            _collect(child, f"{name}/", found)
        else:
            found[name] = child.read_bytes()
