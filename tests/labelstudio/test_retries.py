"""Retries against a real failing server: a proxy in front of the real Label Studio that fails
chosen requests with a 5xx, after (or instead of) passing them on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from activelabel.integrations.labelstudio import connect
from activelabel.integrations.labelstudio.client import call
from activelabel.integrations.labelstudio.errors import LabelStudioServerError
from activelabel.integrations.labelstudio.project import ensure_project
from activelabel.integrations.labelstudio.tasks import PushItem, existing_task_ids, push_batch

pytestmark = pytest.mark.labelstudio


class FlakyProxy:
    """Forwards to ``upstream``; the first ``failures`` requests whose method and path match
    get HTTP 503, either instead of reaching the server or after it answered."""

    def __init__(self, upstream: str, method: str, path_part: str, failures: int, after: bool):
        self.upstream, self.method, self.path_part = upstream, method, path_part
        self.failures, self.after = failures, after
        self.seen: list[tuple[str, str, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                matches = self.command == proxy.method and proxy.path_part in self.path
                fail = matches and proxy.failures > 0
                if fail:
                    proxy.failures -= 1
                response = None
                if not fail or proxy.after:
                    headers = {
                        k: v
                        for k, v in self.headers.items()
                        if k.lower() not in ("host", "content-length", "connection")
                    }
                    response = httpx.request(
                        self.command,
                        proxy.upstream + self.path,
                        headers=headers,
                        content=body,
                        timeout=60,
                    )
                status = 503 if fail else response.status_code
                proxy.seen.append((self.command, self.path, status))
                data = b'{"detail": "unavailable"}' if fail else response.content
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def flaky(upstream: str, *args) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream, *args)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


def test_a_read_is_retried_until_the_server_answers(ls_server):
    with flaky(ls_server.url, "GET", "whoami", 2, False) as proxy:
        client = connect(proxy.url, ls_server.token, check=False)
        user = call(client, "reading the user", client.users.whoami, read=True, backoff=0.01)
    assert user.email == ls_server.username
    statuses = [status for _, path, status in proxy.seen if "whoami" in path]
    assert statuses == [503, 503, 200]


def test_a_read_that_keeps_failing_is_one_clear_error(ls_server):
    with flaky(ls_server.url, "GET", "whoami", 10, False) as proxy:
        client = connect(proxy.url, ls_server.token, check=False)
        with pytest.raises(LabelStudioServerError, match="reading the user"):
            call(client, "reading the user", client.users.whoami, read=True, backoff=0.01)
    assert len([p for _, p, _ in proxy.seen if "whoami" in p]) == 4


def test_a_write_is_never_blindly_repeated(ls_server):
    with flaky(ls_server.url, "POST", "/api/projects", 1, True) as proxy:
        client = connect(proxy.url, ls_server.token, check=False)
        with pytest.raises(LabelStudioServerError):
            call(client, "creating a project", lambda: client.projects.create(title="once"))
    assert [s for m, p, s in proxy.seen if m == "POST"] == [503]


def test_an_import_that_failed_after_the_server_applied_it_is_not_duplicated(
    ls_server, client, topics
):
    project = ensure_project(client, "retry import", topics, "", None)
    items = [PushItem(i, f"headline {i}", 0, None, None, "active") for i in range(1, 6)]
    with flaky(ls_server.url, "POST", "/import", 1, True) as proxy:
        through = connect(proxy.url, ls_server.token, check=False)
        mapping = push_batch(through, project, items)
    imports = [s for m, p, s in proxy.seen if m == "POST" and "/import" in p]
    assert imports == [503]  # the server imported them; the retry looked and found them
    assert sorted(mapping) == [1, 2, 3, 4, 5]
    assert existing_task_ids(client, project) == mapping


def test_an_import_that_failed_before_reaching_the_server_is_sent_again(ls_server, client, topics):
    project = ensure_project(client, "retry import 2", topics, "", None)
    items = [PushItem(i, f"headline {i}", 0, None, None, "active") for i in range(1, 4)]
    with flaky(ls_server.url, "POST", "/import", 1, False) as proxy:
        through = connect(proxy.url, ls_server.token, check=False)
        mapping = push_batch(through, project, items)
    imports = [s for m, p, s in proxy.seen if m == "POST" and "/import" in p]
    assert imports == [503, 201]
    assert existing_task_ids(client, project) == mapping and len(mapping) == 3
