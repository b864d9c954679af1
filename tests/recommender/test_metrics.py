import numpy as np
import pytest

from recommender.metrics import hit_metrics, ndcg_at_k, precision_at_k, recall_at_k, top_k


def test_precision_is_hits_over_k():
    assert precision_at_k([1, 2, 3, 4], {2, 4, 9}, 2) == 0.5
    assert precision_at_k([1, 2, 3, 4], {2, 4, 9}, 10) == 0.2


def test_recall_is_hits_over_relevant():
    assert recall_at_k([1, 2, 3, 4], {2, 4, 9}, 4) == pytest.approx(2 / 3)
    assert recall_at_k([1, 2], set(), 2) == 0.0


def test_ndcg_hand_computed():
    # hits at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal over 2 relevant = 1 + 1/log2(3)
    assert ndcg_at_k([7, 0, 8], {7, 8}, 10) == pytest.approx(1.5 / (1 + 1 / np.log2(3)))
    assert ndcg_at_k([7, 8], {7, 8}, 10) == pytest.approx(1.0)
    # more relevant items than k: ideal DCG over k positions
    assert ndcg_at_k([1], {1, 2, 3}, 1) == pytest.approx(1.0)
    assert ndcg_at_k([0, 1], {1}, 10) == pytest.approx(1 / np.log2(3))


def test_top_k_orders_and_breaks_ties_by_index():
    s = np.array([[0.1, 0.9, 0.5, 0.9], [3, 2, 1, 0]])
    assert top_k(s, 3).tolist() == [[1, 3, 2], [0, 1, 2]]
    assert top_k(s, 10).shape == (2, 4)


def test_hit_metrics_agree_with_the_one_list_definitions():
    rng = np.random.default_rng(0)
    ranked = [list(rng.permutation(60)[:50]) for _ in range(40)]
    relevant = [set(rng.choice(60, size=int(rng.integers(1, 15)), replace=False).tolist())
                for _ in range(40)]
    hits = np.array([[item in rel for item in items] for items, rel in zip(ranked, relevant, strict=True)])
    got = hit_metrics(hits, np.array([len(rel) for rel in relevant]), (10, 50))
    for j, (items, rel) in enumerate(zip(ranked, relevant, strict=True)):
        assert got["P@10"][j] == pytest.approx(precision_at_k(items, rel, 10))
        assert got["nDCG@10"][j] == pytest.approx(ndcg_at_k(items, rel, 10))
        assert got["R@50"][j] == pytest.approx(recall_at_k(items, rel, 50))
