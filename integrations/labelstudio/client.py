"""Connecting to Label Studio and calling it with clear errors and safe retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlparse

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from .errors import (
    LabelStudioError,
    LabelStudioUnavailableError,
    scrubbed,
    translate_error,
)

__all__ = ["connect", "client_url", "call", "DEFAULT_TIMEOUT"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
#: HTTP statuses worth retrying for an idempotent read
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def client_url(client: LabelStudio) -> str:
    """The base URL a client talks to (for messages)."""
    try:
        return str(client._client_wrapper.get_base_url()).rstrip("/")
    except AttributeError:  # pragma: no cover - a foreign client object
        return "Label Studio"


def call(
    client: LabelStudio,
    action: str,
    fn: Callable[[], T],
    *,
    read: bool = False,
    attempts: int = 4,
    backoff: float = 0.5,
) -> T:
    """Run ``fn()`` (one SDK call) and turn its failures into :class:`LabelStudioError`.

    ``read=True`` marks an idempotent read: HTTP 5xx/408/429 and dropped connections are retried
    up to ``attempts`` times with exponential backoff. Writes are never retried here (a write the
    server applied before failing would be applied twice); callers that can verify what happened
    (like :func:`~activelabel.integrations.labelstudio.tasks.push_batch`) retry themselves.
    A refused connection or a timeout is not retried: the server is down or overloaded.
    """
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts) if read else 1),
        wait=wait_exponential(multiplier=backoff),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    try:
        return retrying(fn)
    except (ApiError, httpx.HTTPError) as exc:
        raise translate_error(exc, client_url(client), action) from scrubbed(exc)


def _transient(exc: BaseException) -> bool:
    """A failure worth trying again for a read: a server error or a dropped connection."""
    if isinstance(exc, ApiError):
        return exc.status_code in _RETRY_STATUSES
    return isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)


def connect(
    url: str,
    token: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
) -> LabelStudio:
    """A Label Studio SDK client for ``url``, after checking once that the server answers and
    accepts ``token``.

    Raises :class:`~activelabel.integrations.labelstudio.errors.LabelStudioUnavailableError`
    when nothing answers and
    :class:`~activelabel.integrations.labelstudio.errors.LabelStudioAuthError` when the token is
    refused. The SDK's own retries are switched off: :func:`call` retries reads, and writes are
    made idempotent by their callers.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LabelStudioError(
            f"{url!r} is not a Label Studio URL: use the form http://127.0.0.1:8080"
        )
    if not token:
        raise LabelStudioError(
            "no Label Studio API token given: set LABEL_STUDIO_API_KEY or run "
            "'activelabel labelstudio up'"
        )
    base = url.rstrip("/")
    try:
        client = LabelStudio(base_url=base, api_key=token, timeout=timeout, max_retries=0)
    except ApiError as exc:  # the SDK validates JWT-shaped keys eagerly
        raise translate_error(exc, base, "reading the API token") from scrubbed(exc)
    if check:
        try:
            response = httpx.get(base + "/health", timeout=min(timeout, 10.0))
        except httpx.HTTPError as exc:
            raise translate_error(exc, base, "checking the server") from exc
        if response.status_code != 200:
            raise LabelStudioUnavailableError(
                f"{base} answered /health with HTTP {response.status_code}: it is not a working "
                "Label Studio server; check the URL or run 'activelabel labelstudio up'"
            )
        call(client, "checking the API token", client.users.whoami, read=True)
    return client
