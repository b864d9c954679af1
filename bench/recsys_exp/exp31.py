"""Cheaper forms of exp30's max-cosine component (for serving): one member's factors only,
and at most N of the user's items."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
protocol, val_seed = sys.argv[1], int(sys.argv[2])
w = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
d, tr, te, cands = validation_split(protocol, val_seed)
model = timed_train(tr, d)
VARIANTS = {"both members": (None, None), "member 0": (0, None), "cap 64": (None, 64),
            "cap 32": (None, 32), "cap 16": (None, 16)}
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    cand = np.asarray(cand)
    for name, (member, cap) in VARIANTS.items():
        fc = unit_rows(model._factors_of(cand, member))
        mx = np.zeros((rows.shape[0], len(cand)), dtype=np.float32)
        for j in range(rows.shape[0]):
            items = rows.indices[rows.indptr[j]:rows.indptr[j + 1]]
            if cap is not None and len(items) > cap:
                items = np.random.default_rng(j).choice(items, cap, replace=False)
            if len(items):
                mx[j] = (unit_rows(model._factors_of(items, member)) @ fc.T).max(axis=0)
        c[name] = mx
    return c
B = {"hybrid": lambda c: blend(c, {"als": .85, "content": .15})}
for name in VARIANTS:
    B[name] = (lambda n: lambda c: blend(c, {"als": .85, "content": .15, n: w}))(name)
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
