"""``python -m activelabel`` runs the ``activelabel`` command."""

from activelabel.cli import main

main()
