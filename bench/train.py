"""Time ``paperfeed train`` on a world made by ``bench/gen_world.py``.

Starts a private ``redis-server`` from ``<world>/world.rdb`` (no persistence), then either

* ``--mode inproc`` (default): runs the same code as ``paperfeed train``
  (``backend.cli.run_training``, with ``OPENBLAS/OMP/MKL_NUM_THREADS=1`` as the CLI sets),
  timing its stages (``metadata["timings"]``) and, through thin wrappers, the parts inside
  them (ALS fits, ridge/kNN maps, evaluation scoring); peak RSS from ``getrusage``;
  optionally under cProfile (``--profile out.prof``);
* ``--mode cli``: runs ``/usr/bin/time -v paperfeed train --quiet`` as a subprocess (wall,
  peak RSS of the real command) and reads the stage timings from the written metadata.

Models go to ``<world>/models`` (``PAPERFEED_MODELS_DIR``). Prints a summary table and
writes it as JSON next to the world (``train-<mode>-<time>.json``).

    python bench/train.py --world /tmp/pfbench/100k
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # as backend/cli.py does, before numpy is imported

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_world import private_redis, redis_used_memory  # noqa: E402

STAGES = ("read_catalogue", "read_interactions", "featurize", "evaluate", "fit", "write",
          "publish")


class Timers:
    """Wrap module functions to add up their wall time (no changes to the product code)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, module, name: str, label: str | None = None) -> None:
        original = getattr(module, name)
        label = label or name

        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] = self.totals.get(label, 0.0) + time.perf_counter() - t0
                self.cpu[label] = self.cpu.get(label, 0.0) + time.process_time() - c0
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(module, name, timed)
        self._undo.append((module, name, original))


class RssSampler(threading.Thread):
    """Peak RSS of this process per training stage (sampled every 50 ms)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stage = "start"
        self.peaks: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            rss = _rss_mb()
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def baseline_fit(user_items, threads: int) -> dict:
    """The training target's yardstick, "implicit's fit alone": ``AlternatingLeastSquares()`` with
    implicit's default parameters on the BM25-weighted users x papers matrix (no words, no
    maps, no evaluation), BLAS limited to one thread as in ``paperfeed train``."""
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import bm25_weight
    from threadpoolctl import threadpool_limits

    from recommender.model import DEFAULT_PARAMS

    weighted = bm25_weight(user_items, K1=DEFAULT_PARAMS["bm25_k1"],
                           B=DEFAULT_PARAMS["bm25_b"]).tocsr()
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(random_state=0, num_threads=threads)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(weighted, show_progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": wall, "cpu": cpu, "factors": model.factors,
            "iterations": model.iterations, "nnz": int(weighted.nnz)}


def run_inproc(config, profile: str | None, baseline: bool = False) -> dict:
    import backend.recommendations.training as training_module
    import recommender
    import recommender.adapt as adapt_module
    import recommender.model as model_module
    import recommender.served as served_module
    from backend.cli import run_training
    from backend.store import Store

    timers = Timers()
    timers.wrap(model_module, "fit_als", "als_fit")
    timers.wrap(model_module, "ridge_map", "ridge_map")
    timers.wrap(model_module, "knn_map", "knn_map")
    timers.wrap(served_module, "window_components", "validation_scoring")
    timers.wrap(served_module, "choose_blend", "choose_blend")
    timers.wrap(served_module, "readers_scores", "readers_scores")
    timers.wrap(served_module, "trending_scores", "trending_scores")
    timers.wrap(adapt_module, "ReadersIndex", "readers_index")
    timers.wrap(adapt_module, "choose_cold_scale", "choose_cold_scale")
    timers.wrap(adapt_module, "served_figures", "served_figures")
    timers.wrap(recommender, "train", "model_train")
    timers.wrap(training_module, "time_split", "time_split")
    timers.wrap(training_module, "write_artifact", "write_artifact")
    timers.wrap(Store, "_weights_batch", "redis_weights_batches")
    timers.wrap(Store, "papers", "redis_papers_batches")
    captured: dict = {}
    original_read = training_module.read_training_data

    def read_and_keep(*args, **kwargs):
        captured["data"] = original_read(*args, **kwargs)
        return captured["data"]

    training_module.read_training_data = read_and_keep
    stage_cpu: dict[str, float] = {}
    mark = {"stage": None, "cpu": time.process_time()}
    sampler = RssSampler()
    sampler.start()
    import backend.recommendations.training as rt

    original_train = rt.train_from_store

    def train_with_progress(store, cfg, *, params=None, progress=lambda s: None, **options):
        def both(stage: str) -> None:
            now_cpu = time.process_time()
            if mark["stage"]:
                stage_cpu[mark["stage"]] = now_cpu - mark["cpu"]
            mark.update(stage=stage, cpu=now_cpu)
            sampler.stage = stage
            progress(stage)
        return original_train(store, cfg, params=params, progress=both, **options)

    rt.train_from_store = train_with_progress
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        metadata = run_training(config, quiet=True, force=True)  # timed whatever the gate says
    finally:
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        sampler.stop.set()
        rt.train_from_store = original_train
        training_module.read_training_data = original_read
        if mark["stage"]:
            stage_cpu[mark["stage"]] = time.process_time() - mark["cpu"]
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fit_alone = None
    if baseline:
        from recommender.threads import available_cpus

        fit_alone = baseline_fit(captured["data"].user_items, available_cpus())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # none unless the code starts some
    return {"metadata": metadata, "wall": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "peak_rss_children_mb": children.ru_maxrss / 1024,
            "cpu_children": children.ru_utime + children.ru_stime,
            "cpu_user": usage.ru_utime, "cpu_sys": usage.ru_stime,
            "inner": {k: {"seconds": v, "cpu": timers.cpu[k], "calls": timers.calls[k]}
                      for k, v in timers.totals.items()},
            "stage_cpu": stage_cpu,
            "rss_by_stage_mb": sampler.peaks, "baseline_fit": fit_alone}


def run_cli(config_env: dict[str, str], models_dir: Path) -> dict:
    before = set(p.name for p in models_dir.glob("*")) if models_dir.exists() else set()
    env = {**os.environ, **config_env}
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", "paperfeed", "train", "--quiet", "--force"], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"paperfeed train failed:\n{proc.stdout}\n{proc.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    new = sorted(p for p in models_dir.glob("*") if p.name not in before and p.is_dir()
                 and not p.name.startswith("."))
    metadata = json.loads((new[-1] / "metadata.json").read_text())
    print(proc.stdout.strip())
    return {"metadata": metadata, "wall": wall,
            "peak_rss_mb": int(peak.group(1)) / 1024 if peak else None}


def run_matrix_only(spec: str, seed: int = 0) -> None:
    """ALS-only ``recommender.train`` on an in-memory power-law matrix (no Redis, no text).

    For sizes too big to generate into Redis in the time available: measures the fit and
    its peak memory; ``spec`` is ``USERSxPAPERSxINTERACTIONS``.
    """
    import numpy as np
    import scipy.sparse as sp
    from gen_world import power_law_counts

    import recommender
    import recommender.model as model_module

    n_users, n_papers, total = (int(float(x)) for x in spec.lower().split("x"))
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    counts = power_law_counts(rng, n_users, total, 1.6, max(1, n_papers // 20))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cum = np.cumsum(1.0 / rng.permutation(np.arange(1, n_papers + 1)) ** 0.9)
    cols = np.searchsorted(cum, rng.random(int(indptr[-1])) * cum[-1]).astype(np.int32)
    data = rng.choice(np.array([1, 2, 3, 6, 7, 8], dtype=np.float32), size=len(cols),
                      p=[0.5, 0.15, 0.12, 0.12, 0.06, 0.05])
    ui = sp.csr_matrix((data, cols, indptr), shape=(n_users, n_papers))
    ui.sum_duplicates()
    gen = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timers = Timers()
    timers.wrap(model_module, "fit_als", "als_fit")
    t0, c0 = time.perf_counter(), time.process_time()
    recommender.train(ui, None, {})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n## train, matrix only  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{n_users} users x {n_papers} papers, nnz {ui.nnz} (after merging duplicates), "
          f"generated in {gen:.1f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"recommender.train (ALS only, default params): wall {wall:.1f} s, CPU {cpu:.1f} s; "
          f"als_fit wall {timers.totals['als_fit']:.1f} s, CPU {timers.cpu['als_fit']:.1f} s")
    print(f"peak RSS {peak:.0f} MB (matrix built: {rss_before:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matrix", metavar="UxPxN",
                        help="ALS-only fit of an in-memory USERSxPAPERSxINTERACTIONS matrix "
                             "(no Redis, no text), e.g. 1000000x200000x30000000")
    parser.add_argument("--world", type=Path, help="directory of gen_world.py")
    parser.add_argument("--mode", choices=("inproc", "cli"), default="inproc")
    parser.add_argument("--models-dir", type=Path, help="default <world>/models")
    parser.add_argument("--redis-url", help="use this running Redis instead of the snapshot")
    parser.add_argument("--profile", help="cProfile output file (inproc only)")
    parser.add_argument("--baseline", action="store_true",
                        help="also time implicit's fit alone (its default parameters on the same "
                             "BM25-weighted matrix), the yardstick of the training target (at most 11x)")
    parser.add_argument("--keep-models", type=int, default=2,
                        help="model versions to keep in the models dir (older ones are removed)")
    args = parser.parse_args()
    if args.matrix:
        run_matrix_only(args.matrix)
        return
    if not args.world:
        parser.error("--world or --matrix is required")
    world = json.loads((args.world / "world.json").read_text())
    models_dir = args.models_dir or args.world / "models"

    with contextlib.ExitStack() as stack:
        if args.redis_url:
            url = args.redis_url
        else:
            t0 = time.perf_counter()
            url, _ = stack.enter_context(private_redis(args.world, "world.rdb"))
            load_seconds = time.perf_counter() - t0
        env = {"PAPERFEED_REDIS_URL": url, "PAPERFEED_DATA_DIR": str(args.world),
               "PAPERFEED_MODELS_DIR": str(models_dir), "PAPERFEED_RATELIMIT_ENABLED": "false"}
        if args.mode == "cli":
            result = run_cli(env, models_dir)
        else:
            os.environ.update(env)
            from backend.config import load_config

            load_before = os.getloadavg()
            result = run_inproc(load_config(), args.profile, args.baseline)
            result["loadavg_before"] = load_before
            result["loadavg_after"] = os.getloadavg()
        redis_mb = redis_used_memory(url) / 2**20

    md = result["metadata"]
    timings = md["timings"]
    # metadata.json is written before the total is known: --mode cli sums the stages
    timings.setdefault("total", sum(timings.get(s, 0.0) for s in STAGES[:-1]))
    timings["publish"] = timings["total"] - sum(timings.get(s, 0.0) for s in STAGES[:-1])
    s = world["sizes"]
    print(f"\n## train  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  mode={args.mode}")
    print(f"world: {s['users']} users x {s['papers']} papers x {s['interactions']} interactions;"
          f" trained {md['n_users']} users x {md['n_items']} items, nnz {md['n_interactions']},"
          f" {md['n_features']} features")
    if not args.redis_url:
        print(f"(redis snapshot load {load_seconds:.1f} s, not counted; redis used_memory "
              f"{redis_mb:.0f} MB)")
    print("| stage | seconds |\n|---|---:|")
    for stage in STAGES:
        print(f"| {stage} | {timings.get(stage, 0.0):.1f} |")
    print(f"| **total (train_from_store)** | **{timings['total']:.1f}** |")
    print(f"| wall incl. startup/imports | {result['wall']:.1f} |")
    if "inner" in result:
        print("stage CPU s (this process, all threads): " + ", ".join(
            f"{k} {v:.1f}" for k, v in result["stage_cpu"].items()))
        print("| inside the stages | wall s | CPU s | calls |\n|---|---:|---:|---:|")
        for name, value in sorted(result["inner"].items()):
            print(f"| {name} | {value['seconds']:.1f} | {value['cpu']:.1f} | {value['calls']} |")
        print(f"cpu user {result['cpu_user']:.1f} s, sys {result['cpu_sys']:.1f} s; load average "
              f"before {result['loadavg_before'][0]:.1f}, after {result['loadavg_after'][0]:.1f}")
        print("peak RSS by stage (MB): " + ", ".join(
            f"{k} {v:.0f}" for k, v in result["rss_by_stage_mb"].items()))
    print(f"peak RSS: {result['peak_rss_mb']:.0f} MB" + (
        f" (child processes: {result['peak_rss_children_mb']:.0f} MB, CPU {result['cpu_children']:.1f} s)"
        if result.get("peak_rss_children_mb") else ""))
    fit_alone = result.get("baseline_fit")
    if fit_alone:
        print(f"implicit's fit alone (defaults: {fit_alone['factors']} factors, "
              f"{fit_alone['iterations']} iterations, nnz {fit_alone['nnz']}): "
              f"{fit_alone['seconds']:.1f} s wall, {fit_alone['cpu']:.1f} s CPU; total / fit alone "
              f"= {timings['total'] / fit_alone['seconds']:.1f}x (target: at most 11x)")
    validation = md.get("validation") or {}
    if validation:
        print(f"ALS: {md['params']['factors']} factors, reg {md['params']['regularization']}, "
              f"alpha {md['params']['alpha']}; blend {md['blend']}; gate {validation['gate']}")
        print("validation (served windows): " + ", ".join(
            f"{k} nDCG@10 {v['nDCG@10']:.4f} R@50 {v['R@50']:.4f}"
            for k, v in validation["check"].items()))
    out = args.world / f"train-{args.mode}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({**result, "world": world["sizes"]}, indent=1, default=str))
    versions = sorted(p for p in models_dir.glob("*") if p.is_dir() and not p.name.startswith("."))
    for old in versions[:-args.keep_models] if args.keep_models > 0 else []:
        import shutil

        shutil.rmtree(old, ignore_errors=True)
    print(f"model: {models_dir / md['version']}\nresult: {out}")


if __name__ == "__main__":
    main()
