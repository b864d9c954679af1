"""A local https://huggingface.co serving the extension's fixture pages.

Browsers reach it through host mapping (Chromium: --host-resolver-rules; Firefox:
network.dns.forceResolve), so the content script's real match patterns apply.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "extension"
FIXTURES = EXTENSION / "test" / "fixtures"
SPA_JS = Path(__file__).with_name("spa.js")

ROUTES = {
    "/papers": "date-2024-12-03.html",
    "/papers/date/2024-12-03": "date-2024-12-03.html",
    "/papers/date/2024-12-04": "date-2024-12-04.html",
    "/papers/date/2024-05-27": "date-2024-05-27.html",
    "/papers/week/2024-W22": "week-2024-W22.html",
    "/papers/month/2024-12": "month-2024-12.html",
    "/papers/trending": "trending.html",
    "/papers/2412.01824": "paper-2412.01824.html",
    "/papers/2608.19880": "paper-2608.19880.html",
}


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for huggingface.co (openssl, else the cryptography package)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "2", "-subj", "/CN=huggingface.co",
             "-addext", "subjectAltName=DNS:huggingface.co"],
            check=True, capture_output=True,
        )
        return cert, key
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "huggingface.co")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("huggingface.co")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


class FixtureSite:
    """HTTPS server on 127.0.0.1:<port> answering like huggingface.co/papers."""

    def __init__(self, cert_dir: Path, port: int = 0) -> None:
        self.requests: list[str] = []
        cert, key = make_certificate(cert_dir)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append(self.path)
                path = urlsplit(self.path).path.rstrip("/") or "/"
                if path == "/__spa.js":
                    self._send(200, SPA_JS.read_bytes(), "text/javascript")
                elif path in ROUTES:
                    html = (FIXTURES / ROUTES[path]).read_text(encoding="utf-8")
                    html = html.replace("</body>", '<script src="/__spa.js"></script>\n</body>')
                    self._send(200, html.encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"<!doctype html><title>404</title><h1>404</h1>", "text/html")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FixtureSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
