"""The ``activelabel`` command. Each sub-command is a small function in its own module."""

from activelabel.cli.app import main

__all__ = ["main"]
