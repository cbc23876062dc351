"""The on-disk embedding cache: same vectors as encoding, keyed by model, and a real SIGKILL
in the middle of a write leaves a cache that later runs use and extend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from activelabel.faults import CACHE_POINTS, KILL_AT
from activelabel.model import FrozenEncoder, ModelSettings
from activelabel.model.embedding_cache import EmbeddingCache, text_keys
from activelabel.model.encoder import TokenCache, load_tokenizer, pick_device

TEXTS_A = [f"minister resigns over vote number {i}" for i in range(40)]
TEXTS_B = [f"striker scores twice in match {i}" for i in range(30)]


def encoder(model: str, cache: Path | None, max_length: int = 16) -> FrozenEncoder:
    settings = ModelSettings(model, mode="frozen", cache_dir=str(cache) if cache else None)
    tokens = TokenCache(load_tokenizer(model), max_length)
    return FrozenEncoder(settings, tokens, pick_device("cpu"))


def segments(cache: EmbeddingCache) -> list[Path]:
    return sorted(cache.folder.glob("*.npy"))


def test_cached_vectors_equal_encoded_ones_and_are_not_recomputed(tiny_model, tmp_path):
    plain = encoder(tiny_model, None).encode(TEXTS_A + TEXTS_B)
    first = encoder(tiny_model, tmp_path)
    cold = first.encode(TEXTS_A + TEXTS_A[:5])  # repeats inside one call are stored once
    assert len(first.disk) == len(TEXTS_A)
    np.testing.assert_allclose(cold[: len(TEXTS_A)], plain[: len(TEXTS_A)], atol=1e-6)

    second = encoder(tiny_model, tmp_path)  # a later round: a new process reads the files
    written = segments(second.disk)
    counted = []
    warm = second.encode(TEXTS_B + TEXTS_A, counted.append)
    np.testing.assert_allclose(warm, plain[np.r_[40:70, 0:40]], atol=1e-6)
    assert sum(counted) == len(TEXTS_A) + len(TEXTS_B)  # progress covers cached texts too
    assert len(segments(second.disk)) == len(written) + 2  # only B was encoded and written
    again = encoder(tiny_model, tmp_path)
    before = segments(again.disk)
    np.testing.assert_allclose(again.encode(TEXTS_B), plain[40:], atol=1e-6)
    assert segments(again.disk) == before
    assert not again.tokens._ids, "warm texts were tokenised"
    assert isinstance(again.disk._vectors[0], np.memmap)


def test_cache_is_keyed_by_model_weights_and_max_length(tiny_model, tmp_path):
    a = encoder(tiny_model, tmp_path, max_length=16).disk
    b = encoder(tiny_model, tmp_path, max_length=8).disk
    assert a.folder != b.folder
    import torch
    from transformers import AutoModel

    changed = tmp_path / "changed-model"
    model = AutoModel.from_pretrained(tiny_model)
    with torch.no_grad():
        model.embeddings.word_embeddings.weight[0, 0] += 1.0
    model.save_pretrained(changed)
    load_tokenizer(tiny_model).save_pretrained(changed)
    assert encoder(str(changed), tmp_path).disk.folder != a.folder
    assert encoder(tiny_model, tmp_path, max_length=16).disk.folder == a.folder


def test_unreadable_index_means_an_empty_cache_not_an_error(tiny_model, tmp_path):
    first = encoder(tiny_model, tmp_path)
    first.encode(TEXTS_A)
    (first.disk.folder / "index.json").write_text("{not json")
    again = encoder(tiny_model, tmp_path)
    assert len(again.disk) == 0
    again.encode(TEXTS_A[:3])
    assert len(encoder(tiny_model, tmp_path).disk) == 3


SCRIPT = """
import sys
from activelabel.model import FrozenEncoder, ModelSettings
from activelabel.model.encoder import TokenCache, load_tokenizer, pick_device
model, cache, which = sys.argv[1:4]
texts = [f"striker scores twice in match {i}" for i in range(30)]
if which == "A":
    texts = [f"minister resigns over vote number {i}" for i in range(40)]
settings = ModelSettings(model, mode="frozen", cache_dir=cache)
FrozenEncoder(settings, TokenCache(load_tokenizer(model), 16), pick_device("cpu")).encode(texts)
"""


def encode_in_subprocess(model: str, cache: Path, which: str, kill_at: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != KILL_AT}
    if kill_at:
        env[KILL_AT] = kill_at
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, model, str(cache), which],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("point", CACHE_POINTS)
def test_kill_during_a_write_leaves_a_usable_cache(tiny_model, tmp_path, point):
    done = encode_in_subprocess(tiny_model, tmp_path, "A")
    assert done.returncode == 0, done.stderr
    killed = encode_in_subprocess(tiny_model, tmp_path, "B", kill_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    survivor = encoder(tiny_model, tmp_path)
    folder = survivor.disk.folder
    left = sorted(p.name for p in folder.iterdir())
    assert any(".tmp-" in name or name.startswith("000002") for name in left), left
    _, found = survivor.disk.lookup(text_keys(TEXTS_A + TEXTS_B))
    assert found.tolist() == [True] * len(TEXTS_A) + [False] * len(TEXTS_B)

    plain = encoder(tiny_model, None).encode(TEXTS_A + TEXTS_B)
    np.testing.assert_allclose(survivor.encode(TEXTS_A + TEXTS_B), plain, atol=1e-6)
    assert not any(".tmp-" in p.name for p in folder.iterdir()), "leftovers were not removed"
    final = encoder(tiny_model, tmp_path)
    assert len(final.disk) == len(TEXTS_A) + len(TEXTS_B)
    np.testing.assert_allclose(final.encode(TEXTS_A + TEXTS_B), plain, atol=1e-6)
