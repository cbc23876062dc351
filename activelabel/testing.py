"""Helpers for tests and benchmarks: an untrained model to run the real code paths cheaply,
and settings changed in place."""

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


def configure(workspace: str | Path, **sections: dict) -> None:
    """Change settings of a workspace's ``activelabel.toml``, e.g.
    ``configure(ws, model={"epochs": 1})``."""
    from activelabel.config import load_config, save_config

    config = load_config(workspace)
    for section, values in sections.items():
        for key, value in values.items():
            setattr(getattr(config, section), key, value)
    save_config(workspace, config)
