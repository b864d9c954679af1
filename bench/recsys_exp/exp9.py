"""Score transforms before z-scoring, max-sim / top-m content, combined with cold norm rescaling."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load
proto = "new"
d, splits = get_data()
tr, te, cands = splits[proto]
model = load(f"/tmp/m_{proto}_val", mmap=False)
F = np.asarray(model._a["item_factors"])
nrm = np.linalg.norm(F, axis=1)
F1 = F / np.maximum(nrm, 1e-9)[:, None]
vec = model.item_vectors()
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows)
    c["n1"] = uf @ F1[cand].T
    S = vec[cand] @ vec.T  # cand x items
    sims = (S @ sp.csr_matrix(rows, dtype=np.float32).T).T  # sum sim (p=1 unnormalised)
    # top-m mean similarity per user
    mx = np.zeros((rows.shape[0], len(cand))); t3 = np.zeros_like(mx)
    Sd = S.tocsc()
    for j in range(rows.shape[0]):
        its = rows.indices[rows.indptr[j]:rows.indptr[j + 1]]
        if len(its) == 0:
            continue
        m = Sd[:, its].toarray()
        mx[j] = m.max(1)
        k = min(3, m.shape[1])
        t3[j] = np.sort(m, 1)[:, -k:].mean(1)
    c["max"] = mx; c["top3"] = t3
    return c
def mk(ws, tf=None):
    tf = tf or {}
    return lambda c: sum(w * zscore(tf.get(k, lambda x: x)(c[k])) for k, w in ws.items())
sq = lambda x: np.sqrt(np.maximum(x, 0)); sqr = lambda x: x ** 2; lg = lambda x: np.log(np.maximum(x, 0) + 1e-3)
B = {"hybrid": mk({"als": .8, "content": .2}), "max": mk({"max": 1}), "top3": mk({"top3": 1})}
for nm, t in (("sqrt", sq), ("sq", sqr), ("log", lg)):
    for w in (0.7, 0.8):
        B[f"h{w} content-{nm}"] = mk({"als": w, "content": 1 - w}, {"content": t})
        B[f"h{w} n1 content-{nm}"] = mk({"n1": w, "content": 1 - w}, {"content": t})
for k in ("max", "top3"):
    for w3 in (0.1, 0.2):
        B[f"h a.8 c.2 {k}{w3}"] = mk({"als": .8, "content": .2, k: w3})
        B[f"h a.8 c{.2 - w3 / 2:.2f} {k}{w3 / 2}"] = mk({"als": .8, "content": .2 - w3 / 2, k: w3 / 2})
        B[f"h n1.8 c.2 {k}{w3}"] = mk({"n1": .8, "content": .2, k: w3})
res = evaluate(tr, te, cands, comp_fn, B, batch=128)
show(proto, res)
