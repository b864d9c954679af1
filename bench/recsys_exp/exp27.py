"""Blend grid for the default model (the two-fit ensemble): does the 0.85 / 0.15 blend chosen
for the single fit still suit it? Validation split of either protocol."""
import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import blend
protocol, val_seed = sys.argv[1], int(sys.argv[2])
params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
d, tr, te, cands = validation_split(protocol, val_seed)
model = timed_train(tr, d, params)
B = {f"{w:.2f}": (lambda w: lambda c: blend(c, {"als": w, "content": 1 - w}))(w)
     for w in (0.75, 0.8, 0.85, 0.9, 0.95)}
show(f"{protocol}{val_seed}", evaluate(tr, te, cands, model.component_scores, B, batch=256))
