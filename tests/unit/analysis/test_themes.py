"""Comment themes (analysis/themes.py) against scikit-learn and on planted themes.

scikit-learn is the independent implementation: ``TfidfVectorizer(sublinear_tf=True,
min_df=2, max_df=0.9)`` with our tokenizer must give the same matrix and vocabulary;
``_initialize_nmf(init="nndsvd")`` the same NNDSVD start; ``NMF(init="nndsvda",
solver="mu")`` a reconstruction error ours must match within a few per cent.
"""

from __future__ import annotations

import itertools
import random
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.decomposition import NMF as _NMF
from sklearn.decomposition._nmf import _initialize_nmf
from sklearn.feature_extraction.text import TfidfVectorizer as _TfidfVectorizer

from analysis.themes import comment_themes, nmf, nndsvd, terms_of, tfidf

# scikit-learn's bundled type hints disagree with its documented signatures (a callable
# analyzer, an int n_components); the tests call the documented API.
NMF: Any = _NMF
TfidfVectorizer: Any = _TfidfVectorizer

# Three planted themes (with their dimension) and filler words common to all comments.
PLANTED = {
    "responsiveness": ["slow", "wait", "ticket", "days", "queue", "reply"],
    "tangibles": ["laptop", "screen", "printer", "hardware", "device", "portal"],
    "empathy": ["friendly", "rude", "listen", "understand", "patient", "care"],
}
FILLER = ["service", "desk", "team", "issue", "problem", "people"]


def planted(per_theme: int, seed: int = 3) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    comments, truth = [], []
    for theme, words in PLANTED.items():
        for _ in range(per_theme):
            picked = rng.sample(words, 4) + rng.sample(FILLER, 2)
            rng.shuffle(picked)
            comments.append("The " + " and ".join(picked) + ".")
            truth.append(theme)
    order = list(range(len(comments)))
    rng.shuffle(order)
    return [comments[i] for i in order], [truth[i] for i in order]


def test_terms_drop_stop_words_short_words_and_digits():
    assert terms_of("The VPN was down for 3 hours, und das Drucker-Problem!") == [
        "vpn", "down", "hours", "drucker", "problem"]


def test_tfidf_matches_scikit_learn():
    comments, _ = planted(10)
    comments += ["slow slow slow ticket", "laptop laptop screen", "slow ticket ticket"]  # sublinear tf
    ours, vocabulary = tfidf([terms_of(c) for c in comments])
    vectorizer = TfidfVectorizer(analyzer=terms_of, sublinear_tf=True, min_df=2, max_df=0.9)
    theirs = vectorizer.fit_transform(comments).toarray()
    assert vocabulary == list(vectorizer.get_feature_names_out())
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_nndsvd_matches_scikit_learn():
    comments, _ = planted(10)
    x, _ = tfidf([terms_of(c) for c in comments])
    w, h = nndsvd(x, 3)
    w_ref, h_ref = _initialize_nmf(x, 3, init="nndsvd", random_state=0)
    # scikit-learn takes a randomized SVD and zeroes entries below 1e-6 (ours below 1e-12):
    # agreement to 1e-4, where a wrong sign choice or split would differ by O(0.1)
    np.testing.assert_allclose(w @ h, w_ref @ h_ref, rtol=0, atol=1e-4)


def test_nmf_reaches_scikit_learns_reconstruction_error():
    comments, _ = planted(12)
    x, _ = tfidf([terms_of(c) for c in comments])
    w, h = nmf(x, 3)
    assert (w >= 0).all() and (h >= 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings at sklearn's own tolerance
        model = NMF(n_components=3, init="nndsvda", solver="mu", max_iter=2000, tol=1e-8)
        w_ref = model.fit_transform(x)
    ours = float(np.linalg.norm(x - w @ h))
    theirs = float(np.linalg.norm(x - w_ref @ model.components_))
    assert ours <= theirs * 1.03


def test_planted_themes_are_found_labelled_and_mapped_to_their_dimension():
    comments, truth = planted(12)
    result = comment_themes(comments, k=5, max_themes=3)
    assert result is not None
    assert result.comments == len(comments)
    assert sorted(t.dimension or "" for t in result.themes) == sorted(PLANTED)
    for theme in result.themes:
        assert theme.dimension is not None
        assert set(theme.terms) <= set(PLANTED[theme.dimension])  # labelled by its own words
        assert theme.comments == 12
    assert result.other is None  # nothing left over


def test_a_theme_below_k_is_never_shown():
    comments, _ = planted(12)
    # four comments about something else: a fourth theme, but smaller than k = 5
    comments += ["VPN certificate expired again", "VPN certificate renewal broken",
                 "VPN certificate error", "VPN certificate missing"]
    result = comment_themes(comments, k=5, max_themes=4)
    assert result is not None
    assert all(t.comments >= 5 for t in result.themes)
    assert not any("vpn" in t.terms or "certificate" in t.terms for t in result.themes)
    shown = sum(t.comments for t in result.themes)
    assert shown + (result.other or 0) <= result.comments
    # with k = 4 the same comments do form a theme
    smaller = comment_themes(comments, k=4, max_themes=4)
    assert smaller is not None
    assert any({"vpn", "certificate"} & set(t.terms) for t in smaller.themes)


def test_no_themes_below_k_comments_or_without_shared_terms():
    assert comment_themes(["slow ticket"] * 4, k=5) is None
    assert comment_themes(["alpha", "beta", "gamma", "delta", "epsilon"], k=5) is None
    with pytest.raises(ValueError):
        comment_themes(["x"], k=0)


def test_the_result_does_not_depend_on_comment_order():
    comments, _ = planted(10)
    first = comment_themes(comments, k=5, max_themes=3)
    for seed in range(3):
        shuffled = comments[:]
        random.Random(seed).shuffle(shuffled)
        again = comment_themes(shuffled, k=5, max_themes=3)
        assert again is not None and first is not None
        key = sorted((t.terms[:2], t.comments) for t in first.themes)
        assert sorted((t.terms[:2], t.comments) for t in again.themes) == key


def test_german_comments_map_to_dimensions_too():
    words = {"responsiveness": ["langsam", "warten", "antwort", "tage", "wochen"],
             "empathy": ["freundlich", "geduldig", "hilfsbereit", "verständnis", "zuhören"]}
    comments = [" ".join(c) for ws in words.values() for c in itertools.combinations(ws, 3)]
    result = comment_themes(comments, k=5, max_themes=2)
    assert result is not None
    assert sorted(t.dimension or "" for t in result.themes) == ["empathy", "responsiveness"]
