"""Handing messages to an SMTP server, or writing them as ``.eml`` files.

``smtp://user:pass@host:port`` (plain, port 25 by default), ``smtp+starttls://...`` (upgrade
with STARTTLS, port 587), ``smtps://...`` (TLS from the start, port 465), ``file:///dir``.
A :class:`Connection` stays open across messages and reconnects when the server drops it.
Failures are classified for the caller: :class:`TransientFailure` (4xx replies, connection
problems: try again later) and :class:`PermanentFailure` (a 5xx reply to the recipient or the
message: do not retry this message).
"""

from __future__ import annotations

import functools
import os
import smtplib
import socket
import ssl
from email.message import Message
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import unquote, urlsplit

from recommender.files import atomic_write

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT = 30.0


@functools.cache
def local_hostname() -> str:
    """The name this host greets SMTP servers with (looked up once: it can take a second)."""
    return socket.getfqdn()


class DeliveryFailure(Exception):
    """The message was not handed over."""


class TransientFailure(DeliveryFailure):
    """Try again later: a 4xx reply or a connection problem."""


class PermanentFailure(DeliveryFailure):
    """The server refused the recipient or the message for good (5xx)."""


class ConfigurationError(ValueError):
    """An unusable ``SMTP_URL``."""


def check_url(url: str) -> None:
    """Raise :class:`ConfigurationError` unless ``url`` is a supported mail URL."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigurationError("file:// mail URL needs a directory: file:///path/to/dir")
        return
    if parts.scheme not in SCHEMES:
        raise ConfigurationError(
            f"unsupported mail URL scheme {parts.scheme!r}: use smtp://, smtp+starttls://, "
            "smtps:// or file:///dir")
    if not parts.hostname:
        raise ConfigurationError("the mail URL has no host")


def connect(url: str) -> Connection:
    """A (lazily opened) connection for the mail URL."""
    check_url(url)
    if urlsplit(url).scheme == "file":
        return FileConnection(Path(unquote(urlsplit(url).path)))
    return SmtpConnection(url)


class Connection:
    """Sends messages one after another; not thread-safe (one per thread)."""

    def send(self, message: Message) -> None:
        """Hand ``message`` over, or raise a :class:`DeliveryFailure`."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection (it reopens on the next send)."""


class FileConnection(Connection):
    """Writes each message to ``<dir>/<Message-ID>.eml`` (atomically)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: Message) -> None:
        try:
            name = (message["Message-ID"] or "").strip("<>").replace("/", "_") or os.urandom(8).hex()
            with atomic_write(self.directory / f"{name}.eml", "wb") as handle:
                handle.write(message.as_bytes())
        except OSError as error:
            raise TransientFailure(f"cannot write to {self.directory}: {error}") from error


class SmtpConnection(Connection):
    """One SMTP session, reused for every message until the server closes it."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or SCHEMES[self.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if self.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT,
                                                      context=context,
                                                      local_hostname=local_hostname())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT,
                                    local_hostname=local_hostname())
            smtp.ehlo()
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise TransientFailure(f"SMTP login refused: {error.smtp_code}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise TransientFailure(f"cannot connect to {self.host}:{self.port}: {error}") from error
        return smtp

    def send(self, message: Message) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        try:
            sender = getaddresses([message["From"]])[0][1]
            recipient = getaddresses([message["To"]])[0][1]
            # bytes go out as they are: lines must already end in CRLF
            data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            self._smtp.sendmail(sender, [recipient], data)
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            codes = [code for code, _ in error.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {codes}") from error
            raise TransientFailure(f"recipient deferred: {codes}") from error
        except smtplib.SMTPResponseException as error:
            self._reset()
            if 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPSenderRefused):
                raise PermanentFailure(f"message refused: {error.smtp_code}") from error
            raise TransientFailure(f"server replied {error.smtp_code}") from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TransientFailure(f"connection lost: {error}") from error

    def _reset(self) -> None:
        """After a refused transaction: RSET, keeping the session if it is still up."""
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
