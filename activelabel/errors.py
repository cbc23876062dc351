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


def os_problem(exc: OSError) -> str:
    """What an operating-system error means for the user, and what to do, on one line."""
    import errno

    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    advice = {
        errno.EROFS: "the folder is on a read-only file system; copy the workspace to a "
        "writable folder (or pass --out where the command has it)",
        errno.ENOSPC: "the disk is full; free some space and run the command again (what was "
        "saved before stays as it was)",
        errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
        errno.EACCES: "permission denied; make the folder writable for this user or use "
        "another folder",
        errno.EPERM: "operation not permitted; make the folder writable for this user or use "
        "another folder",
    }.get(exc.errno, "check the path and the disk, then run the command again")
    return f"{where}{reason}; {advice}"


def sqlite_problem(path: object, exc: Exception) -> str:
    """The message for an SQLite error writing the state file at ``path``."""
    import os
    import shutil

    text = " ".join(str(exc).split())
    folder = os.path.dirname(str(path)) or "."
    if "full" in text:
        advice = "the disk is full; free some space and run the command again"
    elif "readonly" in text or "read-only" in text or not os.access(folder, os.W_OK):
        advice = "the workspace is read-only; copy it to a writable folder, or make it writable"
    elif shutil.disk_usage(folder).free < 1 << 20:
        advice = "the disk is (nearly) full; free some space and run the command again"
    else:
        advice = "check the disk and the file's permissions, then run the command again"
    return f"{path}: cannot write the state file ({text}); {advice}"
