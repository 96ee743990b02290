"""nginx for the tests: deploy/nginx/inspectbot.conf itself, on a high port of 127.0.0.1.

`render_site` changes only what a county edits (the lines marked EDIT: ports, name,
certificate paths, logs) and keeps every directive the tests are about: TLS, the webhook
location, the upstream, the access rules of /healthz and /metrics, the body limit and the
timeouts. `self_signed` makes a certificate for 127.0.0.1, as a county without a public
name would (the bot uploads it with setWebhook).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "inspectbot.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)
NO_NGINX = ("nginx is not installed (Debian: apt-get install nginx-light; .ci/run installs it)")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(directory: Path, host: str = "127.0.0.1") -> Certificate:
    """A certificate for `host` (an IP address in its subjectAltName), made with openssl."""
    cert, key = directory / "webhook.pem", directory / "webhook.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return Certificate(cert, key)


def render_site(*, port: int, upstream: list[int], certificate: Certificate,
                logs: Path, workers: list[int] | None = None, source: str | None = None) -> str:
    """The site file with this machine's values in the lines a county edits.

    `upstream`: the workers the webhook goes to; `workers`: every worker's port for
    /workers/<i>/… (default: the upstream's).
    """
    text = source if source is not None else SITE.read_text(encoding="utf-8")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"
                      for p in upstream)
    text, count = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+ .*\n", "", text)
    assert count, "the upstream block lost its server lines"
    text = text.replace("upstream inspectbot_workers {\n",
                        "upstream inspectbot_workers {\n" + servers)
    text, count = re.subn(r"(?m)^    \d+ \d+;.*\n", "", text)
    assert count, "the map of worker ports lost its lines"
    ports = "".join(f"    {i} {p};\n" for i, p in enumerate(workers or upstream))
    text = text.replace('    default "";\n', '    default "";\n' + ports)
    replacements = {
        r"(?m)^    listen 443 ssl;.*$": f"    listen 127.0.0.1:{port} ssl;",
        r"(?m)^    listen \[::\]:443 ssl;.*\n": "",
        r"(?m)^    server_name .*$": "    server_name 127.0.0.1;",
        r"(?m)^    ssl_certificate .*$": f"    ssl_certificate {certificate.cert};",
        r"(?m)^    ssl_certificate_key .*$": f"    ssl_certificate_key {certificate.key};",
        r"(?m)^    access_log .*$": f"    access_log {logs / 'access.log'} inspectbot;",
        r"(?m)^    error_log .*$": f"    error_log {logs / 'error.log'} warn;",
    }
    for pattern, value in replacements.items():
        text, count = re.subn(pattern, value, text)
        assert count == 1, f"deploy/nginx/inspectbot.conf: no single line for {pattern}"
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Nginx:
    """One nginx master with the rendered site, in a directory of its own."""

    root: Path
    port: int
    site: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def main_config(self) -> Path:
        return self.root / "nginx.conf"

    def write(self) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        (self.root / "inspectbot.conf").write_text(self.site, encoding="utf-8")
        temp = self.root / "temp"
        temp.mkdir(exist_ok=True)
        # As root nginx would hand its workers to "nobody", who cannot read this directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.main_config.write_text(
            f"{user}worker_processes 1;\npid {self.root / 'nginx.pid'};\n"
            f"error_log {self.root / 'logs' / 'main-error.log'} notice;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    access_log off;\n"
            f"    client_body_temp_path {temp / 'body'};\n"
            f"    proxy_temp_path {temp / 'proxy'};\n"
            f"    fastcgi_temp_path {temp / 'fastcgi'};\n"
            f"    uwsgi_temp_path {temp / 'uwsgi'};\n"
            f"    scgi_temp_path {temp / 'scgi'};\n"
            f"    include {self.root / 'inspectbot.conf'};\n"
            "}\n", encoding="utf-8")

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t`: the configuration as nginx itself reads it."""
        assert NGINX is not None
        self.write()
        return subprocess.run([NGINX, "-t", "-p", str(self.root), "-c", str(self.main_config)],
                              capture_output=True, text=True)

    def start(self) -> None:
        assert NGINX is not None
        self.write()
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", str(self.main_config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5):
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nginx did not start: {error}")
            time.sleep(0.05)

    def _workers_started(self) -> int:
        log = self.root / "logs" / "main-error.log"
        return log.read_text().count("start worker process") if log.exists() else 0

    def _workers(self) -> set[int]:
        """The master's children now (its worker processes, old and new)."""
        assert self.process is not None
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process is gone already
                continue
            if int(fields[1]) == self.process.pid:
                found.add(int(stat.parent.name))
        return found

    def reload(self, site: str) -> None:
        """A new site file, read by `nginx -s reload`; returns once new workers run it and
        the old ones are gone. An old worker still holding a client's keep-alive
        connection would otherwise serve one more request with the old site."""
        assert self.process is not None
        before = self._workers_started()
        old = self._workers()
        self.site = site
        self.write()
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self._workers_started() <= before or self._workers() & old:
            assert time.monotonic() < deadline, "nginx did not reload"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish requests in flight
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_nginx(root: Path, *, upstream: list[int], certificate: Certificate) -> Iterator[Nginx]:
    port = free_port()
    server = Nginx(root, port, render_site(port=port, upstream=upstream,
                                           certificate=certificate, logs=root / "logs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
