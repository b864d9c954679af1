"""The digest's parts wired together for the web app and the command line."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.digest import mailer
from backend.digest.compose import Renderer
from backend.digest.settings import DigestSettings, digest_settings
from backend.digest.subscriptions import Subscriptions
from backend.digest.tokens import Tokens

EXTENSION = "paperfeed.digest"
_lock = threading.Lock()


@dataclass
class DigestService:
    """Settings, subscriptions, tokens and rendering of one configuration."""

    settings: DigestSettings
    subscriptions: Subscriptions
    tokens: Tokens
    renderer: Renderer

    @classmethod
    def create(cls, client, config: Any) -> DigestService:
        """The service of ``config`` on the store's Redis ``client``."""
        settings = digest_settings(config)
        mailer.check_url(settings.smtp_url)
        return cls(settings=settings,
                   subscriptions=Subscriptions(client, settings.secret_key),
                   tokens=Tokens(settings.secret_key),
                   renderer=Renderer(settings.mail_from, settings.public_url))

    def send_confirmation(self, user_id: str, email: str, nonce: str, frequency: str,
                          now: datetime) -> None:
        """Mail the confirmation link (raises ``mailer.DeliveryFailure``)."""
        message = self.renderer.confirmation_message(
            email, self.tokens.confirm_token(user_id, nonce), frequency, now)
        connection = mailer.connect(self.settings.smtp_url)
        try:
            connection.send(message)
        finally:
            connection.close()


def get_digest() -> DigestService:
    """The current app's digest service (made on first use: it may generate the key)."""
    from flask import current_app

    from backend.extensions import get_store

    app = current_app._get_current_object()
    service = app.extensions.get(EXTENSION)
    if service is None:
        with _lock:
            service = app.extensions.get(EXTENSION)
            if service is None:
                service = DigestService.create(get_store().client, app.config)
                app.extensions[EXTENSION] = service
    return service
