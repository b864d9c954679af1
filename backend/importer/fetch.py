"""Fetching Daily Papers days from the live endpoint."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

from backend.importer.errors import ImportFetchError, ImportFormatError
from backend.importer.formats import MAX_FILE_BYTES, ParsedFile, parse_daily_papers
from backend.importer.schemas import valid_day

API_URL = "https://huggingface.co/api/daily_papers"
_USER_AGENT = "paperfeed-importer/0.1 (+https://github.com/)"


def fetch_daily_papers(date: str, *, timeout: float = 20, api_url: str = API_URL) -> ParsedFile:
    """Fetch and parse one day from ``https://huggingface.co/api/daily_papers?date=DATE``.

    Only useful when the machine is online. Parsing is
    :func:`~backend.importer.formats.parse_daily_papers` with ``date`` as the daily date of every
    record.

    Parameters
    ----------
    date : str
        ``YYYY-MM-DD``.
    timeout : float, default 20
        Seconds for the connection and each read.
    api_url : str, optional
        The endpoint (``PAPERFEED_HF_API_URL``; default Hugging Face's).

    Returns
    -------
    ParsedFile
        With ``source`` set to the URL.

    Raises
    ------
    ValueError
        When ``date`` is not ``YYYY-MM-DD``.
    ImportFetchError
        On a network error, a timeout or an HTTP error status.
    ImportFormatError
        When the body is not JSON or not a list of entries.
    """
    if valid_day(date) is None:
        raise ValueError(f"date must be YYYY-MM-DD, got {date!r}")
    url = f"{api_url}?{urllib.parse.urlencode({'date': date})}"
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_FILE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ImportFetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise ImportFetchError(f"{url}: cannot reach the Daily Papers API: {reason}") from None
    if len(body) > MAX_FILE_BYTES:
        raise ImportFormatError(f"{url}: response larger than {MAX_FILE_BYTES:,} bytes")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ImportFormatError(f"{url}: response is not valid JSON ({error})") from None
    return parse_daily_papers(payload, date=date, source=url)


def iter_dates(start: str, until: str | None) -> list[str]:
    """Every day from ``start`` to ``until`` inclusive, as ``YYYY-MM-DD`` strings.

    ``until=None`` means ``start`` only (``--date D`` without ``--until``).

    Raises
    ------
    ValueError
        When a date is malformed or ``until`` is before ``start``.

    >>> iter_dates("2024-12-30", "2025-01-02")
    ['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']
    """
    first = valid_day(start)
    if first is None:
        raise ValueError(f"start date must be YYYY-MM-DD, got {start!r}")
    if until is None:
        return [first]
    last = valid_day(until)
    if last is None:
        raise ValueError(f"until date must be YYYY-MM-DD, got {until!r}")
    begin, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    if end < begin:
        raise ValueError(f"until ({last}) is before start ({first})")
    return [(begin + dt.timedelta(days=n)).isoformat() for n in range((end - begin).days + 1)]
