"""Label taxonomies: a built-in one by name (``iptc``) or a user TOML/CSV file."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

from activelabel.data import DATA_DIR
from activelabel.errors import ConfigError

BUILTIN_TAXONOMIES = {
    "iptc": DATA_DIR / "taxonomies" / "iptc-media-topics.toml",
    "iptc-it": DATA_DIR / "taxonomies" / "iptc-media-topics-it.toml",
}
IPTC_BY_LANGUAGE = {"it": "iptc-it"}
"""The built-in IPTC taxonomy in a language (ISO 639-1) other than English."""


@dataclass(frozen=True)
class Topic:
    name: str
    description: str = ""
    keywords: str = ""

    @property
    def prompt(self) -> str:
        """The topic as one text: ``name: keywords`` (or ``name: description``)."""
        return f"{self.name}: {', '.join(self.keyword_list) or self.description}"

    @property
    def keyword_list(self) -> tuple[str, ...]:
        """The comma-separated keywords, each stripped, each once; empty without keywords."""
        words = (word.strip() for word in self.keywords.split(","))
        return tuple(dict.fromkeys(word for word in words if word))


@dataclass(frozen=True)
class Taxonomy:
    name: str
    topics: tuple[Topic, ...]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    def restrict(self, names: list[str]) -> Taxonomy:
        """The topics named in ``names``, in that order."""
        by_name = {t.name: t for t in self.topics}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ConfigError(
                f"label(s) {', '.join(map(repr, unknown))} (--labels / taxonomy.labels) are not "
                f"topics of taxonomy '{self.name}'; use one of: {', '.join(self.names)}"
            )
        return Taxonomy(self.name, tuple(by_name[n] for n in names))


def load_taxonomy(name_or_path: str | Path) -> Taxonomy:
    """Load ``iptc`` or a file: TOML with ``[[topic]] name/description/keywords``, or CSV with
    columns ``name`` (required), ``description``, ``keywords``."""
    path = BUILTIN_TAXONOMIES.get(str(name_or_path), Path(name_or_path))
    if path.exists() and not path.is_file():
        raise ConfigError(
            f"taxonomy '{name_or_path}' (--taxonomy / taxonomy.name) is not a regular file (a "
            f"folder, pipe, socket or device); give a TOML/CSV file with a 'name' per topic"
        )
    if not path.is_file():
        raise ConfigError(
            f"taxonomy '{name_or_path}' (--taxonomy / taxonomy.name) is neither a built-in name "
            f"({', '.join(BUILTIN_TAXONOMIES)}) nor a file; give one of those or the path of a "
            f"TOML/CSV file with a 'name' per topic"
        )
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            title, rows = data.get("name", path.stem), data.get("topic", [])
        else:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            title = path.stem
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, csv.Error) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(
            f"{path}: cannot read taxonomy ({detail}); fix the file (UTF-8 TOML or CSV)"
        ) from exc
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ConfigError(
            f"{path}: topics must be [[topic]] tables with a 'name' (TOML) or CSV rows"
        )
    topics = []
    for number, row in enumerate(rows, start=1):
        name = str(row.get("name") or "").strip()
        if not name:
            raise ConfigError(f"{path}: topic {number} has no name; give every topic a name")
        if not name.isprintable():
            raise ConfigError(
                f"{path}: topic {number} ({ascii(name)}) has a line break or control character "
                f"in its name; topic names must be one line of text"
            )
        topics.append(
            Topic(name, str(row.get("description") or ""), str(row.get("keywords") or ""))
        )
    names = [t.name for t in topics]
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"{path}: topic '{repeated}' appears twice; topic names must be unique")
    if len(topics) < 2:
        raise ConfigError(f"{path}: a taxonomy needs at least two topics, it has {len(topics)}")
    return Taxonomy(str(title), tuple(topics))
