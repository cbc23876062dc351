"""Errors raised by the Label Studio integration, and the translation of SDK/HTTP failures.

Every error is an :class:`~activelabel.errors.AnnotatorError` with a one-line message that says
what went wrong and what to do. Messages never contain the API token.
"""

from __future__ import annotations

import httpx
from label_studio_sdk.core.api_error import ApiError

from activelabel.errors import AnnotatorError

__all__ = [
    "LabelStudioError",
    "LabelStudioSetupError",
    "LabelStudioUnavailableError",
    "LabelStudioAuthError",
    "LabelStudioNotFoundError",
    "LabelStudioServerError",
    "LabelStudioRequestError",
    "translate_error",
    "scrubbed",
]


class LabelStudioError(AnnotatorError):
    """Base class of every Label Studio failure."""


class LabelStudioSetupError(LabelStudioError):
    """Installing, starting or stopping the local Label Studio server failed."""


class LabelStudioUnavailableError(LabelStudioError):
    """The server cannot be reached (connection refused, dropped or timed out)."""


class LabelStudioAuthError(LabelStudioError):
    """The server refused the API token (HTTP 401/403)."""


class LabelStudioNotFoundError(LabelStudioError):
    """A project or task does not exist (any more) on the server (HTTP 404)."""


class LabelStudioServerError(LabelStudioError):
    """The server failed with HTTP 5xx (after retries, for idempotent reads)."""


class LabelStudioRequestError(LabelStudioError):
    """The server rejected a request as invalid (other HTTP 4xx)."""


_UP_HINT = "start it with 'activelabel labelstudio up' (or check the URL)"


def _body_detail(body: object, limit: int = 200) -> str:
    """A short, single-line excerpt of an error body (never contains request headers)."""
    if isinstance(body, dict):
        for key in ("validation_errors", "detail", "message", "error"):
            if key in body:
                body = body[key]
                break
    text = " ".join(str(body).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def translate_error(exc: BaseException, url: str, action: str) -> LabelStudioError:
    """Turn an SDK/httpx exception into a :class:`LabelStudioError` with an actionable message.

    ``action`` describes what was being done, e.g. ``"listing the tasks of project 3"``.
    """
    if isinstance(exc, LabelStudioError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return LabelStudioUnavailableError(
            f"Label Studio at {url} did not answer in time while {action}: "
            "check that the server is running and not overloaded, then retry"
        )
    if isinstance(exc, httpx.ConnectError):
        return LabelStudioUnavailableError(
            f"Label Studio at {url} refused the connection while {action}: "
            f"the server is not running; {_UP_HINT}"
        )
    if isinstance(exc, httpx.TransportError):
        return LabelStudioUnavailableError(
            f"the connection to Label Studio at {url} broke while {action} "
            f"({type(exc).__name__}): the server may have stopped; {_UP_HINT}"
        )
    if isinstance(exc, ApiError):
        status = exc.status_code
        if status in (401, 403):
            return LabelStudioAuthError(
                f"Label Studio at {url} refused the API token (HTTP {status}) while {action}: "
                "check LABEL_STUDIO_API_KEY or run 'activelabel labelstudio up' again"
            )
        if status == 404:
            return LabelStudioNotFoundError(
                f"Label Studio at {url} has no such object (HTTP 404) while {action}: "
                "it was probably deleted on the server; check the project in the web UI "
                "or let activelabel create a new one"
            )
        if status is not None and status >= 500:
            return LabelStudioServerError(
                f"Label Studio at {url} failed with HTTP {status} while {action}: "
                "see the server log ('activelabel labelstudio status' shows where) and retry"
            )
        return LabelStudioRequestError(
            f"Label Studio at {url} rejected the request (HTTP {status}) while {action}: "
            f"{_body_detail(exc.body)}"
        )
    return LabelStudioError(f"Label Studio at {url} failed while {action} ({type(exc).__name__})")


def scrubbed(exc: BaseException) -> BaseException:
    """``exc`` without response headers (an SDK ``ApiError`` prints them, and they can carry a
    session cookie), to chain under a :class:`LabelStudioError` without leaking it in tracebacks.
    """
    if isinstance(exc, ApiError):
        clean = ApiError(status_code=exc.status_code, body=exc.body)
        clean.__traceback__ = exc.__traceback__
        return clean
    return exc
