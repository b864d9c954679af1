"""Cold items scored through the word pseudo-users' (user-side) factors: sum_w x_iw (u . w_w)."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
val_seed = int(sys.argv[1])
d, tr, te, cands, model = new_validation(val_seed)
wf = np.asarray(model.item_vectors()[cands] @ np.asarray(model._a["word_factors"]))
V = {"wsum": wf, "wsum_unit": unit_rows(wf)}
def mk(ws):
    return lambda c: blend(c, ws)
B = {"hybrid(default)": mk({"als": .85, "content": .15})}
for k in V:
    B[f"{k} alone"] = mk({k: 1})
    for w3 in (0.1, 0.2, 0.3):
        B[f"h + {w3} {k}"] = mk({"als": .85, "content": .15, k: w3})
res = evaluate(tr, te, cands, with_factor_variants(model, V), B, batch=256)
show(f"new{val_seed}", res)
