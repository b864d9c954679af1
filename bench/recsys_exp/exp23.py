"""Ensembles of ALS fits with different random seeds (variance of the factors)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
val_seed = int(sys.argv[1])
factors = int(sys.argv[2]) if len(sys.argv) > 2 else 128
d, tr, te, cands, m0 = new_validation(val_seed)
t = time.time()
extra = [train(tr, d.item_features, {"random_state": s, "factors": factors}) for s in (1, 2)]
if factors != 128:
    m0 = train(tr, d.item_features, {"random_state": 0, "factors": factors})
print("extra fits", time.time() - t, flush=True)
def comp_fn(rows, cand):
    c = m0.component_scores(rows, cand)
    for i, m in enumerate(extra):
        c[f"als{i + 1}"] = m.component_scores(rows, cand)["als"]
    return c
def mk(ws):
    return lambda c: blend(c, ws)
def avg(n, wa=.85):
    def f(c):
        als = sum(zscore(c[k]) for k in ["als", "als1", "als2"][:n]) / n
        return blend({"als": als, "content": c["content"]}, {"als": wa, "content": 1 - wa})
    return f
B = {"hybrid(default)": mk({"als": .85, "content": .15}),
     "ens2 .85": avg(2), "ens3 .85": avg(3), "ens2 .8": avg(2, .8), "ens3 .8": avg(3, .8),
     "ens3 .9": avg(3, .9)}
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new{val_seed} f{factors}", res)
