"""The workspace file ``activelabel.toml``: what the user chose, validated on every load."""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, make_dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from activelabel.annotators.registry import ANNOTATORS
from activelabel.errors import ConfigError
from activelabel.model.names import MODE_NAMES as MODES  # noqa: F401  (offered by the CLI)
from activelabel.model.names import TOPIC_VECTORS  # noqa: F401
from activelabel.model.presets import centres_embeddings, text_prefix
from activelabel.model.settings import (  # noqa: F401  (the values a [model] key may take)
    CLASS_WEIGHTS,
    DEVICE,
    PRIOR_ESTIMATES,
    PRIORS,
    PSEUDO_LABELS,
    PSEUDO_SHARES,
    ModelSettings,
    file_knobs,
    problems,
)

if TYPE_CHECKING:
    from activelabel.strategies.base import QueryStrategy

CONFIG_NAME = "activelabel.toml"
ENGINES = ("local", "ray")
#: sections every workspace file has had since the first release: one missing means the file
#: was cut off or emptied, and its settings must not silently fall back to the defaults
REQUIRED_SECTIONS = ("corpus", "taxonomy", "model", "loop")


@dataclass
class CorpusConfig:
    source: str = "bbc"  # built-in name or path to a CSV/JSONL/Parquet file or dataset folder
    text_column: str = "text"
    label_column: str = "label"
    id_column: str = ""
    test: str = ""  # path of a separate labelled test file; empty: split off test_size
    test_size: float = 0.2  # a share (< 1) or a count (>= 1) of labelled records
    label_map: str = ""  # CSV 'from,to' renaming the corpus's labels to taxonomy topics
    language: str = ""  # ISO 639-1 code detected by init ('' where it could not tell)


@dataclass
class TaxonomyConfig:
    name: str = "iptc"  # built-in name or path to a TOML/CSV taxonomy
    labels: list[str] = field(default_factory=list)  # the classes, in order


#: the ``[model]`` table: the model's name, then every knob declared in ``model.settings``
#: with its default (e.g. ``mode``, ``epochs``, ``pseudo_labels``)
ModelConfig = make_dataclass(
    "ModelConfig",
    # name: a preset (english, multilingual; default: english), a model folder or a hub id
    [("name", str, field(default="default"))]
    + [(name, f.type, field(default=f.default)) for name, f in file_knobs().items()],
)
ModelConfig.__module__ = __name__


@dataclass
class LoopConfig:
    strategy: str = "hunt(margin)"
    cold_start: str = "zero-shot"  # how round 0 picks: zero-shot, random, kmeans or topics
    batch_size: int = 50
    seed: int = 0
    annotator: str = "oracle"
    random_share: float = 0.1  # part of each batch drawn at random: the live random baseline

    @property
    def query_strategy(self) -> QueryStrategy:
        """``strategy``, parsed: what the engine selects with once there are labels."""
        return parse_strategy(self.strategy)

    @property
    def cold_start_strategy(self) -> QueryStrategy:
        """``cold_start``, parsed: what round 0 selects with."""
        return parse_strategy(self.cold_start)


@lru_cache(maxsize=64)
def parse_strategy(spec: str) -> QueryStrategy:
    """The strategy a spec names, parsed once per spec (strategies hold no state between
    selections); raises ``ConfigError`` for a spec that names none."""
    from activelabel.strategies import make_strategy

    return make_strategy(spec)


@dataclass
class LabelStudioConfig:
    url: str = ""  # empty: the server started by 'activelabel labelstudio up'
    project_title: str = ""
    token_env: str = "LABEL_STUDIO_API_KEY"


@dataclass
class ComputeConfig:
    engine: str = "local"  # "local": this process; "ray": Ray Data actors (pip install ...[ray])
    address: str = "local"  # "local" (start Ray here), "auto" (the running cluster), "ray://h:p"
    workers: int = 2  # model actors scoring the pool
    gpus_per_worker: float = 0.0  # 0: CPU workers; 1 (or a share): GPU workers


@dataclass
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    taxonomy: TaxonomyConfig = field(default_factory=TaxonomyConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    labelstudio: LabelStudioConfig = field(default_factory=LabelStudioConfig)
    compute: ComputeConfig = field(default_factory=ComputeConfig)

    def model_settings(self, model_path: str) -> ModelSettings:
        return ModelSettings(
            model_path,
            **{k: getattr(self.model, k) for k in file_knobs()},
            text_prefix=text_prefix(self.model.name),
            centre_embeddings=centres_embeddings(self.model.name),
        )

    def validate(self, where: str = CONFIG_NAME, flags: dict[str, str] | None = None) -> Config:
        """Check every value; raises ``ConfigError`` naming the first wrong key (and the command
        line option it came from, where ``flags`` maps keys to options)."""
        m, loop, corpus, taxonomy = self.model, self.loop, self.corpus, self.taxonomy
        compute = self.compute
        knobs = {name: getattr(m, name) for name in file_knobs()}
        checks = [(f"model.{name}", value, False, why) for name, value, why in problems(knobs)]
        checks += [
            ("model.name", m.name, bool(m.name.strip()), "must name a model, or be 'default'"),
            ("loop.batch_size", loop.batch_size, loop.batch_size >= 1, "must be at least 1"),
            ("loop.seed", loop.seed, loop.seed >= 0, "must be 0 or more"),
            (
                "loop.random_share",
                loop.random_share,
                0 <= loop.random_share <= 1,
                "must be between 0 and 1",
            ),
            ("loop.strategy", loop.strategy, bool(loop.strategy.strip()), "must name a strategy"),
            (
                "loop.cold_start",
                loop.cold_start,
                bool(loop.cold_start.strip()),
                "must name a strategy, e.g. random",
            ),
            (
                "loop.annotator",
                loop.annotator,
                loop.annotator in ANNOTATORS,
                f"must be one of {', '.join(ANNOTATORS)}",
            ),
            (
                "corpus.source",
                corpus.source,
                bool(corpus.source.strip()),
                "must be a built-in corpus name or a file",
            ),
            (
                "corpus.text_column",
                corpus.text_column,
                bool(corpus.text_column.strip()),
                "must name a column",
            ),
            (
                "corpus.test_size",
                corpus.test_size,
                0 < corpus.test_size < math.inf,
                "must be a share below 1 (e.g. 0.2) or a count of records (e.g. 400)",
            ),
            (
                "corpus.test_size",
                corpus.test_size,
                not 1 <= corpus.test_size < math.inf or float(corpus.test_size).is_integer(),
                "must be a share below 1 (e.g. 0.2) or a whole count of records (e.g. 400)",
            ),
            (
                "taxonomy.name",
                taxonomy.name,
                bool(taxonomy.name.strip()),
                "must be a built-in taxonomy (iptc) or a file",
            ),
            (
                "taxonomy.labels",
                taxonomy.labels,
                all(isinstance(x, str) and x.strip() for x in taxonomy.labels),
                "must be a list of topic names",
            ),
            (
                "taxonomy.labels",
                taxonomy.labels,
                len({str(x) for x in taxonomy.labels}) == len(taxonomy.labels),
                "must not repeat a label",
            ),
            (
                "compute.engine",
                compute.engine,
                compute.engine in ENGINES,
                f"must be one of {', '.join(ENGINES)}",
            ),
            (
                "compute.address",
                compute.address,
                _ray_address(compute.address),
                "must be 'local', 'auto', 'ray://HOST:PORT' or 'HOST:PORT'",
            ),
            ("compute.workers", compute.workers, compute.workers >= 1, "must be at least 1"),
            (
                "compute.gpus_per_worker",
                compute.gpus_per_worker,
                0 <= compute.gpus_per_worker < math.inf,
                "must be 0 (CPU workers) or a positive number of GPUs",
            ),
        ]
        for key, value, ok, requirement in checks:
            if not ok:
                name = f"{flags[key]} ({key})" if flags and key in flags else key
                raise ConfigError(f"{where}: {name} {requirement}, not {_show(value)}")
        missing = _device_missing(m.device)
        if missing:
            raise ConfigError(
                f"{where}: model.device is {m.device!r}, but {missing}; set model.device = "
                f"'auto' (a GPU when there is one) or 'cpu'"
            )
        for key, spec in (("loop.strategy", loop.strategy), ("loop.cold_start", loop.cold_start)):
            try:
                parse_strategy(spec)
            except ConfigError as exc:
                name = f"{flags[key]} ({key})" if flags and key in flags else key
                raise ConfigError(f"{where}: {name}: {exc}") from None
        return self


def _device_missing(device: str) -> str:
    """Why the torch of this installation cannot use ``device`` ('' when it can)."""
    if device in ("auto", "cpu"):
        return ""
    import torch

    if device == "mps":
        return "" if torch.backends.mps.is_available() else "this machine has no MPS device"
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else "without a usable GPU"
        return f"this torch {torch.__version__} is {build}"
    number = int(device.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    return "" if number < count else f"this machine has {count} GPU(s) (cuda:0..cuda:{count - 1})"


def _ray_address(address: str) -> bool:
    if address in ("local", "auto"):
        return True
    rest = address.removeprefix("ray://")
    host, _, port = rest.rpartition(":")
    return bool(host) and port.isdigit() and not any(c.isspace() for c in rest)


def _show(value: Any) -> str:
    """A value for an error message: repr on one line, shortened."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def shown_key(key: str) -> str:
    """A key from the file as an error message shows it: escaped if it is not printable."""
    return key if key.isprintable() else ascii(key)[1:-1]


def _section(cls: type, data: Any, name: str, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [{name}] must be a table of keys, not {_show(data)}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(known), n=1)
        hint = f"did you mean '{name}.{close[0]}'? " if close else ""
        raise ConfigError(
            f"{where}: unknown key '{name}.{shown_key(unknown[0])}'; {hint}known keys: "
            f"{', '.join(known)}"
        )
    default = cls()
    values = {}
    for key, value in data.items():
        expected = type(getattr(default, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            kind = {"str": "a string", "int": "an integer", "float": "a number"}.get(
                expected.__name__, f"a {expected.__name__}"
            )
            raise ConfigError(f"{where}: '{name}.{key}' must be {kind}, not {_show(value)}")
        values[key] = value
    return cls(**values)


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_NAME
    if path.exists() and not path.is_file():
        raise ConfigError(
            f"{path}: not a regular file (a folder, pipe, socket or device); restore the "
            f"workspace's config file from a backup"
        )
    if not path.is_file():
        raise ConfigError(
            f"{workspace} is not an activelabel workspace (no {CONFIG_NAME}); "
            f"run 'activelabel init {workspace}' first"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid TOML ({detail}); fix that line") from exc
    if not data:
        raise ConfigError(
            f"{path}: the file is empty (no settings); restore it from a backup, or write "
            f"it again with the settings the workspace was made with (see docs/configuration.md)"
        )
    sections = {f.name: f.type for f in fields(Config)}
    lacking = [name for name in REQUIRED_SECTIONS if name not in data]
    if lacking:
        raise ConfigError(
            f"{path}: the section(s) {', '.join(f'[{n}]' for n in lacking)} are missing (the "
            f"file looks cut off or emptied; its settings would silently reset); restore them "
            f"from a backup, or add an empty [{lacking[0]}] line to take the defaults"
        )
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{shown_key(unknown[0])}]; known sections: "
            f"{', '.join(sections)}"
        )
    defaults = Config()
    parts = {
        name: _section(type(getattr(defaults, name)), data.get(name, {}), name, str(path))
        for name in sections
    }
    return Config(**parts).validate(str(path))


def save_config(workspace: Path, config: Config) -> Path:
    path = workspace / CONFIG_NAME
    header = "# activelabel workspace. Edit with care: values are checked on every command.\n"
    path.write_text(header + tomli_w.dumps(asdict(config)), encoding="utf-8")
    return path
