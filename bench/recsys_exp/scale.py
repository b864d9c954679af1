"""Training time at production scale: 100k users x 50k items x 5M saves, 20k-word texts."""
import os, sys, time
for n in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(n, "1")
sys.path.insert(0, "/work/main")
import json
import numpy as np, scipy.sparse as sp
import recommender
rng = np.random.default_rng(0)
nu, ni, nnz, nw = 100_000, 50_000, 5_000_000, 20_000
pop = (np.arange(ni) + 20.0) ** -0.9; pop /= pop.sum()
rows = rng.integers(0, nu, nnz); cols = rng.choice(ni, nnz, p=pop)
ui = sp.csr_matrix((np.ones(nnz, np.float32), (rows, cols)), shape=(nu, ni)); ui.sum_duplicates(); ui.data[:] = 1
wp = (np.arange(nw) + 50.0) ** -1.0; wp /= wp.sum()
tr = np.repeat(np.arange(ni), 60); tc = rng.choice(nw, len(tr), p=wp)
feats = sp.csr_matrix((np.ones(len(tr), np.float32), (tr, tc)), shape=(ni, nw))
print("nnz", ui.nnz, feats.nnz, flush=True)
for extra in json.loads(sys.argv[1]):
    t0 = time.time(); m = recommender.train(ui, feats, extra); t = time.time() - t0
    t1 = time.time()
    for _ in range(20):
        m.score(ui[5:6], np.arange(2000))
    print(extra, f"train {t:.1f}s score {(time.time() - t1) / 20 * 1000:.1f} ms", flush=True)
