"""Property-based tests (hypothesis) on the corpus loaders and the workspace config.

Loaders: whatever texts, labels and ids a user's file holds, written by the standard writer of
its format, load back as written (texts, labels and ids stripped of surrounding white space, an
empty label meaning 'unlabelled'); random or truncated bytes raise ``CorpusError`` and nothing
else. Config: every valid ``Config`` survives ``save_config``/``load_config`` unchanged; every
wrong-typed or out-of-range value and every unknown key raises ``ConfigError`` naming the key.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activelabel.config import (
    ANNOTATORS,
    CLASS_WEIGHTS,
    CONFIG_NAME,
    DEVICE,
    MODES,
    PRIOR_ESTIMATES,
    PRIORS,
    PSEUDO_LABELS,
    PSEUDO_SHARES,
    TOPIC_VECTORS,
    Config,
    CorpusConfig,
    LabelStudioConfig,
    LoopConfig,
    ModelConfig,
    TaxonomyConfig,
    load_config,
    save_config,
    shown_key,
)
from activelabel.corpus import load_corpus_file
from activelabel.corpus.loaders import is_invisible
from activelabel.errors import ConfigError, CorpusError
from activelabel.model.settings import file_knobs

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FORMATS = ("csv", "tsv", "jsonl", "jsonl-ascii", "parquet")

# -- corpus loaders ------------------------------------------------------------------------------

# Any unicode (hypothesis leaves out surrogates, which no UTF-8 file can hold): commas, quotes,
# tabs, newlines, U+2028, emoji, control characters; a text must not be blank.
text = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and not is_invisible(t))
label = st.one_of(st.none(), st.just(""), st.text(max_size=20))
record = st.tuples(text, label)
records = st.lists(record, min_size=1, max_size=12)
ids = st.text(min_size=1, max_size=12).filter(lambda t: t.strip())


def _write(path: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt in ("csv", "tsv"):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, ["id", "text", "label"], delimiter="\t" if fmt == "tsv" else ","
            )
            writer.writeheader()
            writer.writerows(rows)
    elif fmt.startswith("jsonl"):
        ascii_only = fmt == "jsonl-ascii"
        path.write_text(
            "".join(json.dumps(row, ensure_ascii=ascii_only) + "\n" for row in rows),
            encoding="utf-8",
        )
    else:
        pq.write_table(
            pa.Table.from_pylist(
                rows,
                schema=pa.schema(
                    [("id", pa.string()), ("text", pa.string()), ("label", pa.string())]
                ),
            ),
            path,
        )
    return path


def _suffix(fmt: str) -> str:
    return "." + fmt.split("-")[0]


TRICKY = [
    ('a, "quoted", text', "sport"),
    ("line\nbreak\r\nand\rreturns", " politics "),
    ("tab\there \u2028 line separator \x1c file separator \x0c form feed", None),
    ("  \ufeffemoji \U0001f4f0 and \u00e9  ", ""),
]


@FAST
@given(data=records, fmt=st.sampled_from(FORMATS), with_ids=st.booleans(), id_pool=st.data())
@example(data=TRICKY, fmt="csv", with_ids=False, id_pool=None)
@example(data=TRICKY, fmt="tsv", with_ids=False, id_pool=None)
@example(data=TRICKY, fmt="jsonl", with_ids=False, id_pool=None)
def test_written_records_load_back_identically(data, fmt, with_ids, id_pool):
    if with_ids:
        unique = id_pool.draw(
            st.lists(ids, min_size=len(data), max_size=len(data), unique_by=str.strip)
        )
    else:
        unique = [str(n) for n in range(1, len(data) + 1)]
    rows = [{"id": i, "text": t, "label": lab} for i, (t, lab) in zip(unique, data, strict=True)]
    if fmt in ("csv", "tsv"):  # the csv writer writes None as an empty field
        rows = [{k: "" if v is None else v for k, v in row.items()} for row in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder) / f"corpus{_suffix(fmt)}", fmt, rows)
        corpus = load_corpus_file(path, id_column="id" if with_ids else None)
    assert [r.ext_id for r in corpus.records] == [i.strip() for i in unique]
    assert corpus.texts == [t.strip() for t, _ in data]
    assert corpus.labels == [(lab or "").strip() or None for _, lab in data]


def _load_only_corpus_errors(path: Path) -> None:
    try:
        load_corpus_file(path)
    except CorpusError as error:
        assert "\n" not in str(error) and str(path) in str(error)


@FAST
@given(content=st.binary(max_size=300), fmt=st.sampled_from(FORMATS))
def test_random_bytes_raise_only_corpus_error(content, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"junk{_suffix(fmt)}"
        path.write_bytes(content)
        _load_only_corpus_errors(path)


@FAST
@given(data=records, fmt=st.sampled_from(FORMATS), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_files_raise_only_corpus_error(data, fmt, cut):
    rows = [{"id": str(n), "text": t, "label": lab or ""} for n, (t, lab) in enumerate(data)]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder) / f"corpus{_suffix(fmt)}", fmt, rows)
        content = path.read_bytes()
        path.write_bytes(content[: int(cut * len(content))])
        _load_only_corpus_errors(path)


# -- config --------------------------------------------------------------------------------------

name = st.text(min_size=1, max_size=20).filter(lambda t: t.strip())
anything = st.text(max_size=20)
i64 = 2**63 - 1
positive = st.floats(min_value=1e-12, max_value=1e12, allow_nan=False, allow_infinity=False)

configs = st.builds(
    Config,
    corpus=st.builds(
        CorpusConfig,
        source=name,
        text_column=name,
        label_column=anything,
        id_column=anything,
        test=anything,
        test_size=st.one_of(  # a share below 1, or a whole count of records
            st.floats(min_value=1e-12, max_value=0.999, allow_nan=False),
            st.integers(1, 10**12).map(float),
        ),
        label_map=anything,
    ),
    taxonomy=st.builds(TaxonomyConfig, name=name, labels=st.lists(name, max_size=5, unique=True)),
    model=st.builds(
        ModelConfig,
        name=name,
        mode=st.sampled_from(sorted(MODES)),
        epochs=st.integers(1, i64),
        min_steps=st.integers(0, i64),
        learning_rate=positive,
        batch_size=st.integers(1, i64),
        max_length=st.integers(0, i64),
        class_weight=st.sampled_from(sorted(CLASS_WEIGHTS)),
        device=st.sampled_from(["auto", "cpu"]),
    ),
    loop=st.builds(
        LoopConfig,
        strategy=st.sampled_from(
            ["random", "margin", "balanced(margin+kmeans)", "subsample(badge)"]
        ),
        cold_start=st.sampled_from(["random", "kmeans", "topics"]),
        batch_size=st.integers(1, i64),
        seed=st.integers(0, i64),
        annotator=st.sampled_from(sorted(ANNOTATORS)),
    ),
    labelstudio=st.builds(
        LabelStudioConfig, url=anything, project_title=anything, token_env=anything
    ),
)


@FAST
@given(config=configs)
def test_valid_config_round_trips(config):
    with tempfile.TemporaryDirectory() as folder:
        save_config(Path(folder), config)
        assert load_config(Path(folder)) == config


SECTIONS = {f.name: type(getattr(Config(), f.name)) for f in fields(Config)}
KEYS = [(s, f.name) for s, cls in SECTIONS.items() for f in fields(cls)]

# values outside each checked key's range (the type is right, the value is not)
OUT_OF_RANGE = {
    ("model", "mode"): st.text(max_size=10).filter(lambda v: v not in MODES),
    ("model", "class_weight"): st.text(max_size=10).filter(lambda v: v not in CLASS_WEIGHTS),
    ("loop", "annotator"): st.text(max_size=10).filter(lambda v: v not in ANNOTATORS),
    ("model", "epochs"): st.integers(-(2**63), 0),
    ("model", "batch_size"): st.integers(-(2**63), 0),
    ("loop", "batch_size"): st.integers(-(2**63), 0),
    ("model", "min_steps"): st.integers(-(2**63), -1),
    ("model", "max_length"): st.integers(-(2**63), -1),
    ("loop", "seed"): st.integers(-(2**63), -1),
    ("model", "learning_rate"): st.one_of(
        st.floats(max_value=0), st.just(math.inf), st.just(math.nan)
    ),
    ("corpus", "test_size"): st.one_of(
        st.floats(max_value=0),
        st.just(math.inf),
        st.just(math.nan),
        st.floats(min_value=1, max_value=1e12).filter(lambda x: not x.is_integer()),
    ),
    ("model", "name"): st.sampled_from(["", " ", "\t"]),
    ("model", "topic_weight"): st.one_of(
        st.floats(max_value=-1e-9), st.just(math.inf), st.just(math.nan)
    ),
    ("model", "topic_vectors"): st.text(max_size=10).filter(lambda v: v not in TOPIC_VECTORS),
    ("model", "topic_keep_labels"): st.integers(-(2**63), -1),
    ("model", "prior"): st.text(max_size=10).filter(lambda v: v not in PRIORS),
    ("model", "prior_estimate"): st.text(max_size=10).filter(lambda v: v not in PRIOR_ESTIMATES),
    ("model", "pseudo_labels"): st.text(max_size=10).filter(lambda v: v not in PSEUDO_LABELS),
    ("model", "pseudo_shares"): st.text(max_size=10).filter(lambda v: v not in PSEUDO_SHARES),
    ("model", "pseudo_per_class"): st.integers(-(2**63), 0),
    ("model", "pseudo_passes"): st.integers(-(2**63), 0),
    ("model", "pseudo_min_scale"): st.one_of(
        st.floats(max_value=0), st.floats(min_value=1, exclude_min=True), st.just(math.nan)
    ),
    ("model", "pseudo_weight"): st.one_of(
        st.floats(max_value=0), st.just(math.inf), st.just(math.nan)
    ),
    ("model", "pseudo_pool"): st.integers(-(2**63), 0),
    ("corpus", "source"): st.sampled_from(["", " "]),
    ("taxonomy", "labels"): st.sampled_from([["sport", "sport"], ["sport", ""], [1, 2]]),
    ("model", "device"): st.text(max_size=10).filter(lambda v: not DEVICE.fullmatch(v)),
    ("loop", "strategy"): st.sampled_from(["", "magic", "margin+", "balanced(", "Random()"]),
    ("loop", "cold_start"): st.sampled_from(["", "tpu", "kmeans+kmeans+"]),
}


def _wrong_type(expected: type) -> st.SearchStrategy:
    """TOML values of any type but ``expected`` (an int is fine where a float is expected)."""
    values = {
        str: st.text(max_size=10),
        int: st.integers(-(2**63), i64),
        float: st.floats(allow_nan=False),
        bool: st.booleans(),
        list: st.lists(st.integers(), max_size=3),
        dict: st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2),
    }
    allowed = {expected, bool} if expected is bool else {expected}
    if expected is float:
        allowed.add(int)
    return st.one_of(*(s for t, s in values.items() if t not in allowed))


def _load_written(data: dict) -> ConfigError:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / CONFIG_NAME).write_text(tomli_w.dumps(data), encoding="utf-8")
        with pytest.raises(ConfigError) as error:
            load_config(Path(folder))
    assert "\n" not in str(error.value)
    return error.value


@FAST
@given(key=st.sampled_from(KEYS), data=st.data())
def test_wrong_type_names_the_key(key, data):
    section, field = key
    expected = type(getattr(SECTIONS[section](), field))
    content = asdict(Config())
    content[section][field] = data.draw(_wrong_type(expected))
    assert f"{section}.{field}" in str(_load_written(content))


@FAST
@given(key=st.sampled_from(sorted(OUT_OF_RANGE)), data=st.data())
def test_out_of_range_value_names_the_key(key, data):
    section, field = key
    content = asdict(Config())
    content[section][field] = data.draw(OUT_OF_RANGE[key])
    assert f"{section}.{field}" in str(_load_written(content))


@FAST
@given(
    section=st.sampled_from(sorted(SECTIONS)),
    key=st.text(min_size=1, max_size=15),
    value=st.one_of(st.text(max_size=5), st.integers(), st.booleans()),
)
def test_unknown_key_names_the_key(section, key, value):
    content = asdict(Config())
    if key in content[section]:
        return
    content[section][key] = value
    assert f"{section}.{shown_key(key)}" in str(_load_written(content))


@FAST
@given(section=st.text(min_size=1, max_size=15).filter(lambda s: s not in SECTIONS))
def test_unknown_section_names_it(section):
    content = asdict(Config())
    content[section] = {"key": 1}
    assert f"[{shown_key(section)}]" in str(_load_written(content))


@FAST
@given(content=st.binary(max_size=300))
def test_random_config_bytes_raise_only_config_error(content):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / CONFIG_NAME).write_bytes(content)
        try:
            load_config(Path(folder))
        except ConfigError as error:
            assert "\n" not in str(error)


def test_every_model_knob_has_out_of_range_values_and_a_line_in_the_docs():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    for name in file_knobs():
        assert ("model", name) in OUT_OF_RANGE, f"model.{name}: add bad values to OUT_OF_RANGE"
        assert f"`{name}`" in docs, f"model.{name}: describe it in docs/configuration.md"
