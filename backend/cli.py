"""The ``paperfeed`` command line: serve, import, and the recommender's commands."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click

from backend import importer
from backend.config import load_config
from backend.embedded import TUNED_REDIS_SETTINGS, redis_url_for
from backend.store import Store, connect

IMPORT_CHUNK = 1000


def open_store(config) -> Store:
    """A store on the given (already resolved) Redis URL."""
    return Store(connect(config["REDIS_URL"]), config)


def demo_catalogue_path() -> Path:
    """The demo catalogue shipped inside the package."""
    return Path(str(resources.files("backend").joinpath("demo/papers.jsonl.gz")))


def import_parsed(store: Store, parsed: importer.ParsedFile, label: str, quiet: bool) -> tuple[int, int]:
    """Upsert one parsed file's papers, reporting progress; return (created, updated)."""
    from recommender.progress import Progress

    created = updated = 0
    papers = parsed.papers
    with Progress(len(papers), label, unit="paper", enabled=not quiet) as progress:
        for start in range(0, len(papers), IMPORT_CHUNK):
            chunk = papers[start:start + IMPORT_CHUNK]
            result = store.upsert_papers(chunk)
            created += result.created
            updated += result.updated
            progress.update(len(chunk))
    return created, updated


def import_source(store: Store, label: str, day: str | None, quiet: bool) -> bool:
    """Import one file (``day`` None) or one fetched day and print the outcome; False if rejected."""
    try:
        parsed = importer.fetch_daily_papers(day) if day else importer.read_papers(label)
    except importer.ImporterError as error:  # unreadable, not Daily Papers, or unreachable
        click.echo(f"{label}: rejected, nothing imported: {error}", err=True)
        return False
    created, updated = import_parsed(store, parsed, Path(label).name, quiet)
    click.echo(f"{label}: {created} new, {updated} updated, {len(parsed.skipped)} skipped")
    for message in parsed.skipped[:20]:
        click.echo(f"  skipped {message}", err=True)
    if len(parsed.skipped) > 20:
        click.echo(f"  ... and {len(parsed.skipped) - 20} more skipped", err=True)
    return True


def load_demo(store: Store, quiet: bool = False) -> int:
    """Import the demo catalogue; return the number of papers."""
    parsed = importer.read_papers(demo_catalogue_path())
    import_parsed(store, parsed, "demo catalogue", quiet)
    return len(parsed.papers)


@click.group()
@click.version_option(package_name="paperfeed")
def main() -> None:
    """paperfeed: a personalised feed of Hugging Face Daily Papers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to bind.")
@click.option("--workers", type=int, default=None, help="gunicorn workers [PAPERFEED_WORKERS].")
@click.option("--demo", is_flag=True, help="Import the demo catalogue even into a configured Redis.")
@click.option("--allow-volatile-redis", is_flag=True, envvar="PAPERFEED_ALLOW_VOLATILE_REDIS",
              help="Serve even on a Redis that persists nothing (no AOF, no snapshots) "
                   "[PAPERFEED_ALLOW_VOLATILE_REDIS].")
def serve(host: str, port: int, workers: int | None, demo: bool, allow_volatile_redis: bool) -> None:
    """Run the web service (gunicorn). Without PAPERFEED_REDIS_URL, runs an embedded Redis.

    Refuses a Redis that persists nothing (a restart would lose every user and event)
    unless --allow-volatile-redis.
    """
    from backend.server import GunicornServer, gunicorn_options

    config = load_config()
    with redis_url_for(config) as (url, embedded):
        os.environ["PAPERFEED_REDIS_URL"] = url  # the workers read it
        config["REDIS_URL"] = url
        store = open_store(config)
        persistence = store.persistence()
        if persistence == "none" and not allow_volatile_redis:
            store.client.close()
            raise click.ClickException(
                "the Redis at PAPERFEED_REDIS_URL persists nothing (appendonly no, no save "
                "points): a restart would lose every user and event. Turn on append-only "
                "persistence (README: Production Redis) or pass --allow-volatile-redis.")
        if persistence == "none":
            click.echo("Note: Redis persists nothing; a restart loses all data "
                       "(--allow-volatile-redis).")
        upgraded = store.upgrade_data()
        if upgraded:
            click.echo(f"Upgraded the store: {upgraded}.")
        if demo or (embedded and store.catalogue_size() == 0):
            count = load_demo(store)
            click.echo(f"Imported the demo catalogue: {count} papers.")
        for name, value in store.settings_differing_from(TUNED_REDIS_SETTINGS).items():
            click.echo(f"Note: Redis runs with {name} {value}; paperfeed is tuned for "
                       f"{TUNED_REDIS_SETTINGS[name]} (README: Production Redis).")
        store.client.close()
        where = f"embedded Redis in {config['DATA_DIR']}" if embedded else "the configured Redis"
        base = f"http://{host}:{port}"
        click.echo(f"paperfeed is serving on {base} with {where}.\n"
                   f"  API docs:  {base}/docs  (OpenAPI: {base}/openapi.json)\n"
                   f"  Extension: load the folder {Path(__file__).resolve().parent.parent / 'extension'}"
                   f" unpacked (chrome://extensions > Developer mode > Load unpacked;\n"
                   f"             Firefox: about:debugging > This Firefox > Load Temporary Add-on,"
                   f" pick manifest.json).\n"
                   f"  Stop with Ctrl-C.")
        options = gunicorn_options(host, port, workers or int(config["WORKERS"]),
                                   int(config["THREADS"]))
        GunicornServer(options).run()


@main.command(name="import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--date", "start", help="Fetch this Daily Papers day (YYYY-MM-DD) from huggingface.co.")
@click.option("--until", help="With --date: fetch every day up to this one (inclusive).")
@click.option("--demo", is_flag=True, help="Import the demo catalogue shipped with paperfeed.")
@click.option("--quiet", is_flag=True, help="No progress report.")
def import_command(files: tuple[str, ...], start: str | None, until: str | None,
                   demo: bool, quiet: bool) -> None:
    """Import Daily Papers JSON (API responses or catalogue .jsonl[.gz]) into the catalogue.

    Re-importing updates upvotes and never duplicates a paper. A file that is not
    recognised is rejected whole; bad entries in a good file are skipped and counted.
    """
    if not files and not start and not demo:
        raise click.UsageError("give FILE..., --date YYYY-MM-DD or --demo")
    if until and not start:
        raise click.UsageError("--until needs --date")
    config = load_config()
    failures = 0
    with redis_url_for(config) as (url, _):
        config["REDIS_URL"] = url
        store = open_store(config)
        sources: list[tuple[str, str | None]] = [(f, None) for f in files]
        if start:
            try:
                sources += [(f"huggingface.co {day}", day) for day in importer.iter_dates(start, until)]
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="--date/--until") from None
        if demo:
            sources.append((str(demo_catalogue_path()), None))
        from recommender.progress import Progress

        with Progress(len(sources), "import", unit="source", enabled=not quiet,
                      heartbeat=True) as progress:
            for label, day in sources:
                failures += not import_source(store, label, day, quiet)
                progress.update()
        click.echo(f"catalogue: {store.catalogue_size()} papers")
    if failures:
        sys.exit(1)


def _limit_training_threads() -> None:
    """One BLAS/OpenMP thread per process: implicit parallelises itself (and warns otherwise)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


#: Exit code of ``paperfeed train`` when the new model does not pass the publishing gate.
EXIT_REFUSED = 3


def run_training(config, quiet: bool = False, force: bool = False) -> dict:
    """Train from the store and publish; shared by ``train`` and ``scheduler``."""
    from backend.recommendations.models import load_version
    from backend.recommendations.training import train_from_store
    from recommender.adapt import ALS_CANDIDATES
    from recommender.progress import Progress

    store = open_store(config)
    # progress in steps: one per stage, and within "fit" one per ALS candidate tried and one
    # for the published fit (each reported by a log message of the adaptation)
    fit_steps = len(ALS_CANDIDATES) + 1
    starts = {"read": 0, "fit": 1, "evaluate": 1 + fit_steps, "write": 2 + fit_steps,
              "publish": 3 + fit_steps}
    with Progress(4 + fit_steps, "train", unit="step", enabled=not quiet,
                  heartbeat=True) as bar:

        def progress(stage: str) -> None:
            bar.update(starts[stage] - bar.n, note=stage)

        def load_current():
            version = store.current_model_version()
            if not version:
                return None
            try:
                return load_version(config, version)
            except Exception as error:  # an unusable current model is just not compared
                click.echo(f"current model {version} not comparable: {error}", err=True)
                return None

        def log(message: str) -> None:
            bar.write(message)
            if bar.note == "fit" and bar.n < starts["evaluate"]:
                bar.update(1)

        metadata = train_from_store(store, config,
                                    params=config.get("RECOMMENDER_PARAMS") or None,
                                    progress=progress, load_current=load_current, force=force,
                                    log=log)
        bar.update(bar.total - bar.n, note="published")
        return metadata


def _print_training(metadata: dict, published: bool = True) -> None:
    p = metadata["params"]
    title = f"model {metadata['version']}" if published else "the new model (not published)"
    click.echo(f"{title}: {metadata['n_users']} users x {metadata['n_items']} papers, "
               f"{metadata['n_interactions']} interactions, {metadata['timings']['total']:.1f} s")
    validation = metadata.get("validation")
    if not validation:
        return
    click.echo(f"ALS: {p.get('factors')} factors, regularisation {p.get('regularization')}, "
               f"alpha {p.get('alpha')}; blend " + ", ".join(
                   f"{name} {weight:g}" for name, weight in metadata["blend"].items()))
    click.echo(f"validation: papers of {validation['days'][0]} .. {validation['days'][1]}, "
               f"{validation['held_out']} interactions held out; windows of "
               f"{validation['window']} papers; chosen on {validation['users']['choose']} "
               f"readers, checked on {validation['users']['check']}:")
    click.echo("  served list       nDCG@10   R@50")
    for name in ("hybrid", "current", "content", "trending", "als", "nearest", "untrained"):
        if name in validation["check"]:
            m = validation["check"][name]
            label = {"hybrid": "new model", "current": "serving model"}.get(name, name + " only")
            if name == "untrained":
                label = "untrained blend"
            click.echo(f"  {label:<16}  {m['nDCG@10']:.4f}    {m['R@50']:.4f}")
    gate = validation["gate"]
    if gate["forced"]:
        click.echo("published with --force although: " + "; ".join(gate["reasons"]))


def _train_and_report(config, quiet: bool, force: bool = False) -> int:
    """Train and print the result; return the exit code (0 published, 1 failed, 3 refused)."""
    import recommender
    from backend.recommendations.training import ModelRefused, TrainingError

    try:
        metadata = run_training(config, quiet, force)
    except ModelRefused as refusal:
        _print_training(refusal.metadata, published=False)
        click.echo("not published, the current model stays in place: "
                   + "; ".join(refusal.reasons), err=True)
        return EXIT_REFUSED
    except (TrainingError, recommender.RecommenderError) as error:
        click.echo(f"training failed, the current model stays in place: {error}", err=True)
        return 1
    _print_training(metadata)
    return 0


@main.command()
@click.option("--quiet", is_flag=True, help="No progress report.")
@click.option("--force", is_flag=True, help="Publish even a model the gate refuses.")
def train(quiet: bool, force: bool) -> None:
    """Train the recommender from Redis, check it, and publish it as the current model.

    ALS settings and the blend are chosen on the latest interactions (a validation slice);
    the model is published only if, there, it beats content only and trending only and is
    not worse than the serving model by more than 2 %. Exit codes: 0 published, 1 failed
    (or another training is running), 3 refused by that gate (the current model stays;
    --force publishes it anyway). It takes the scheduler's training lock.
    """
    from backend.recommendations.scheduler import run_locked

    _limit_training_threads()
    config = load_config()
    outcome: list[int] = []
    with redis_url_for(config) as (url, _):
        config["REDIS_URL"] = url
        store = open_store(config)
        ran = run_locked(store.client,
                         lambda: outcome.append(_train_and_report(config, quiet, force)))
        store.client.close()
    if not ran:
        click.echo("another training is running (the scheduler or another `paperfeed train`); "
                   "the current model stays in place", err=True)
        sys.exit(1)
    if outcome[0]:
        sys.exit(outcome[0])


@main.command()
@click.option("--train-cron", help="When to retrain (cron, UTC) [PAPERFEED_TRAIN_CRON; weekly].")
@click.option("--refresh-cron", help="When to import the newest Daily Papers and map new papers "
              "into the model (cron, UTC) [PAPERFEED_REFRESH_CRON; hourly].")
@click.option("--now", "run_now", is_flag=True, help="Also train once at start.")
def scheduler(train_cron: str | None, refresh_cron: str | None, run_now: bool) -> None:
    """Long-running: retrain on a schedule; hourly (and at start) import the newest Daily
    Papers from PAPERFEED_HF_API_URL, map new papers into the model and send the email
    digests that are due, and every minute those whose retry is due; one training at a
    time."""
    import signal
    from datetime import UTC, datetime

    from backend.daily import import_newest_days
    from backend.recommendations.scheduler import DEFAULT_DIGEST_CRON, DIGEST_RETRY_CRON, Scheduler, run_locked
    from backend.recommendations.training import refresh_additions
    from recommender import ArtifactError

    _limit_training_threads()
    config = load_config()
    with redis_url_for(config) as (url, _):
        config["REDIS_URL"] = url
        store = open_store(config)

        def retrain() -> None:
            _train_and_report(config, quiet=True)

        def refresh() -> None:
            upgraded = store.upgrade_data()
            if upgraded:
                click.echo(f"upgraded the store: {upgraded}")
            # a failed import is logged and tried again next hour; mapping goes on anyway
            imported = import_newest_days(store, config["HF_API_URL"], datetime.now(UTC).date())
            click.echo(imported.summary())
            try:
                count = refresh_additions(store, config)
            except ArtifactError as error:  # e.g. the pointer names a version not on this machine
                click.echo(f"refresh: cannot map new papers into the current model: {error}",
                           err=True)
                return
            click.echo(f"refreshed: {count} papers mapped into the current model")

        def digests() -> None:
            click.echo(f"digests: {send_digests(config).summary()}")

        def digest_retries() -> None:
            report = send_digests(config, retries=True)
            if report.due:
                click.echo(f"digest retries: {report.summary()}")

        jobs = {
            "train": (train_cron or config["TRAIN_CRON"], lambda: run_locked(store.client, retrain)),
            "digest": (config.get("DIGEST_CRON") or DEFAULT_DIGEST_CRON, digests),
            "digest-retry": (DIGEST_RETRY_CRON, digest_retries),
            "refresh": (refresh_cron or config["REFRESH_CRON"],
                        lambda: run_locked(store.client, refresh, name="refresh")),
        }
        try:
            loop = Scheduler(jobs)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
        signal.signal(signal.SIGTERM, lambda *_: loop.stop())
        for name, when in loop.next_runs().items():
            click.echo(f"next {name}: {when.isoformat()}")
        try:  # a fresh catalogue from the start; failures are the scheduled runs' to retry
            jobs["refresh"][1]()
        except Exception:
            logging.getLogger(__name__).exception("refresh at start failed")
        if run_now:
            jobs["train"][1]()
        try:
            loop.run_forever()
        except KeyboardInterrupt:
            pass


def send_digests(config, frequency: str | None = None, only: str | None = None,
                 dry_run: bool = False, now: datetime | None = None, workers: int | None = None,
                 retries: bool = False):
    """Send the digests due now (``paperfeed digest`` and the scheduler's hourly job) or,
    with ``retries``, only the deferred ones whose retry is due (the scheduler's job every
    minute)."""
    from backend.digest.run import digest_run

    store = open_store(config)
    try:
        run = digest_run(store, config)
        if retries:
            return run.retry(now or datetime.now(UTC))
        return run.run(now or datetime.now(UTC), frequency, only, dry_run, workers=workers)
    finally:
        store.client.close()


@main.command()
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), help="Only this frequency.")
@click.option("--dry-run", is_flag=True, help="Compose what is due and say so; send nothing.")
@click.option("--only", "only", metavar="USER_ID", help="Only this user.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes to spread a large run "
              "over [PAPERFEED_DIGEST_WORKERS; the number of CPUs].")
def digest(frequency: str | None, dry_run: bool, only: str | None, workers: int | None) -> None:
    """Send the email digests that are due now (the scheduler runs this every hour).

    Mail goes where PAPERFEED_SMTP_URL says (default: .eml files in <data dir>/outbox).
    Each user's period is claimed in Redis first: concurrent or repeated runs never send a
    digest twice. A digest the SMTP server defers is retried by the scheduler, or by the
    next run.
    """
    from backend.digest.mailer import ConfigurationError

    config = load_config()
    with redis_url_for(config) as (url, _):
        config["REDIS_URL"] = url
        try:
            report = send_digests(config, frequency, only, dry_run, workers=workers)
        except ConfigurationError as error:
            raise click.BadParameter(str(error), param_hint="PAPERFEED_SMTP_URL") from None
    for user_id, subject in report.would_send:
        click.echo(f"would send to {user_id}: {subject}")
    click.echo(("dry run, nothing sent: " if dry_run else "") + report.summary())
    if report.outcomes.get("error"):
        sys.exit(1)


@main.command("eval")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Directory with users.dat and optionally mult.dat / vocabulary.dat.")
@click.option("--protocol", type=click.Choice(["known", "new", "served", "both", "all"]),
              default="both", show_default=True,
              help="known: papers with readers; new: papers without; served: windows of both "
                   "with the served blend (docs/evaluation.md); both/all: the three.")
@click.option("--seeds", type=int, default=3, show_default=True, help="Number of seeds (0..n-1).")
@click.option("--k", "k_list", default="10,50,100", show_default=True,
              help="Comma-separated recall cut-offs.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write all figures.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Write index.html and PNG recall@K plots here.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False),
              help="Update the results section (between markers) of this Markdown file.")
def eval_(data_dir: str, protocol: str, seeds: int, k_list: str, json_out: str | None,
          report_dir: str | None, markdown_out: str | None) -> None:
    """Evaluate the recommender and its parts against baselines on a citeulike-style data set.

    Progress with an estimate of the time left goes to stderr every few seconds.
    """
    from recommender.evaluation import evaluate

    ks = tuple(sorted({int(k) for k in k_list.split(",") if k.strip()}))
    click.echo(evaluate(data_dir, protocol, seeds, ks, json_out, report_dir, markdown_out))


if __name__ == "__main__":
    main()
