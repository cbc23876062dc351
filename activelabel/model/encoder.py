"""Finding and loading a pre-trained encoder, and running it with dynamic padding."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from activelabel.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def resolve_model(name_or_path: str) -> str:
    """A local folder path for a preset (``english``, ``multilingual``, ``default``) or a user
    folder; other hub ids pass through."""
    from activelabel.model.presets import preset_folder, preset_of

    preset = preset_of(name_or_path)
    if preset is not None:
        return preset_folder(preset.name)
    path = Path(name_or_path).expanduser()
    looks_local = path.exists() or name_or_path.startswith((".", "/", "~"))
    if looks_local:
        if not (path / "config.json").is_file():
            what = "no such folder" if not path.exists() else "no config.json in it"
            raise ConfigError(
                f"model.name (--model) '{name_or_path}' is not a model folder ({what}); give a "
                f"folder saved with save_pretrained, a hub id, or a preset: english, multilingual"
            )
        return str(path.resolve())
    return name_or_path


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(
            f"--device '{device}' is not a torch device; use auto, cpu or cuda"
        ) from exc


def set_threads() -> None:
    """Use every core the process may run on, unless the user set OMP_NUM_THREADS."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))


def load_tokenizer(model_path: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model_path)
    except Exception as exc:  # OSError, ValueError, JSON and tokenizers errors, ...
        advice = (
            "the folder needs the tokenizer files saved with save_pretrained"
            if Path(model_path).is_dir()
            else "a hub id needs network; give a local model folder"
        )
        raise ConfigError(
            f"cannot load a tokenizer from '{model_path}' (model.name): {_one_line(exc)}; "
            f"{advice}, or set model.name = 'default'"
        ) from exc


def load_encoder(model_path: str) -> torch.nn.Module:
    from transformers import AutoModel
    from transformers.utils import logging

    previous = logging.get_verbosity()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(model_path)
    except Exception as exc:  # OSError, ValueError, safetensors errors for damaged weights, ...
        raise ConfigError(
            f"cannot load an encoder from '{model_path}' (model.name): {_one_line(exc)}; "
            f"save a model with save_pretrained into that folder, or set model.name = 'default'"
        ) from exc
    finally:
        logging.set_verbosity(previous)
        logging.enable_progress_bar()


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """A library's message on one line, shortened, to quote inside ours."""
    text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PrefixedTokenizer:
    """A tokenizer that puts ``prefix`` before every text it is called on (a model's input
    convention, e.g. e5's ``query: ``); everything else is the wrapped tokenizer's."""

    def __init__(self, tokenizer, prefix: str):
        self.tokenizer = tokenizer
        self.prefix = prefix

    def __call__(self, texts, *args, **kwargs):
        if isinstance(texts, str):
            return self.tokenizer(self.prefix + texts, *args, **kwargs)
        return self.tokenizer([self.prefix + t for t in texts], *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.tokenizer, name)


def with_prefix(tokenizer, prefix: str):
    """``tokenizer`` itself, or wrapped to put ``prefix`` before every text."""
    return PrefixedTokenizer(tokenizer, prefix) if prefix else tokenizer


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class TokenCache:
    """Token ids of each text, computed once; batches are padded to their own longest text."""

    def __init__(self, tokenizer, max_length: int):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self._ids: dict[str, list[int]] = {}

    def ids(self, texts: Sequence[str], keep: bool = True) -> list[list[int]]:
        """Token ids of ``texts``; ``keep=False`` tokenises without remembering (for texts
        whose embeddings go to a disk cache and are never tokenised again)."""
        if not keep:
            known = [self._ids.get(t) for t in texts]
            todo = [t for t, ids in zip(texts, known, strict=True) if ids is None]
            fresh = iter(
                self.tokenizer(todo, truncation=True, max_length=self.max_length)["input_ids"]
                if todo
                else []
            )
            return [ids if ids is not None else next(fresh) for ids in known]
        missing = list(dict.fromkeys(t for t in texts if t not in self._ids))
        if missing:
            encoded = self.tokenizer(missing, truncation=True, max_length=self.max_length)
            self._ids.update(zip(missing, encoded["input_ids"], strict=True))
        return [self._ids[t] for t in texts]

    @property
    def texts(self) -> list[str]:
        """The texts tokenised and kept so far (the corpus a classifier was prepared on), in
        the order first seen."""
        return list(self._ids)

    def batch(self, ids: Sequence[list[int]], device: torch.device) -> dict[str, torch.Tensor]:
        width = max(len(i) for i in ids)
        pad = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, token_ids in enumerate(ids):
            input_ids[row, : len(token_ids)] = torch.tensor(token_ids)
            mask[row, : len(token_ids)] = 1
        return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}


def fit_max_length(tokenizer, texts: Sequence[str], cap: int = 128, quantile: float = 0.995) -> int:
    """A max length that truncates almost no headline: the 99.5th percentile, at most ``cap``."""
    if not texts:
        return 32
    sample = list(texts[:5000])
    lengths = [len(i) for i in tokenizer(sample, truncation=True, max_length=cap)["input_ids"]]
    return int(min(cap, max(8, np.ceil(np.quantile(lengths, quantile)))))


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of similar length (less padding), in length order."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
