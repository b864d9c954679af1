"""arXiv paper ids: the one place that knows what a valid id looks like.

Ids are ASCII only and bounded in length: new-style ``YYMM.NNNN`` (0704 to 1412) or
``YYMM.NNNNN`` (since 1501), and old-style ``archive[.Class]/YYMMNNN`` where the archive
and its subject class come from arXiv's own list (``hep-th/9901001``, ``math.GT/0309136``).
An optional version suffix (``v2``) is dropped.
"""

from __future__ import annotations

import re

# Archives that issued old-style ids, with the subject classes an old-style id may carry.
_SUBJECT_CLASSES: dict[str, tuple[str, ...]] = {
    "astro-ph": ("CO", "EP", "GA", "HE", "IM", "SR"),
    "cond-mat": ("dis-nn", "mes-hall", "mtrl-sci", "other", "quant-gas", "soft", "stat-mech",
                 "str-el", "supr-con"),
    "cs": ("AI", "AR", "CC", "CE", "CG", "CL", "CR", "CV", "CY", "DB", "DC", "DL", "DM", "DS",
           "ET", "FL", "GL", "GR", "GT", "HC", "IR", "IT", "LG", "LO", "MA", "MM", "MS", "NA",
           "NE", "NI", "OH", "OS", "PF", "PL", "RO", "SC", "SD", "SE", "SI", "SY"),
    "math": ("AC", "AG", "AP", "AT", "CA", "CO", "CT", "CV", "DG", "DS", "FA", "GM", "GN", "GR",
             "GT", "HO", "IT", "KT", "LO", "MG", "MP", "NA", "NT", "OA", "OC", "PR", "QA", "RA",
             "RT", "SG", "SP", "ST"),
    "nlin": ("AO", "CD", "CG", "PS", "SI"),
    "physics": ("acc-ph", "ao-ph", "app-ph", "atm-clus", "atom-ph", "bio-ph", "chem-ph",
                "class-ph", "comp-ph", "data-an", "ed-ph", "flu-dyn", "gen-ph", "geo-ph",
                "hist-ph", "ins-det", "med-ph", "optics", "plasm-ph", "pop-ph", "soc-ph",
                "space-ph"),
    "q-bio": ("BM", "CB", "GN", "MN", "NC", "OT", "PE", "QM", "SC", "TO"),
}
OLD_STYLE_ARCHIVES = frozenset({
    *_SUBJECT_CLASSES, "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an",
    "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math-ph", "mtrl-th", "nucl-ex", "nucl-th", "patt-sol",
    "plasm-ph", "q-alg", "quant-ph", "solv-int", "supr-con",
})
OLD_STYLE_NAMES = frozenset({
    *OLD_STYLE_ARCHIVES,
    *(f"{archive}.{cls}" for archive, classes in _SUBJECT_CLASSES.items() for cls in classes),
})
MAX_LENGTH = 32  # the longest valid id, "cond-mat.stat-mech/0601001v999", has 30 characters

_MONTH = r"(?:0[1-9]|1[0-2])"
_VERSION = r"(?:v[1-9][0-9]{0,2})?"
# [0-9], not \d: \d also matches other scripts' digits ("٢٤٠١.٠٠٠٢١")
_NEW_STYLE = re.compile(rf"([0-9]{{2}}{_MONTH}\.[0-9]{{4,5}}){_VERSION}", re.ASCII)
_OLD_STYLE = re.compile(rf"([a-z][a-zA-Z.\-]{{1,24}})/([0-9]{{2}}{_MONTH}[0-9]{{3}}){_VERSION}",
                        re.ASCII)
SHAPE = (r"(?:[0-9]{2}(?:0[1-9]|1[0-2])\.[0-9]{4,5}"
         r"|[a-z][a-zA-Z.\-]{1,24}/[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{3})(?:v[1-9][0-9]{0,2})?")
"""The shape of an id as a regular expression (the archive list is checked too)."""
PATTERN = f"^{SHAPE}$"
""":data:`SHAPE` as a JSON Schema / ECMAScript pattern."""


def normalize_paper_id(value: str) -> str:
    """Return the canonical arXiv id of ``value`` without its version suffix.

    Raises ``ValueError`` when ``value`` is not an arXiv id.

    >>> normalize_paper_id("2412.01824v2")
    '2412.01824'
    >>> normalize_paper_id("math.GT/0309136")
    'math.GT/0309136'
    """
    if not isinstance(value, str):
        raise ValueError("not a string")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"longer than {MAX_LENGTH} characters")
    match = _NEW_STYLE.fullmatch(value)
    if match:
        return match.group(1)
    match = _OLD_STYLE.fullmatch(value)
    if match and match.group(1) in OLD_STYLE_NAMES:
        return f"{match.group(1)}/{match.group(2)}"
    raise ValueError(f"not an arXiv id: {value[:40]!r}")


def is_paper_id(value: str) -> bool:
    """True when ``value`` is a valid arXiv id (with or without version)."""
    try:
        normalize_paper_id(value)
    except ValueError:
        return False
    return True
