"""Data files shipped with activelabel: taxonomies and label mappings of built-in corpora."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
