import numpy as np
import pytest

from recommender.metrics import ndcg_at_k, precision_at_k, recall_at_k, top_k


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
