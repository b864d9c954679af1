import numpy as np
import pytest
import scipy.sparse as sp

from recommender import blend
from recommender.served import UNTRAINED_BLEND, served_scores, trending_scores


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
