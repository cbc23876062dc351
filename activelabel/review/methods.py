"""cleanlab's label quality scores a review may rank by: light, so the command line offers them
without loading numpy or cleanlab."""

METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
DEFAULT_METHOD = "self_confidence"  # chosen on BBC (benchmarks/README.md, label review)
