"""A real S3 HTTP server for the tests: moto in server mode, in a process of its own.

Its own process, so the bot's memory and threads are measured without the server's,
and signatures are checked: the server starts with `INITIAL_NO_AUTH_ACTION_COUNT`, so
after the few requests that create an IAM user and its access key, every request must
carry a valid SigV4 signature made with that key, as on a real service.

`FlakyProxy` stands between a store and the server and misbehaves on request (503s,
connections cut half-way through a body) so retries are tested against real HTTP.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

REGION = "us-east-1"
# The requests that set up the IAM user (create user, attach policy, create key).
UNSIGNED_SETUP_REQUESTS = 3
ALLOW_ALL = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MotoServer:
    """`python -m moto.server` on a free port of 127.0.0.1, with one IAM user's key."""

    port: int = field(default_factory=free_port)
    access_key_id: str = ""
    secret_access_key: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log: Path) -> None:
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(UNSIGNED_SETUP_REQUESTS),
               "MOTO_PORT": str(self.port)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1):
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto did not start: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION,
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="inspectbot")
        iam.put_user_policy(UserName="inspectbot", PolicyName="evidence",
                            PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="inspectbot")["AccessKey"]
        self.access_key_id = key["AccessKeyId"]
        self.secret_access_key = key["SecretAccessKey"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self) -> Any:
        """boto3, signed with the user's key: an independent reader of the bucket."""
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key)

    def new_bucket(self) -> str:
        name = f"evidence-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def s3_section(self, bucket: str, **overrides: object) -> dict[str, object]:
        """A `[storage.s3]` table for this server (path-style: it is reached by IP)."""
        return {"endpoint_url": self.endpoint, "region": REGION, "bucket": bucket,
                "addressing_style": "path", "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key, **overrides}


class ResolvingTransport(httpx.HTTPTransport):
    """Connects every request to 127.0.0.1:<port> whatever its host, as `curl --resolve`.

    Virtual-hosted addressing puts the bucket in the host name (evidence.s3.test), which
    no resolver here knows; the Host header, and so the signature, stay as sent.
    """

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
        return super().handle_request(request)


class FlakyProxy:
    """An HTTP relay to the server that fails the requests it is told to fail.

    `fail(method, times, status)` answers the next `times` such requests with `status`
    (an S3 error body); `cut(times)` sends only half of the next GET bodies and closes the
    connection; `ignore_range` answers a Range request with the whole object. The Host
    header is relayed unchanged, so signatures still hold.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = f"http://127.0.0.1:{upstream_port}"
        self.failures: dict[str, list[int]] = {}
        self.cuts = 0
        # Forward without Range, as a service that ignores it (answers 200, whole).
        self.ignore_range = False
        self.whole_gets: dict[str, dict[str, str]] = {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.seen.append((self.command, self.path, dict(self.headers.items())))
                    queue = proxy.failures.get(self.command, [])
                    status = queue.pop(0) if queue else 0
                    cut = self.command == "GET" and proxy.cuts > 0
                    if cut:
                        proxy.cuts -= 1
                if status:
                    error = (b"<Error><Code>SlowDown</Code><Message>Please reduce your "
                             b"request rate.</Message></Error>")
                    self.send_response(status)
                    self.send_header("content-length", str(len(error)))
                    self.send_header("content-type", "application/xml")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("content-length", "connection")}
                if self.command == "GET" and "range" not in {k.lower() for k in headers}:
                    proxy.whole_gets[self.path] = headers
                elif self.command == "GET" and proxy.ignore_range:
                    # Range is signed, so it cannot just be dropped: send the earlier
                    # request for the whole object again, signature and all.
                    headers = proxy.whole_gets[self.path]
                with httpx.Client() as client:
                    upstream = client.request(self.command, proxy.upstream + self.path,
                                              headers=headers, content=body)
                data = upstream.content
                self.send_response(upstream.status_code)
                for name, value in upstream.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection",
                                            "content-encoding", "server", "date"):
                        self.send_header(name, value)
                # A HEAD's length is the object's, not that of its (empty) body.
                length_header = (upstream.headers.get("content-length", "0")
                                 if self.command == "HEAD" else str(len(data)))
                self.send_header("content-length", length_header)
                if cut:
                    self.send_header("connection", "close")
                self.end_headers()
                if self.command == "HEAD":
                    return
                if cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, method: str, times: int, status: int = 503) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([status] * times)

    def cut(self, times: int) -> None:
        with self._lock:
            self.cuts += times

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def running_moto(log: Path) -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        server.start(log)
        yield server
    finally:
        server.stop()
