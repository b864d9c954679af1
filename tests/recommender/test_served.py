import numpy as np
import pytest
import scipy.sparse as sp

from recommender import blend
from recommender.evaluation import split_served
from recommender.metrics import ndcg_at_k, recall_at_k
from recommender.served import (
    UNTRAINED_BLEND,
    blend_metrics,
    choose_blend,
    objective,
    sample_windows,
    served_scores,
    standardise,
    trending_scores,
    window_metrics,
)

from .conftest import make_communities


def test_served_scores_z_scores_each_component_over_the_candidates():
    content = np.array([[0.1, 0.2, 0.3, 0.9], [1.0, 0.0, 0.0, 0.0]])
    trending = np.array([[5.0, 1.0, 1.0, 1.0]])  # one row for every user
    scores = served_scores({"content": content, "trending": trending, "als": content * 7},
                           {"content": 1.0, "trending": 0.5})
    z = lambda x: (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(scores, z(content) + 0.5 * z(np.tile(trending, (2, 1))))
    np.testing.assert_allclose(scores, blend({"content": content,
                                              "trending": np.tile(trending, (2, 1))},
                                             {"content": 1.0, "trending": 0.5}))


def test_served_scores_without_weighted_components_are_zero():
    assert served_scores({"als": np.ones((3, 5))}, {"content": 1.0}).shape == (3, 5)
    assert not served_scores({"als": np.ones((3, 5))}, {}).any()


def test_untrained_blend_is_content_and_trending():
    assert set(UNTRAINED_BLEND) == {"content", "trending"}
    assert UNTRAINED_BLEND["content"] > UNTRAINED_BLEND["trending"] > 0


def test_trending_scores_count_readers_and_give_unread_items_zero():
    ui = sp.csr_matrix(np.array([[1, 0, 2, 0], [1, 0, 0, 0], [3, 0, 1, 0]], dtype=np.float32))
    np.testing.assert_allclose(trending_scores(ui), np.log1p([3, 0, 2, 0]))
    assert trending_scores(ui)[1] == pytest.approx(0.0)


def test_windows_mix_read_and_unread_papers_and_never_the_users_own():
    ui, _ = make_communities(n_users=60, n_items=200, seed=4)
    train, test, new_items = split_served(ui, seed=1)
    windows = sample_windows(train, test, seed=2, size=40, max_relevant=5)
    assert len(windows.users) == np.count_nonzero(np.diff(test.indptr))
    read = np.bincount(train.indices, minlength=ui.shape[1]) > 0
    for user, items, relevant in zip(windows.users, windows.items, windows.relevant,
                                     strict=True):
        assert len(set(items.tolist())) == len(items) == 40
        own = train.indices[train.indptr[user]:train.indptr[user + 1]]
        held = test.indices[test.indptr[user]:test.indptr[user + 1]]
        assert not np.isin(items, own).any()
        np.testing.assert_array_equal(relevant, np.isin(items, held))
        assert 1 <= relevant.sum() <= 5
        assert read[items].any() and (~read[items]).any()
    assert np.isin(new_items, train.indices).sum() == 0


def test_window_metrics_match_the_list_metrics():
    rng = np.random.default_rng(0)
    scores = rng.random((20, 60))
    relevant = rng.random((20, 60)) < 0.1
    relevant[:, 0] = True
    got = window_metrics(scores, relevant)
    for j in range(20):
        ranked = np.argsort(-scores[j], kind="stable").tolist()
        rel = set(np.flatnonzero(relevant[j]).tolist())
        assert got["nDCG@10"][j] == pytest.approx(ndcg_at_k(ranked, rel, 10))
        assert got["R@50"][j] == pytest.approx(recall_at_k(ranked, rel, 50))


def test_choose_blend_finds_the_informative_component():
    rng = np.random.default_rng(1)
    relevant = rng.random((200, 50)) < 0.1
    standardised = standardise({"content": relevant + rng.normal(0, 0.5, relevant.shape),
                                "trending": rng.normal(size=relevant.shape),
                                "als": rng.normal(size=relevant.shape)})
    weights, value = choose_blend(standardised, relevant)
    assert weights["content"] == 1.0 and weights["als"] <= 0.25 and weights["trending"] <= 0.25
    assert value >= objective(blend_metrics(standardised, relevant, {"content": 1.0}))


def test_time_split_holds_out_the_newest_papers_of_sampled_readers():
    from recommender.adapt import time_split

    rng = np.random.default_rng(3)
    n_users, n_items = 50, 100
    item_day = np.arange(n_items) // 5  # 20 days, 5 papers a day
    ui = sp.random(n_users, n_items, density=0.1, random_state=rng, format="csr",
                   dtype=np.float32)
    ui = sp.vstack([ui, sp.csr_matrix((1, n_items), dtype=np.float32)], format="csr")  # no reads
    split = time_split(ui, item_day, days=7, window=20, seed=1)
    assert (split.first_day, split.last_day) == (13, 19)
    assert (split.train + split.held_out - ui).count_nonzero() == 0
    assert split.held_out.multiply(split.train).nnz == 0
    held_days = item_day[split.held_out.indices]
    assert held_days.min() >= 13
    users = np.concatenate([split.choose.users, split.check.users])
    assert len(set(users.tolist())) == len(users) > 10
    assert abs(len(split.choose.users) - len(split.check.users)) <= 1
    for windows in (split.choose, split.check):
        assert (item_day[windows.items] >= 13).all()
        for user, items in zip(windows.users, windows.items, strict=True):
            assert split.train[user].nnz > 0
            assert not np.isin(items, split.train[user].indices).any()


def test_time_split_needs_readers_of_the_newest_papers():
    from recommender.adapt import time_split

    ui = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 0]], dtype=np.float32))
    assert time_split(ui, np.array([0, 1, 2]), days=1) is None  # one reader only
