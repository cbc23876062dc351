"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class ActiveLabelError(Exception):
    """A problem with the user's input, files or set-up; the message says what to do."""


class CorpusError(ActiveLabelError):
    """A corpus file cannot be read or does not fit the schema."""


class ConfigError(ActiveLabelError):
    """The workspace configuration is missing or invalid."""


class StateError(ActiveLabelError):
    """The workspace state database is missing, corrupt or from another version."""


class AnnotatorError(ActiveLabelError):
    """The annotation backend (Label Studio, ...) failed or refused a request."""


class StrategyError(ActiveLabelError):
    """A query strategy cannot run on what it was given (a missing field, a bad parameter)."""


class ReportError(ActiveLabelError):
    """There is nothing (or not enough) to report."""
