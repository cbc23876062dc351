"""Helpers for tests and benchmarks that need a model but not a trained one."""

from __future__ import annotations

from pathlib import Path


def tiny_bert(folder: str | Path) -> str:
    """Save a 2-layer, 64-wide random BERT with the default model's tokenizer to ``folder``
    (once; an existing model there is kept) and return its path. Seeded: always the same
    weights. Fast and offline, so tests and benchmarks exercise the real code paths cheaply."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        import torch
        from transformers import AutoTokenizer, BertConfig, BertModel

        from activelabel.model import resolve_model

        tokenizer = AutoTokenizer.from_pretrained(resolve_model("default"))
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=128,
            max_position_embeddings=128,
        )
        torch.manual_seed(0)
        BertModel(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return str(folder)
