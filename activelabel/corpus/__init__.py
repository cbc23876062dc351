"""Corpora: records, loaders for user files and built-in corpora, taxonomies, splits, statistics."""

from activelabel.corpus.builtin import BUILTIN_CORPORA, load_builtin
from activelabel.corpus.loaders import load_corpus_file
from activelabel.corpus.records import Corpus, Record
from activelabel.corpus.taxonomy import Taxonomy, Topic, load_taxonomy

__all__ = [
    "BUILTIN_CORPORA",
    "Corpus",
    "Record",
    "Taxonomy",
    "Topic",
    "load_builtin",
    "load_corpus_file",
    "load_taxonomy",
]


def load_corpus(
    source: str,
    text_column: str = "text",
    label_column: str | None = "label",
    id_column: str | None = None,
) -> Corpus:
    """Load a built-in corpus by name, or a user file/folder by path."""
    if source in BUILTIN_CORPORA:
        return load_builtin(source)
    return load_corpus_file(
        source, text_column=text_column, label_column=label_column, id_column=id_column
    )
