"""Creating a workspace from a corpus: split, class list, state file, config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from activelabel.config import CONFIG_NAME, Config, save_config
from activelabel.corpus import Corpus, load_corpus, load_taxonomy
from activelabel.corpus.split import stratified_split
from activelabel.errors import ConfigError, CorpusError
from activelabel.store import STATE_NAME, Store


@dataclass
class InitSummary:
    pool: int
    test: int
    classes: list[str]
    notes: list[str] = field(default_factory=list)


def _dedupe(corpus: Corpus, notes: list[str]) -> Corpus:
    seen: set[str] = set()
    kept = []
    for record in corpus.records:
        if record.text not in seen:
            seen.add(record.text)
            kept.append(record)
    if len(kept) < len(corpus):
        notes.append(f"dropped {len(corpus) - len(kept)} duplicate texts from {corpus.name}")
    return Corpus(corpus.name, kept)


def _check_labels(corpus: Corpus, allowed: list[str]) -> None:
    allowed_set = set(allowed)
    for number, record in enumerate(corpus.records, start=1):
        if record.label is not None and record.label not in allowed_set:
            raise CorpusError(
                f"{corpus.name}: record {number} (id {record.ext_id}) has label '{record.label}', "
                f"which is not in the taxonomy; fix the label or pass --taxonomy/--labels"
            )


def create_workspace(path: Path, config: Config) -> InitSummary:
    """Write ``activelabel.toml`` and ``state.sqlite`` into ``path`` (new or empty folder)."""
    if (path / CONFIG_NAME).exists() or (path / STATE_NAME).exists():
        raise ConfigError(f"{path} already holds a workspace; choose another folder")
    config.validate()
    notes: list[str] = []
    c = config.corpus
    corpus = _dedupe(
        load_corpus(c.source, c.text_column, c.label_column, c.id_column or None), notes
    )
    taxonomy = load_taxonomy(config.taxonomy.name)
    if config.taxonomy.labels:
        classes = taxonomy.restrict(config.taxonomy.labels).names
    elif corpus.label_counts():
        present = set(corpus.label_counts())
        classes = [n for n in taxonomy.names if n in present] or taxonomy.names
        _check_labels(corpus, taxonomy.names)
    else:
        classes = taxonomy.names
    _check_labels(corpus, classes)
    if len(classes) < 2:
        raise ConfigError("a workspace needs at least two classes; check --labels")

    if c.test:
        test = _dedupe(
            load_corpus(c.test, c.text_column, c.label_column, c.id_column or None), notes
        )
        if not test.is_labelled:
            raise CorpusError(f"{c.test}: every test record needs a label in '{c.label_column}'")
        _check_labels(test, classes)
        test_texts = set(test.texts)
        overlap = [r for r in corpus.records if r.text in test_texts]
        if overlap:
            notes.append(f"removed {len(overlap)} pool texts that are also in the test set")
        pool_records = [r for r in corpus.records if r.text not in test_texts]
        test_records = test.records
    else:
        labelled = sum(1 for r in corpus.records if r.label is not None)
        size = int(round(c.test_size * labelled)) if c.test_size < 1 else int(c.test_size)
        if labelled and size >= labelled:
            raise ConfigError(
                f"--test-size {c.test_size} leaves no labelled records for the pool "
                f"({labelled} labelled); use a smaller test size"
            )
        chosen = set(stratified_split(corpus.labels, size, config.loop.seed).tolist())
        pool_records = [r for i, r in enumerate(corpus.records) if i not in chosen]
        test_records = [r for i, r in enumerate(corpus.records) if i in chosen]
        if not test_records:
            notes.append("no labelled test set: rounds will not report accuracy; pass --test FILE")
    missing = [name for name in classes if name not in {r.label for r in pool_records}]
    if corpus.label_counts() and missing:
        notes.append(f"no pool examples of: {', '.join(missing)}")
    if not pool_records:
        raise CorpusError(f"{corpus.name}: the pool is empty after removing the test set")

    path.mkdir(parents=True, exist_ok=True)
    config.taxonomy.labels = classes
    items = [("pool:" + r.ext_id, r.text, r.label, "pool") for r in pool_records]
    items += [("test:" + r.ext_id, r.text, r.label, "test") for r in test_records]
    Store.create(path / STATE_NAME, items).close()
    save_config(path, config)
    return InitSummary(len(pool_records), len(test_records), classes, notes)
