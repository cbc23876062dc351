"""activelabel: active-learning annotation toolkit for text classification."""

__version__ = "0.1.0"
