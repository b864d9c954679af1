"""The content component's window index, on papers in real Redis: rows of a user's papers
outside the window, featurised from their text or taken from a trained model's TF-IDF."""

from __future__ import annotations

import random

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from backend.recommendations.contentindex import ContentIndex, ModelTerms
from backend.recommendations.texts import paper_texts
from recommender.content import TfidfModel
from recommender.textfeatures import TextFeaturizer

WORDS = ("diffusion video pixel token grammar parsing robot grasp speech audio agent "
         "planner quantised kernel sparse attention").split()


@pytest.fixture
def catalogue(app):
    """60 papers of random words (every word in many papers), in the store."""
    rng = random.Random(11)
    store = app.extensions["paperfeed.store"]
    records = [{"paper_id": f"2608.{10000 + i:05d}",
                "title": " ".join(rng.sample(WORDS, 3)),
                "abstract": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))),
                "authors": ["A. Author"], "daily_date": f"2026-08-{1 + i % 20:02d}",
                "upvotes": 1, "published_at": None, "num_comments": None,
                "github_repo": None, "ai_keywords": []} for i in range(60)]
    store.upsert_papers(records)
    return store, [r["paper_id"] for r in records]


def model_terms(store, paper_ids: list[str]) -> ModelTerms:
    """TF-IDF rows as a trained model holds them (every paper in its catalogue)."""
    texts = paper_texts(store, paper_ids)
    featurizer = TextFeaturizer(sorted(WORDS))
    tfidf = TfidfModel.fit(featurizer.transform(texts), sublinear_tf=True)
    vectors = tfidf.transform(featurizer.transform(texts))
    return ModelTerms("v1", featurizer.vocabulary, tfidf.idf,
                      {p: i for i, p in enumerate(paper_ids)}, lambda: vectors)


def test_rows_from_the_model_are_the_rows_featurising_the_text_gives(catalogue):
    store, ids = catalogue
    window, outside = ids[:20], ids[20:]
    index = ContentIndex(store).window(window)
    terms = model_terms(store, ids)
    from_model = index.from_model(terms, np.array([terms.item_of[p] for p in outside]))
    from_text = normalize(index.vectorizer.transform(paper_texts(store, outside)))
    assert np.abs((from_model - from_text).toarray()).max() < 1e-5
    assert from_model.shape == from_text.shape


def test_words_the_model_does_not_know_are_left_out(catalogue):
    store, ids = catalogue
    index = ContentIndex(store).window(ids[:20])
    terms = model_terms(store, ids)
    # the model forgets "diffusion": its column of every row is gone
    vocabulary = list(terms.vocabulary)
    dropped = vocabulary.index("diffusion")
    keep = [c for c in range(len(vocabulary)) if c != dropped]
    vectors = normalize(terms.vectors()[:, keep])
    narrow = ModelTerms("v2", [vocabulary[c] for c in keep], terms.idf[keep], terms.item_of,
                        lambda: vectors)
    items = np.arange(20, 60)
    rows = index.from_model(narrow, items)
    column = index.vectorizer.vocabulary_["diffusion"]
    assert rows[:, column].nnz == 0
    full = index.from_model(terms, items)
    others = [c for c in range(full.shape[1]) if c != column]
    expected = normalize(full[:, others])
    assert np.abs((rows[:, others] - expected).toarray()).max() < 1e-5


def test_content_scores_are_the_same_with_and_without_the_models_rows(catalogue):
    store, ids = catalogue
    window = ids[:20]
    weights = {p: 1.0 for p in ids[30:38]} | {ids[3]: 2.0}
    rows = np.arange(20)
    by_text, evidence = ContentIndex(store).components(
        ContentIndex(store).window(window), rows, weights, {ids[40]})
    content = ContentIndex(store)
    by_model, model_evidence = content.components(
        content.window(window), rows, weights, {ids[40]}, model_terms(store, ids))
    for name in ("content", "dismissed"):
        np.testing.assert_allclose(by_model[name], by_text[name], atol=1e-5)
    assert isinstance(model_evidence.user_vectors, sp.csr_matrix)
    assert model_evidence.user_papers == evidence.user_papers
