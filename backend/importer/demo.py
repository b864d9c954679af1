"""The small demo catalogue shipped in ``backend/demo/papers.jsonl.gz``."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from backend.importer.errors import ImportFormatError
from backend.importer.formats import read_papers
from recommender.files import atomic_write


def _write_jsonl_gz(records: Iterable[dict[str, Any]], dest: Path) -> None:
    """Write records as gzipped JSON lines, atomically and byte-for-byte reproducibly."""
    with (
        atomic_write(dest, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as stream,
    ):
        for record in records:
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            stream.write(line.encode("utf-8") + b"\n")


def write_demo_catalogue(source: str | os.PathLike[str], dest: str | os.PathLike[str], n: int = 400) -> int:
    """Write the most recent Daily Papers days of ``source`` as a small record-form catalogue.

    Whole days are taken, newest first, while the total stays <= ``n`` (at least one day).
    Records keep the source order (ascending daily date). The output is gzipped JSON lines in
    the record form, readable by :func:`~backend.importer.formats.read_papers`, and identical
    for identical input.

    ``backend/demo/papers.jsonl.gz`` was produced with::

        python -c "from backend.importer import write_demo_catalogue as w; \\
            w('/work/shared/datasets/hf-daily-papers/catalogue.jsonl.gz', \\
              'backend/demo/papers.jsonl.gz')"

    Returns
    -------
    int
        The number of papers written.

    Raises
    ------
    ImportFormatError
        When ``source`` is rejected by ``read_papers``, or has no paper with a daily date.
    """
    parsed = read_papers(source)
    dated = [paper for paper in parsed.papers if paper["daily_date"]]
    if not dated:
        raise ImportFormatError(f"{source}: no paper with a daily date")
    per_day = Counter(paper["daily_date"] for paper in dated)
    chosen: set[str] = set()
    total = 0
    for day in sorted(per_day, reverse=True):
        if chosen and total + per_day[day] > n:
            break
        chosen.add(day)
        total += per_day[day]
    records = sorted((paper for paper in dated if paper["daily_date"] in chosen),
                     key=lambda paper: paper["daily_date"])
    _write_jsonl_gz(records[:n], Path(dest))  # a single day larger than n is cut at n
    return len(records[:n])
