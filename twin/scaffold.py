"""``twin init DIR``: copy the example scenarios shipped with the package into a folder.

The examples are this repository's ``cosim_configs/`` (installed as the package
``twin.examples``), so a user who installed twin from a wheel has the same scenarios to start
from as one who cloned the repository. Existing files are never overwritten.
"""

from __future__ import annotations

import argparse
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

EXAMPLES_PACKAGE = "twin.examples"
SUFFIXES = (".toml", ".csv", ".tntp", ".json", ".inp", ".xml")


class InitError(OSError):
    """The target folder cannot take the examples (a file is in the way)."""


def _example_files(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for item in sorted(root.iterdir(), key=lambda t: t.name):
        rel = f"{prefix}{item.name}"
        if item.is_dir() and not item.name.startswith(("_", ".")):
            out.extend(_example_files(item, f"{rel}/"))
        elif item.is_file() and item.name.endswith(SUFFIXES):
            out.append((rel, item))
    return out


def example_names() -> list[str]:
    """Relative paths of every shipped example file."""
    return [rel for rel, _ in _example_files(resources.files(EXAMPLES_PACKAGE))]


def init(target: str | Path) -> tuple[list[Path], list[Path]]:
    """Copy the examples into ``target``; returns (written, kept because they existed)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InitError(f"{target}: exists and is not a folder; name a new or existing folder")
    written: list[Path] = []
    kept: list[Path] = []
    for rel, item in _example_files(resources.files(EXAMPLES_PACKAGE)):
        dest = target / rel
        if dest.exists():
            kept.append(dest)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(item.read_bytes())
        written.append(dest)
    return written, kept


def _cmd_init(args: argparse.Namespace) -> int:
    written, kept = init(args.folder)
    for p in written:
        print(f"wrote {p}")
    for p in kept:
        print(f"kept {p} (exists)")
    print(f"next: twin run {Path(args.folder) / 'default.toml'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write the example scenarios into a folder to start from")
    p.add_argument("folder", type=Path, help="folder to write into (created if missing; existing files are kept)")
    p.set_defaults(func=_cmd_init)
