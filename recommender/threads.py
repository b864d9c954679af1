"""Threads for the numpy/scipy work of training (their products release the GIL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["available_cpus", "thread_map"]

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_map(func: Callable[[T], R], items: Iterable[T], num_threads: int = 0) -> list[R]:
    """``[func(item) for item in items]``, in up to ``num_threads`` threads (0: one per
    available CPU); in this thread when one would do."""
    items = list(items)
    threads = max(1, min(num_threads or available_cpus(), len(items)))
    if threads == 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(func, items))
