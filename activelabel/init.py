"""Creating a workspace from a corpus: split, class list, state file, config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from activelabel.config import CONFIG_NAME, Config, save_config
from activelabel.corpus import Corpus, load_corpus, load_taxonomy
from activelabel.corpus.split import stratified_split
from activelabel.errors import ConfigError, CorpusError
from activelabel.model.encoder import resolve_model
from activelabel.store import STATE_NAME, Store

INIT_FLAGS = {
    "corpus.source": "--corpus",
    "corpus.text_column": "--text-column",
    "corpus.test_size": "--test-size",
    "taxonomy.name": "--taxonomy",
    "taxonomy.labels": "--labels",
    "model.name": "--model",
    "model.mode": "--mode",
    "loop.strategy": "--strategy",
    "loop.cold_start": "--cold-start",
    "loop.batch_size": "--batch-size",
    "loop.seed": "--seed",
    "loop.annotator": "--annotator",
}
"""The ``activelabel init`` option behind each config key, for error messages."""

WEIGHT_FILES = (
    "*.safetensors",
    "*.safetensors.index.json",
    "pytorch_model*.bin",
    "pytorch_model.bin.index.json",
    "tf_model.h5",
    "flax_model.msgpack",
    "model.ckpt.index",
)


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


def _check_labels(corpus: Corpus, allowed: list[str], what: str) -> None:
    """Every gold label of ``corpus`` must be one of ``allowed`` (``what`` says where those
    come from, for the message)."""
    allowed_set = set(allowed)
    for number, record in enumerate(corpus.records, start=1):
        if record.label is not None and record.label not in allowed_set:
            raise CorpusError(
                f"{corpus.name}: record {number} (id {record.ext_id}) has label '{record.label}', "
                f"which is not {what}; fix the label, or choose the classes with "
                f"--taxonomy/--labels"
            )


def check_model(name: str) -> str:
    """The local folder of model ``name`` (hub ids pass through unchecked: they need network,
    which only a round can try); a local folder must hold a config and weights."""
    path = resolve_model(name)
    folder = Path(path)
    if folder.is_dir() and not any(any(folder.glob(p)) for p in WEIGHT_FILES):
        raise ConfigError(
            f"--model '{name}': the folder has a config.json but no weights "
            f"(model.safetensors or pytorch_model.bin); save the model with save_pretrained "
            f"into it, or use --model default"
        )
    return path


def parse_labels(text: str, names: list[str]) -> list[str]:
    """Split comma-separated ``--labels`` into topic names; a name that itself contains commas
    (``economy, business and finance``) is matched whole against the taxonomy's ``names``."""
    parts = [part.strip() for part in text.split(",")]
    labels: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            candidate = ", ".join(parts[i:j])
            if j - i > 1 and candidate in names:
                break
        else:
            j, candidate = i + 1, parts[i]
        if candidate:
            labels.append(candidate)
        i = j
    return labels


def create_workspace(path: Path, config: Config) -> InitSummary:
    """Write ``activelabel.toml`` and ``state.sqlite`` into ``path`` (new or empty folder)."""
    if (path / CONFIG_NAME).exists() or (path / STATE_NAME).exists():
        raise ConfigError(
            f"{path} already holds a workspace; choose another folder, or continue it with "
            f"'activelabel round {path}'"
        )
    config.validate("activelabel init", INIT_FLAGS)
    check_model(config.model.name)
    notes: list[str] = []
    c = config.corpus
    corpus = _dedupe(
        load_corpus(c.source, c.text_column, c.label_column, c.id_column or None), notes
    )
    taxonomy = load_taxonomy(config.taxonomy.name)
    present = set(corpus.label_counts())
    if config.taxonomy.labels:
        classes = taxonomy.restrict(config.taxonomy.labels).names
        what = f"one of the classes given by --labels ({', '.join(classes)})"
    elif present:
        classes = [n for n in taxonomy.names if n in present] or taxonomy.names
        what = f"in the taxonomy '{config.taxonomy.name}'"
    else:
        classes = taxonomy.names
        what = f"in the taxonomy '{config.taxonomy.name}'"
    if len(classes) < 2:
        if config.taxonomy.labels:
            found = f"--labels names only one class ({', '.join(classes)})"
        else:
            found = f"the corpus has labels of only one topic ({', '.join(classes)})"
        raise ConfigError(
            f"{found}; a workspace needs at least two classes: pass --labels with two or more "
            f"topics of the taxonomy"
        )
    _check_labels(corpus, classes, what)

    if c.test:
        test = _dedupe(
            load_corpus(c.test, c.text_column, c.label_column, c.id_column or None), notes
        )
        unlabelled = [(n, r) for n, r in enumerate(test.records, start=1) if r.label is None]
        if unlabelled:
            number, record = unlabelled[0]
            raise CorpusError(
                f"{c.test}: {len(unlabelled)} test record(s) have no label in "
                f"'{c.label_column}', the first is record {number} (id {record.ext_id}); "
                f"label them or remove them from the test file"
            )
        _check_labels(test, classes, what)
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
                f"--test-size {c.test_size:g} asks for {size} test records, which leaves no "
                f"labelled records for the pool ({labelled} labelled); use a smaller test "
                f"size, e.g. 0.2"
            )
        chosen = set(stratified_split(corpus.labels, size, config.loop.seed).tolist())
        pool_records = [r for i, r in enumerate(corpus.records) if i not in chosen]
        test_records = [r for i, r in enumerate(corpus.records) if i in chosen]
        if not test_records:
            notes.append("no labelled test set: rounds will not report accuracy; pass --test FILE")
    missing = [name for name in classes if name not in {r.label for r in pool_records}]
    if corpus.label_counts() and missing:
        notes.append(
            f"no pool examples of: {', '.join(missing)}; the oracle can never label these "
            f"topics, Label Studio annotators still can"
        )
    if not pool_records:
        raise CorpusError(
            f"{corpus.name}: the pool is empty after removing the test set; the corpus must "
            f"hold texts that are not in --test"
        )

    path.mkdir(parents=True, exist_ok=True)
    config.taxonomy.labels = classes
    items = [("pool:" + r.ext_id, r.text, r.label, "pool") for r in pool_records]
    items += [("test:" + r.ext_id, r.text, r.label, "test") for r in test_records]
    Store.create(path / STATE_NAME, items).close()
    save_config(path, config)
    return InitSummary(len(pool_records), len(test_records), classes, notes)
