"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and can refuse
recipients on purpose (451: try later, 550: never)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.redis_server import free_port


class RecordingHandler:
    """Accepts mail, keeping each message; ``refuse[address] = [codes...]`` answers RCPT TO
    for that address with the next code of the list (then accepts). With ``hold`` set, the
    next message is kept but the reply to its DATA is held (``held`` is set) until ``release``
is set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, list[int]] = {}
        self.refused: list[tuple[str, int]] = []
        self.received = threading.Condition()
        self.hold = False
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        codes = self.refuse.get(address)
        if codes:
            code = codes.pop(0)
            self.refused.append((address, code))
            return f"{code} {'4.2.0 try again later' if code < 500 else '5.1.1 no such user'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.received:
            self.messages.append(message)
            self.received.notify_all()
        if self.hold:  # the message is taken; the reply waits
            self.hold = False
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``."""
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[RecordingHandler, str]]:
    """A running server: ``(handler, "smtp://127.0.0.1:<port>")``."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
