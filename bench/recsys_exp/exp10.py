"""A second, small ALS fit (few factors) as a third component next to the cached product model."""
import sys, json, os; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
from recommender.model import load
proto = sys.argv[1]
cfg2 = json.loads(sys.argv[2])
d, splits = get_data()
tr, te, cands = splits[proto]
path = f"/tmp/m_{proto}_val"
if os.path.isdir(path):
    model = load(path, mmap=False)
else:
    model = train(tr, d.item_features, {"random_state": 0})
    model.save(path)
t0 = time.time()
m2 = train(tr, d.item_features, {"random_state": 1, **cfg2})
print("train2", round(time.time() - t0, 1), json.dumps(cfg2), flush=True)
def comp_fn(rows, cand):
    c = model.component_scores(rows, cand)
    c["als2"] = m2.component_scores(rows, cand)["als"]
    return c
def mk(ws):
    return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
B = {"hybrid": mk({"als": .8, "content": .2}), "als2": mk({"als2": 1}), "als": mk({"als": 1})}
for x in (0.1, 0.2, 0.3, 0.4):
    B[f"a{.8 - x:.1f} a2_{x} c.2"] = mk({"als": .8 - x, "als2": x, "content": .2})
    B[f"a.8 a2_{x} c.2"] = mk({"als": .8, "als2": x, "content": .2})
res = evaluate(tr, te, cands, comp_fn, B, batch=256 if proto == "new" else 96)
show(proto, res)
