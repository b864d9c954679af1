"""The "nearest" component as implemented in recommender/model.py (strongest 32 items per
user, both members' factors), around the chosen weight 0.2, on a validation split."""
import sys; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
d, tr, te, cands = validation_split(protocol, val_seed)
model = timed_train(tr, d)
t = time.time(); model.nearest_scores(tr[:256], np.arange(tr.shape[1]))
print("nearest, 256 users x all items", round(time.time() - t, 2), "s")
base = {**model.weights, "nearest": 0.0}
B = {f"nearest {w}": (lambda w: lambda c: blend(c, {**base, "nearest": w}))(w)
     for w in (0.0, 0.1, 0.15, 0.2, 0.25, 0.3)}
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, model.component_scores, B, batch=256))
