"""Adapters to outside tools (installed as ``activelabel.integrations``)."""
