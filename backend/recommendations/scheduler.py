"""``paperfeed scheduler``: retrain on a cron schedule, refresh new papers and send the email
digests hourly (and, every minute, those whose retry is due).

Any number of schedulers may run (on several machines); a Redis lock with an expiry
guarantees one training at a time, and expires if its holder dies. The lock is renewed
while a training runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import croniter
from redis.exceptions import LockError

from backend import keys

log = logging.getLogger(__name__)

DEFAULT_TRAIN_CRON = "0 3 * * 1"  # Mondays 03:00 UTC
DEFAULT_REFRESH_CRON = "0 * * * *"  # hourly
DEFAULT_DIGEST_CRON = "5 * * * *"  # hourly: the email digests due (paperfeed digest)
DIGEST_RETRY_CRON = "* * * * *"  # every minute: the deferred digests whose retry is due
LOCK_TIMEOUT = 300  # seconds; renewed every LOCK_TIMEOUT / 3 while held


class TrainingLock:
    """A Redis lock named ``pf:lock:train`` that expires unless renewed."""

    def __init__(self, client, name: str = "train", timeout: float = LOCK_TIMEOUT):
        self.timeout = timeout
        self._lock = client.lock(keys.lock(name), timeout=timeout, thread_local=False)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lock if free; never waits."""
        if not self._lock.acquire(blocking=False):
            return False
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.timeout / 3):
            try:
                self._lock.reacquire()
            except LockError:
                log.error("lost the training lock")
                return

    def release(self) -> None:
        """Release the lock (if still ours)."""
        self._stop.set()
        if self._renewer:
            self._renewer.join(timeout=5)
        try:
            self._lock.release()
        except LockError:
            pass


def run_locked(client, job: Callable[[], object], name: str = "train") -> bool:
    """Run ``job`` while holding the named lock; False (and no run) if someone holds it."""
    lock = TrainingLock(client, name)
    if not lock.acquire():
        log.info("another scheduler holds the %s lock; skipping", name)
        return False
    try:
        job()
    finally:
        lock.release()
    return True


class Scheduler:
    """Runs named jobs at the times their cron expressions give (UTC)."""

    def __init__(self, jobs: dict[str, tuple[str, Callable[[], object]]],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        for name, (expression, _) in jobs.items():
            if not croniter.is_valid(expression):
                raise ValueError(f"invalid cron expression for {name}: {expression!r}")
        self.jobs = jobs
        self.now = now
        self._stop = threading.Event()

    def next_runs(self) -> dict[str, datetime]:
        """When each job runs next."""
        start = self.now()
        return {name: croniter(expression, start).get_next(datetime)
                for name, (expression, _) in self.jobs.items()}

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()

    def run_forever(self) -> None:
        """Sleep until the next job is due, run it, repeat (until :meth:`stop`)."""
        upcoming = self.next_runs()
        while not self._stop.is_set():
            name = min(upcoming, key=upcoming.get)
            delay = (upcoming[name] - self.now()).total_seconds()
            if delay > 0 and self._stop.wait(min(delay, 60)):
                return
            if self.now() < upcoming[name]:
                continue
            log.info("running %s", name)
            try:
                self.jobs[name][1]()
            except Exception:
                log.exception("job %s failed; the next run is on schedule", name)
            upcoming[name] = croniter(self.jobs[name][0], self.now()).get_next(datetime)
            time.sleep(0)
