"""Cold map geometry: norm power and centring of the text-mapped factors (new protocol, validation)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import unit_rows
val_seed = int(sys.argv[1])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)["new"]
t0 = time.time()
model = train(tr, d.item_features, {})
print("trained", time.time() - t0, flush=True)
a = model._a
vec = model.item_vectors()
cands = np.asarray(cands)
raw = model._raw_map(vec[cands]).astype(np.float64)
norm = np.linalg.norm(raw, axis=1, keepdims=True) + 1e-12
mu = raw.mean(axis=0, keepdims=True)
V = {}
for g in (-0.5, -0.25, 0.0, 0.25, 0.5):
    V[f"pow{g}"] = raw * norm ** (g - 1)
for c in (0.25, 0.5, 1.0):
    V[f"centre{c}"] = unit_rows(raw - c * mu)
pos = {int(i): j for j, i in enumerate(cands)}
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    uf = model.user_factors(rows).astype(np.float64)
    for k, f in V.items():
        c[k] = uf @ f.T
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    for w in (0.8, 0.85):
        B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"new{val_seed}", res)
