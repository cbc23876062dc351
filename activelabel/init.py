"""Creating a workspace from a corpus: split, class list, state file, config."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from activelabel.config import CONFIG_NAME, Config, save_config
from activelabel.corpus import Corpus, load_corpus, load_taxonomy
from activelabel.corpus.label_map import LabelMap, load_label_map
from activelabel.corpus.language import detect_language
from activelabel.corpus.loaders import dataset_splits, is_ignorable, split_of
from activelabel.corpus.split import stratified_split
from activelabel.corpus.taxonomy import IPTC_BY_LANGUAGE
from activelabel.errors import ConfigError, CorpusError
from activelabel.model.encoder import resolve_model
from activelabel.model.presets import PRESETS, preset_of
from activelabel.store import STATE_NAME, Store

INIT_FLAGS = {
    "corpus.source": "--corpus",
    "corpus.text_column": "--text-column",
    "corpus.test_size": "--test-size",
    "corpus.test": "--test",
    "corpus.label_map": "--label-map",
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


def text_key(text: str) -> str:
    """Texts with the same key are the same headline: equal up to case, spacing, Unicode
    compatibility forms (full-width letters, ligatures, non-breaking spaces) and invisible
    characters (zero-width spaces, soft hyphens, ...)."""
    shown = "".join(c for c in unicodedata.normalize("NFKC", text) if not is_ignorable(c))
    return " ".join(shown.split()).casefold()


def _dedupe(corpus: Corpus, notes: list[str]) -> Corpus:
    seen: set[str] = set()
    kept = []
    for record in corpus.records:
        key = text_key(record.text)
        if key not in seen:
            seen.add(key)
            kept.append(record)
    if len(kept) < len(corpus):
        notes.append(
            f"dropped {len(corpus) - len(kept)} duplicate texts from {corpus.name} (equal up "
            f"to case and spacing)"
        )
    return Corpus(corpus.name, kept)


def _check_labels(
    corpus: Corpus, allowed: list[str], what: str, topics: list[str], mapped: bool
) -> None:
    """Every gold label of ``corpus`` must be one of ``allowed`` (``what`` says where those
    come from, for the message; ``topics`` are all the taxonomy's topics)."""
    allowed_set = set(allowed)
    for number, record in enumerate(corpus.records, start=1):
        if record.label is None or record.label in allowed_set:
            continue
        where = f"{corpus.name}: record {number} (id {record.ext_id}) has label '{record.label}'"
        if record.label in topics and "--labels" not in what:
            raise CorpusError(
                f"{where}, a topic of the taxonomy but not one of the workspace's classes (the "
                f"topics labelled in the corpus: {', '.join(allowed)}); give the corpus "
                f"examples of it, or list every class with --labels"
            )
        hint = "" if mapped else ", map your labels onto topics with --label-map FILE (from,to)"
        raise CorpusError(
            f"{where}, which is not {what}; fix the label{hint}, or choose the classes with "
            f"--taxonomy/--labels"
        )


def _test_source(source: str, test: str, notes: list[str]) -> str:
    """The test file; a saved DatasetDict's own ``test`` split when ``--test`` is not given.
    Splits that are not used are named in a note."""
    folder, split = split_of(source)
    splits = dataset_splits(folder)
    if not splits:
        return test
    used = split or ("train" if "train" in splits else splits[0])
    if not test and "test" in splits and used != "test":
        test = f"{folder}::test"
        notes.append(f"the test set is the split 'test' of {folder} (pass --test to use another)")
    test_split = split_of(test)[1] if split_of(test)[0] == folder else None
    ignored = [s for s in splits if s not in (used, test_split)]
    if ignored:
        notes.append(
            f"ignored the split(s) {', '.join(map(repr, ignored))} of {folder}; read one with "
            f"--corpus {folder}::NAME or --test {folder}::NAME"
        )
    return test


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


def check_target(path: Path) -> None:
    """The workspace folder must be new or a folder (not a file, nor a link to nothing)."""
    if path.is_symlink() and not path.exists():
        raise ConfigError(
            f"{path} is a symbolic link to nothing (a dangling link or a loop); remove the link "
            f"or choose another folder"
        )
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} is a file, not a folder; choose a new or empty folder")


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


def choose_for_language(config: Config, corpus: Corpus, notes: list[str]) -> None:
    """Detect the corpus's language (``corpus.language``); where the model was not named
    (``default``) and the English encoder does not read that language, use the multilingual
    preset, and the built-in taxonomy in that language where one ships and fits the labels.
    Says so in one note."""
    detection = detect_language(corpus.texts, seed=config.loop.seed)
    config.corpus.language = detection.language
    if not detection.language:
        return
    name = detection.name
    chosen = preset_of(config.model.name)
    if config.model.name != "default":
        if chosen is not None and not chosen.covers(detection.language):
            notes.append(
                f"the corpus looks {name} ({detection.share:.0%} of {detection.sample} texts) "
                f"and --model {config.model.name} is not trained on it; --model multilingual "
                f"reads {name}"
            )
        return
    if PRESETS["english"].covers(detection.language):
        return
    if not PRESETS["multilingual"].covers(detection.language):
        notes.append(
            f"the corpus looks {name} ({detection.share:.0%} of {detection.sample} texts), a "
            f"language neither preset was trained on; name a model for it with --model"
        )
        return
    config.model.name = "multilingual"
    what = "the multilingual encoder (multilingual-e5-small)"
    taxonomy = _taxonomy_in(detection.language, config, corpus)
    if taxonomy:
        config.taxonomy.name = taxonomy
        what += f" and the {name} IPTC taxonomy ({taxonomy})"
    notes.append(
        f"the corpus is {name} ({detection.share:.0%} of {detection.sample} texts): using "
        f"{what}; --model english keeps the English encoder"
    )


def _taxonomy_in(language: str, config: Config, corpus: Corpus) -> str | None:
    """The built-in IPTC taxonomy in ``language`` where the user kept the default one and its
    topic names fit the corpus's labels and ``--labels`` (no label map: it names English
    topics)."""
    name = IPTC_BY_LANGUAGE.get(language)
    if not name or config.taxonomy.name != "iptc" or config.corpus.label_map:
        return None
    topics = set(load_taxonomy(name).names)
    wanted = set(corpus.label_counts()) | set(config.taxonomy.labels)
    return name if wanted <= topics else None


def create_workspace(path: Path, config: Config) -> InitSummary:
    """Write ``activelabel.toml`` and ``state.sqlite`` into ``path`` (new or empty folder)."""
    if (path / CONFIG_NAME).exists() or (path / STATE_NAME).exists():
        raise ConfigError(
            f"{path} already holds a workspace; choose another folder, or continue it with "
            f"'activelabel round {path}'"
        )
    check_target(path)
    config.validate("activelabel init", INIT_FLAGS)
    notes: list[str] = []
    c = config.corpus
    raw = load_corpus(c.source, c.text_column, c.label_column, c.id_column or None)
    choose_for_language(config, raw, notes)
    model_path = check_model(config.model.name)
    if preset_of(config.model.name) is None and Path(model_path).is_dir():
        config.model.name = model_path  # later commands may run from another folder
    taxonomy = load_taxonomy(config.taxonomy.name)
    if Path(config.taxonomy.name).is_file():  # a file, not a built-in name: kept absolute
        config.taxonomy.name = str(Path(config.taxonomy.name).resolve())
    label_map = (
        load_label_map(c.label_map, taxonomy.names, config.taxonomy.name) if c.label_map else None
    )
    raw_labels = set(raw.label_counts())
    corpus = _dedupe(_mapped(raw, label_map), notes)
    c.test = _test_source(c.source, c.test, notes)
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
    _check_labels(corpus, classes, what, taxonomy.names, label_map is not None)

    if c.test:
        raw_test = load_corpus(c.test, c.text_column, c.label_column, c.id_column or None)
        raw_labels |= set(raw_test.label_counts())
        test = _dedupe(_mapped(raw_test, label_map), notes)
        unlabelled = [(n, r) for n, r in enumerate(test.records, start=1) if r.label is None]
        if unlabelled:
            number, record = unlabelled[0]
            raise CorpusError(
                f"{c.test}: {len(unlabelled)} test record(s) have no label in "
                f"'{c.label_column}', the first is record {number} (id {record.ext_id}); "
                f"label them or remove them from the test file"
            )
        _check_labels(test, classes, what, taxonomy.names, label_map is not None)
        test_keys = {text_key(text) for text in test.texts}
        overlap = [r for r in corpus.records if text_key(r.text) in test_keys]
        if overlap:
            notes.append(
                f"removed {len(overlap)} pool texts that are also in the test set (equal up to "
                f"case and spacing)"
            )
        pool_records = [r for r in corpus.records if text_key(r.text) not in test_keys]
        test_records = test.records
    else:
        labelled = sum(1 for r in corpus.records if r.label is not None)
        size = int(round(c.test_size * labelled)) if c.test_size < 1 else int(c.test_size)
        if labelled and size == 0:
            raise ConfigError(
                f"--test-size {c.test_size:g} of {labelled} labelled records is 0 records, an "
                f"empty test set; use a larger share (e.g. 0.2) or a count of at least 1"
            )
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

    if label_map:
        unused = [label for label in label_map.targets if label not in raw_labels]
        if unused:
            notes.append(
                f"label map rows never used (no record has these labels): "
                f"{', '.join(map(repr, unused))}"
            )
    config.taxonomy.labels = classes
    items = [("pool:" + r.ext_id, r.text, r.label, "pool") for r in pool_records]
    items += [("test:" + r.ext_id, r.text, r.label, "test") for r in test_records]
    _write(path, config, items)
    return InitSummary(len(pool_records), len(test_records), classes, notes)


def _mapped(corpus: Corpus, label_map: LabelMap | None) -> Corpus:
    return label_map.apply(corpus) if label_map else corpus


def _write(path: Path, config: Config, items: list[tuple[str, str, str | None, str]]) -> None:
    """Write the state file and the config, or nothing: a failure (a full disk, a read-only
    folder) removes what was written, so that ``init`` can simply be run again."""
    created = not path.exists()
    written: list[Path] = []
    try:
        path.mkdir(parents=True, exist_ok=True)
        Store.create(path / STATE_NAME, items, classes=config.taxonomy.labels).close()
        written.append(path / STATE_NAME)
        written.append(path / CONFIG_NAME)
        save_config(path, config)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        if created and path.is_dir() and not any(path.iterdir()):
            path.rmdir()
        raise
