"""The digest's settings, read from the app configuration (``PAPERFEED_*`` variables).

``SMTP_URL``       ``smtp://user:pass@host:port``, ``smtp+starttls://...``, ``smtps://...``
                   or ``file:///dir`` (``.eml`` files); default ``file://<DATA_DIR>/outbox``.
``MAIL_FROM``      the From address; default ``paperfeed <paperfeed@localhost>``.
``PUBLIC_URL``     base of the links in emails; default ``http://127.0.0.1:5000``.
``SECRET_KEY``     signs the tokens; default a key generated once into ``<DATA_DIR>/secret_key``.
``DIGEST_CONNECTIONS`` SMTP connections a run uses in parallel (all its processes together).
``DIGEST_WORKERS``     processes a large run spreads over; default the number of CPUs.
``DIGEST_RETRY_DELAYS`` seconds before each retry of a transient failure.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MAIL_FROM = "paperfeed <paperfeed@localhost>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
SECRET_KEY_FILE = "secret_key"
# Transient SMTP failures are retried after these delays (seconds), then left to the next
# hourly run.
DEFAULT_RETRY_DELAYS = (10.0, 60.0, 300.0, 900.0)


@dataclass(frozen=True)
class DigestSettings:
    """Resolved digest settings."""

    smtp_url: str
    mail_from: str
    public_url: str
    secret_key: str
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    connections: int = 4  # SMTP connections used in parallel by a run
    workers: int = 1  # processes a large run spreads over


def digest_settings(config: Any) -> DigestSettings:
    """The digest settings of ``config`` (generating the secret key on first use)."""
    data_dir = Path(config["DATA_DIR"])
    smtp_url = config.get("SMTP_URL") or (data_dir / "outbox").resolve().as_uri()
    delays = config.get("DIGEST_RETRY_DELAYS")
    return DigestSettings(
        smtp_url=str(smtp_url),
        mail_from=str(config.get("MAIL_FROM") or DEFAULT_MAIL_FROM),
        public_url=str(config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
        secret_key=str(config.get("SECRET_KEY") or generated_secret_key(data_dir)),
        retry_delays=tuple(float(d) for d in delays) if delays is not None else DEFAULT_RETRY_DELAYS,
        connections=max(1, int(config.get("DIGEST_CONNECTIONS") or 4)),
        workers=max(1, int(config.get("DIGEST_WORKERS") or os.cpu_count() or 1)),
    )


def generated_secret_key(data_dir: Path) -> str:
    """The key in ``<data_dir>/secret_key``, created (readable by the owner only) if missing.

    Several processes may start at once: the first to create the file writes it, the others
    read what it wrote.
    """
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{SECRET_KEY_FILE}.{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)  # atomic; fails if another process created it first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()
