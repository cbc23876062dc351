"""Reports of learning curves: figures, tables, an HTML page and a markdown summary.

``write_report(out_dir, points, class_names, title=...)`` writes everything into ``out_dir``
and returns the path of ``index.html``. docs/report.md explains how to read it.
"""

from activelabel.report.page import write_report
from activelabel.report.summary import ModeSummary, RunSummary, hits_table, summarise

__all__ = ["ModeSummary", "RunSummary", "hits_table", "summarise", "write_report"]
