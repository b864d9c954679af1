"""Cold map geometry: norm power and centring of the text-mapped factors (new protocol, validation)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
val_seed = int(sys.argv[1])
d, tr, te, cands, model = new_validation(val_seed)
raw = model._raw_map(model.item_vectors()[cands]).astype(np.float64)
norm = np.linalg.norm(raw, axis=1, keepdims=True) + 1e-12
mu = raw.mean(axis=0, keepdims=True)
V = {}
for g in (-0.5, -0.25, 0.0, 0.25, 0.5):
    V[f"pow{g}"] = raw * norm ** (g - 1)
for c in (0.25, 0.5, 1.0):
    V[f"centre{c}"] = unit_rows(raw - c * mu)
def mk(ws):
    return lambda c: blend(c, ws)
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    for w in (0.8, 0.85):
        B[f"h{w} {k}"] = mk({k: w, "content": 1 - w})
res = evaluate(tr, te, cands, with_factor_variants(model, V), B, batch=256)
show(f"new{val_seed}", res)
