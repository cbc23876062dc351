"""Exporting a workspace, one module per job:

- :mod:`.formats`: writing rows as CSV, JSON Lines, Parquet or a Hugging Face dataset folder;
- :mod:`.labels`: the labelled set with provenance;
- :mod:`.predictions`: the model's predictions for every unlabelled headline, scored through
  the engine.

Sending confident predictions to Label Studio for review lives with the Label Studio
integration (``activelabel.integrations.labelstudio.prediction_review``).
"""
