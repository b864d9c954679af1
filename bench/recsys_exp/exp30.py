"""Multi-interest item-to-item component in factor space: for each candidate, its highest
cosine (and mean) to the user's training items' ALS factors (members side by side), added to
the hybrid blend. The ALS user vector averages a reader's topics; the max keeps each one."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
d = load_dataset(DATA)
tr, te, cands = validation_splits(d.user_items, val_seed=val_seed)[protocol]
cands = None if cands is None else np.asarray(cands)
t = time.time(); model = train(tr, d.item_features, {}); print("fit", round(time.time() - t, 1))
def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    fc = unit(model._candidate_factors(np.asarray(cand)))
    mx = np.zeros((rows.shape[0], len(cand)), dtype=np.float32); mean = np.zeros_like(mx)
    for j in range(rows.shape[0]):
        items = rows.indices[rows.indptr[j]:rows.indptr[j + 1]]
        if len(items):
            s = unit(model._factors_of(items)) @ fc.T
            mx[j] = s.max(axis=0); mean[j] = s.mean(axis=0)
    c["i2i_max"], c["i2i_mean"] = mx, mean
    return c
B = {"hybrid": lambda c: blend(c, {"als": .85, "content": .15})}
for comp in ("i2i_max", "i2i_mean"):
    for w in (0.2, 0.3, 0.4, 0.5):
        B[f"+{comp} {w}"] = (lambda comp, w: lambda c: blend(c, {"als": .85, "content": .15, comp: w}))(comp, w)
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
