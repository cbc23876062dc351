"""The workspace file ``activelabel.toml``: what the user chose, validated on every load."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from activelabel.errors import ConfigError
from activelabel.model.settings import ModelSettings

CONFIG_NAME = "activelabel.toml"
ANNOTATORS = ("oracle", "labelstudio")
MODES = ("finetune", "frozen")


@dataclass
class CorpusConfig:
    source: str = "bbc"  # built-in name or path to a CSV/JSONL/Parquet file or dataset folder
    text_column: str = "text"
    label_column: str = "label"
    id_column: str = ""
    test: str = ""  # path of a separate labelled test file; empty: split off test_size
    test_size: float = 0.2  # a share (< 1) or a count (>= 1) of labelled records


@dataclass
class TaxonomyConfig:
    name: str = "iptc"  # built-in name or path to a TOML/CSV taxonomy
    labels: list[str] = field(default_factory=list)  # the classes, in order


@dataclass
class ModelConfig:
    name: str = "default"  # 'default' (all-MiniLM-L6-v2), a local model folder or a hub id
    mode: str = "finetune"
    epochs: int = 6
    min_steps: int = 60
    learning_rate: float = 5e-5
    batch_size: int = 16
    max_length: int = 0  # 0: fitted to the corpus
    class_weight: str = "balanced"
    device: str = "auto"


@dataclass
class LoopConfig:
    strategy: str = "random"
    cold_start: str = "random"  # how round 0 picks: random, clusters or topics
    batch_size: int = 50
    seed: int = 0
    annotator: str = "oracle"


@dataclass
class LabelStudioConfig:
    url: str = ""  # empty: the server started by 'activelabel labelstudio up'
    project_title: str = ""
    token_env: str = "LABEL_STUDIO_API_KEY"


@dataclass
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    taxonomy: TaxonomyConfig = field(default_factory=TaxonomyConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    labelstudio: LabelStudioConfig = field(default_factory=LabelStudioConfig)

    def model_settings(self, model_path: str) -> ModelSettings:
        m = self.model
        return ModelSettings(
            model_path=model_path,
            mode=m.mode,
            epochs=m.epochs,
            min_steps=m.min_steps,
            learning_rate=m.learning_rate,
            batch_size=m.batch_size,
            max_length=m.max_length or None,
            class_weight=m.class_weight,
            device=m.device,
        )

    def validate(self, where: str = CONFIG_NAME) -> Config:
        checks = [
            (self.model.mode in MODES, f"model.mode must be one of {', '.join(MODES)}"),
            (self.model.epochs >= 1, "model.epochs must be at least 1"),
            (self.model.batch_size >= 1, "model.batch_size must be at least 1"),
            (self.model.learning_rate > 0, "model.learning_rate must be positive"),
            (self.model.min_steps >= 0, "model.min_steps must be 0 or more"),
            (self.model.max_length >= 0, "model.max_length must be 0 (auto) or positive"),
            (
                self.model.class_weight in ("balanced", "none"),
                "model.class_weight must be 'balanced' or 'none'",
            ),
            (self.loop.batch_size >= 1, "loop.batch_size must be at least 1"),
            (
                self.loop.annotator in ANNOTATORS,
                f"loop.annotator must be one of {', '.join(ANNOTATORS)}",
            ),
            (self.corpus.test_size > 0, "corpus.test_size must be positive"),
            (
                len(set(self.taxonomy.labels)) == len(self.taxonomy.labels),
                "taxonomy.labels must not repeat a label",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"{where}: {message}")
        return self


def _section(cls: type, data: Any, name: str, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{name}.{unknown[0]}'; known keys: {', '.join(known)}"
        )
    default = cls()
    for key, value in data.items():
        expected = type(getattr(default, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            data[key] = value
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: '{name}.{key}' must be {expected.__name__}, not {value!r}")
    return cls(**data)


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"{workspace} is not an activelabel workspace (no {CONFIG_NAME}); "
            f"run 'activelabel init {workspace}' first"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    sections = {f.name: f.type for f in fields(Config)}
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(f"{path}: unknown section [{unknown[0]}]; known: {', '.join(sections)}")
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
