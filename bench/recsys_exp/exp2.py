import sys, json; sys.path.insert(0, "/work/main/bench/recsys_exp")
from harness import *
proto = sys.argv[1]; cfgs = json.loads(sys.argv[2])
d, splits = get_data()
tr, te, cands = splits[proto]
for cfg in cfgs:
    t0 = time.time()
    model = train(tr, d.item_features, {"random_state": 0, **cfg})
    tt = time.time() - t0
    def mk(ws):
        return lambda c: sum(w * zscore(c[k]) for k, w in ws.items())
    B = {"als": mk({"als": 1}), "content": mk({"content": 1})}
    for a in (0.6, 0.7, 0.75, 0.8, 0.9):
        B[f"h{a}"] = mk({"als": a, "content": 1 - a})
    res = evaluate(tr, te, cands, model.component_scores, B, batch=256 if proto == "new" else 128)
    print(json.dumps(cfg), f"train {tt:.1f}s scale {model._a['map_scale'][0]:.2f}", flush=True)
    show(proto, res)
