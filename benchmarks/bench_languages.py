"""Zero-shot accuracy on the SIB-200 sentences per encoder preset and keyword language: which
language should a taxonomy's keywords be in for each preset?

For each of ``sib200-en/fr/de/es`` (``../shared/corpora``; the same 1,004 sentences, not
headlines, in four languages; test = the source's test split, 204), each preset and each keyword
language (the corpus's own, or English), the default learner with no label classifies the test
sentences by their similarity to the seven topics' keyword vectors.

    .venv/bin/python benchmarks/bench_languages.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_strategies as bench  # noqa: E402  (the sib200 files and the zero-shot measure)

from activelabel.config import Config, CorpusConfig, LoopConfig, ModelConfig, TaxonomyConfig  # noqa: E402
from activelabel.init import create_workspace  # noqa: E402
from activelabel.workspace import Workspace  # noqa: E402


def zero_shot(folder: Path, language: str, preset: str, keywords: str) -> float:
    bench.KEYWORDS = keywords
    folder.mkdir(parents=True)
    pool, test, taxonomy = bench.write_sib200(folder, language)
    config = Config(
        corpus=CorpusConfig(str(pool), id_column="id", test=str(test)),
        taxonomy=TaxonomyConfig(name=str(taxonomy)),
        model=ModelConfig(name=preset, mode="frozen"),
        loop=LoopConfig(seed=0),
    )
    create_workspace(folder / "ws", config)
    return bench.zero_shot_accuracy(Workspace.open(folder / "ws"), "keywords")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="en,fr,de,es")
    parser.add_argument("--presets", default="english,multilingual")
    args = parser.parse_args()
    bench.share_embeddings()
    presets = args.presets.split(",")
    print("| corpus | keywords | " + " | ".join(f"zero-shot, {p}" for p in presets) + " |")
    print("|---|---|" + "---|" * len(presets))
    with tempfile.TemporaryDirectory() as tmp:
        for language in args.languages.split(","):
            for keywords in ("native", "english") if language != "en" else ("native",):
                cells = [
                    zero_shot(Path(tmp) / f"{language}-{keywords}-{p}", language, p, keywords)
                    for p in presets
                ]
                shown = "English" if keywords == "english" or language == "en" else "own language"
                print(
                    f"| sib200-{language} | {shown} | "
                    + " | ".join(f"{100 * c:.1f} %" for c in cells)
                    + " |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
