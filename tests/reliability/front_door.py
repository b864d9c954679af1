"""Run the shipped nginx front (deploy/nginx) in a temporary directory, on free ports."""

from __future__ import annotations

import http.client
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
SHIPPED_LISTEN = "listen 80;"
SHIPPED_UPSTREAM = "server 127.0.0.1:5000;"


def nginx_binary() -> str | None:
    """Debian's nginx (in /usr/sbin, which a non-root PATH may lack), if installed."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).is_file() else None


def render(directory: Path, port: int, app_port: int) -> Path:
    """Write an nginx.conf in ``directory`` that serves the shipped site on ``port`` in front
    of the app on ``app_port``, with every path nginx writes inside ``directory``."""
    site = (DEPLOY / "paperfeed.conf").read_text()
    for shipped in (SHIPPED_LISTEN, SHIPPED_UPSTREAM):
        assert site.count(shipped) == 1, f"the shipped config no longer has {shipped!r}"
    site = site.replace(SHIPPED_LISTEN, f"listen 127.0.0.1:{port};")
    site = site.replace(SHIPPED_UPSTREAM, f"server 127.0.0.1:{app_port};")
    (directory / "snippets").mkdir(parents=True)
    shutil.copy(DEPLOY / "paperfeed-problem.conf", directory / "snippets")
    (directory / "paperfeed.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = directory / "nginx.conf"
    main.write_text(f"""daemon off;
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}
    include {directory / 'paperfeed.conf'};
}}
""")
    return main


@contextmanager
def running_nginx(directory: Path, port: int, app_port: int) -> Iterator[str]:
    """Start nginx with the rendered shipped config; yield its base URL; stop it."""
    binary = nginx_binary()
    assert binary is not None
    config = render(directory, port, app_port)
    command = [binary, "-p", f"{directory}/", "-e", str(directory / "error.log"), "-c", str(config)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                connection.getresponse()  # any answer (a 502 too): nginx is up
                break
            except OSError:
                pass
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
