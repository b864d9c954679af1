"""ALS ensembles of independent members (own user solve, own text map), either protocol:
members' ALS scores z-scored and averaged, or summed raw, then blended with content."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
cands = None if cands is None else np.asarray(cands)
models = [train(tr, d.item_features, {"random_state": s}) for s in (0, 1)]
def comp_fn(rows, cand):
    c = models[0].component_scores(rows, cand)
    c["als1"] = models[1].component_scores(rows, cand)["als"]
    return c
B = {}
for w in (.8, .85, .9):
    B[f"base {w}"] = (lambda w: lambda c: blend(c, {"als": w, "content": 1 - w}))(w)
    B[f"zavg2 {w}"] = (lambda w: lambda c: blend(
        {"a": (zscore(c["als"]) + zscore(c["als1"])) / 2, "content": c["content"]},
        {"a": w, "content": 1 - w}))(w)
    B[f"rawsum2 {w}"] = (lambda w: lambda c: blend(
        {"a": c["als"] + c["als1"], "content": c["content"]}, {"a": w, "content": 1 - w}))(w)
res = evaluate(tr, te, cands, comp_fn, B, batch=256)
show(f"{protocol}{val_seed}", res)
