"""arXiv paper ids: the one place that knows what a valid id looks like."""

from __future__ import annotations

import re

# New-style ids (0704.0001 onwards: YYMM.NNNN, and YYMM.NNNNN since 1501) and old-style
# ids such as hep-th/9901001 or math.AG/0601001. An optional version suffix is dropped.
_NEW_STYLE = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?")
_OLD_STYLE = re.compile(r"([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?")


def normalize_paper_id(value: str) -> str:
    """Return the canonical arXiv id of ``value`` without its version suffix.

    Raises ``ValueError`` when ``value`` is not an arXiv id.

    >>> normalize_paper_id("2412.01824v2")
    '2412.01824'
    >>> normalize_paper_id("hep-th/9901001")
    'hep-th/9901001'
    """
    if not isinstance(value, str):
        raise ValueError("not a string")
    for pattern in (_NEW_STYLE, _OLD_STYLE):
        match = pattern.fullmatch(value)
        if match:
            return match.group(1)
    raise ValueError(f"not an arXiv id: {value[:40]!r}")


def is_paper_id(value: str) -> bool:
    """True when ``value`` is a valid arXiv id (with or without version)."""
    try:
        normalize_paper_id(value)
    except ValueError:
        return False
    return True
