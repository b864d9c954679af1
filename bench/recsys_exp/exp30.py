"""Multi-interest item-to-item component in factor space: for each candidate, its highest
cosine (and mean) to the user's training items' ALS factors (members side by side), added to
the hybrid blend. The ALS user vector averages a reader's topics; the max keeps each one."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend, unit_rows
protocol, val_seed = sys.argv[1], int(sys.argv[2])
d, tr, te, cands = validation_split(protocol, val_seed)
model = timed_train(tr, d)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    fc = unit_rows(model._candidate_factors(np.asarray(cand)))
    mx = np.zeros((rows.shape[0], len(cand)), dtype=np.float32); mean = np.zeros_like(mx)
    for j in range(rows.shape[0]):
        items = rows.indices[rows.indptr[j]:rows.indptr[j + 1]]
        if len(items):
            s = unit_rows(model._factors_of(items)) @ fc.T
            mx[j] = s.max(axis=0); mean[j] = s.mean(axis=0)
    c["i2i_max"], c["i2i_mean"] = mx, mean
    return c
B = {"hybrid": lambda c: blend(c, {"als": .85, "content": .15})}
for comp in ("i2i_max", "i2i_mean"):
    for w in (0.2, 0.3, 0.4, 0.5):
        B[f"+{comp} {w}"] = (lambda comp, w: lambda c: blend(c, {"als": .85, "content": .15, comp: w}))(comp, w)
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, comp_fn, B, batch=256))
