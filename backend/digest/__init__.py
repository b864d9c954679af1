"""The email digest: a user's personal ranking of the day or the week, by email.

- :mod:`settings`: where mail goes, who it is from, the links' base, the signing key.
- :mod:`subscriptions`: the subscription, its single-use tokens and per-period claims in Redis.
- :mod:`tokens`: signed confirmation and unsubscribe tokens.
- :mod:`compose`: the digest's papers and its HTML and plain-text parts (Jinja2 templates).
- :mod:`mailer`: SMTP (plain, STARTTLS, TLS) or ``.eml`` files, with reused connections.
- :mod:`run`: who is due now, claiming each user's period before sending, retries.
"""
