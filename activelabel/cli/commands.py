"""Imports every sub-command module so that each registers itself on the group."""

from activelabel.cli import (  # noqa: F401
    export_cmd,
    init_cmd,
    labelstudio_cmd,
    report_cmd,
    review_cmd,
    round_cmd,
    serve_cmd,
    simulate_cmd,
    stats_cmd,
    status_cmd,
)
