"""Comment themes: what the free-text answers of a wave are about, without a model download.

A reader cannot go through three hundred comments; a word cloud says nothing. Themes are found
the classic way, offline and deterministically:

1. **Terms**: lower-cased words of three letters or more, stop words (English and German)
   removed; a term must occur in at least two comments and in no more than 90% of them.
2. **TF-IDF** weights with sublinear term frequency and smoothed inverse document frequency,
   each comment's vector scaled to unit length (Salton & Buckley 1988; the weighting that
   scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` uses, which the tests compare with).
3. **Non-negative matrix factorisation** ``X ≈ W H`` by Lee & Seung's (2001) multiplicative
   updates for the Frobenius norm, started from NNDSVD (Boutsidis & Gallopoulos 2008), which
   makes the result the same on every run. Rows of ``H`` are themes, labelled by their top
   terms; each comment belongs to the theme with its largest weight in ``W``.
4. **Dimensions**: a theme is mapped to a SERVQUAL dimension when its top terms are mostly
   from that dimension's term list (:data:`DIMENSION_TERMS`).

Anonymity: a theme with fewer than ``k`` comments is never shown (its comments count under
"other themes", itself shown only at ``k`` or more), and no theme is computed below
``k_comments`` comments in all. Themes give labels and counts, never the comments.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.moments import FloatArray

__all__ = [
    "DIMENSION_TERMS",
    "STOP_WORDS",
    "CommentThemes",
    "Theme",
    "comment_themes",
    "nmf",
    "nndsvd",
    "terms_of",
    "tfidf",
]

_WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> frozenset[str]:
    """A word list written as one space-separated string (easier to read and extend)."""
    return frozenset(text.split())


STOP_WORDS = _words(
    # English
    "the and for are but not you all any can had her was one our out has have him his how its let "
    "may new now old see two way who did get got yes she too use that with this from they been were "
    "what when your said each which their will other about many then them these some would make like "
    "into time than more very just also only over such here there where after before because could "
    "should while again ever every much most being does doing done those through during both few "
    "own same off once why our ours myself yourself itself themselves what whom isn aren wasn weren "
    "don doesn didn won wouldn shouldn couldn can't i'm it's really always never still even well "
    # German
    "der die das und ist nicht ein eine einer eines einem einen mit von für auf den dem des sich "
    "auch als noch wie bei aus nach wird sind war wir ihr sie ich mir mich dir dich uns euch ihm "
    "ihn aber oder wenn dass weil nur schon sehr mehr immer hier dort kann können muss müssen "
    "wurde wurden hat habe haben hatte sein seine ihre durch über unter zum zur vom beim bis "
    "man jetzt dann doch mal gibt geht ganz"
)

# Terms that point at one SERVQUAL dimension (Parasuraman, Zeithaml & Berry 1988, the
# dimensions' definitions), in English and German, as comments use them.
DIMENSION_TERMS: Mapping[str, frozenset[str]] = {
    "tangibles": _words(
        "laptop laptops hardware equipment device devices screen screens monitor printer printers website "
        "portal tool tools software app application interface layout documentation manual manuals "
        "gerät geräte drucker bildschirm software oberfläche dokumentation"),
    "reliability": _words(
        "reliable unreliable promised promise error errors mistake mistakes broken fix fixed wrong outage "
        "outages crash crashes down failed failure first accurate again reopened "
        "zuverlässig fehler kaputt ausfall absturz falsch versprochen"),
    "responsiveness": _words(
        "slow fast quick quickly wait waiting waited response respond responded reply replied ticket "
        "tickets hours days weeks delay delays prompt promptly queue answer answered "
        "langsam schnell warten wartezeit antwort tage stunden wochen"),
    "assurance": _words(
        "knowledge knowledgeable competent competence confident trust secure security safe polite "
        "courteous expert experts skilled professional "
        "kompetent sicher sicherheit vertrauen höflich fachlich"),
    "empathy": _words(
        "care caring understand understood listen listened personal attention friendly unfriendly rude "
        "patient impatient individual needs helpful kind "
        "freundlich unfreundlich verständnis zuhören persönlich geduldig hilfsbereit"),
}


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme: its top terms (the label), comment count and the dimension it points at."""

    terms: tuple[str, ...]
    comments: int
    dimension: str | None


@dataclass(frozen=True, slots=True)
class CommentThemes:
    """The themes of a wave's comments, largest first; ``other`` counts comments in themes
    too small to show (``None`` when that count is itself below ``k``)."""

    comments: int
    themes: tuple[Theme, ...]
    other: int | None


def terms_of(text: str) -> list[str]:
    """The terms of one comment: lower-case words of three letters or more, no stop words."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def tfidf(documents: Sequence[Sequence[str]], *, min_df: int = 2, max_df: float = 0.9) -> tuple[FloatArray, list[str]]:
    """Sublinear TF-IDF matrix (documents x terms, rows of unit length) and its vocabulary.

    ``tf = 1 + ln(count)``, ``idf = ln((1 + n) / (1 + df)) + 1``; terms in fewer than
    ``min_df`` documents or in more than ``max_df`` of them are left out.
    """
    n = len(documents)
    df: Counter[str] = Counter()
    for doc in documents:
        df.update(set(doc))
    vocabulary = sorted(t for t, c in df.items() if c >= min_df and c <= max_df * n)
    index = {t: j for j, t in enumerate(vocabulary)}
    x = np.zeros((n, len(vocabulary)))
    for i, doc in enumerate(documents):
        for term, count in Counter(doc).items():
            j = index.get(term)
            if j is not None:
                x[i, j] = 1.0 + math.log(count)
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in vocabulary])
    x *= idf
    norms = np.sqrt((x * x).sum(axis=1))
    np.divide(x, norms[:, None], out=x, where=norms[:, None] > 0)
    return x, vocabulary


def nndsvd(x: FloatArray, rank: int) -> tuple[FloatArray, FloatArray]:
    """NNDSVD start for NMF (Boutsidis & Gallopoulos 2008, Table 1): the leading singular
    triplets, each split into its positive and negative parts, the larger part kept."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    w = np.zeros((x.shape[0], rank))
    h = np.zeros((rank, x.shape[1]))
    w[:, 0] = math.sqrt(s[0]) * np.abs(u[:, 0])
    h[0, :] = math.sqrt(s[0]) * np.abs(vt[0, :])
    for j in range(1, rank):
        a, b = u[:, j], vt[j, :]
        ap, an = np.maximum(a, 0), np.maximum(-a, 0)
        bp, bn = np.maximum(b, 0), np.maximum(-b, 0)
        ap_n, an_n = float(np.linalg.norm(ap)), float(np.linalg.norm(an))
        bp_n, bn_n = float(np.linalg.norm(bp)), float(np.linalg.norm(bn))
        pos, neg = ap_n * bp_n, an_n * bn_n
        if pos >= neg:
            uu, vv, sigma = ap / ap_n, bp / bp_n, pos
        else:
            uu, vv, sigma = an / an_n, bn / bn_n, neg
        w[:, j] = math.sqrt(s[j] * sigma) * uu
        h[j, :] = math.sqrt(s[j] * sigma) * vv
    w[w < 1e-12] = 0.0
    h[h < 1e-12] = 0.0
    return w, h


def nmf(x: FloatArray, rank: int, *, iterations: int = 400, tol: float = 1e-6) -> tuple[FloatArray, FloatArray]:
    """``X ≈ W H`` with ``W, H >= 0``: Lee & Seung's multiplicative updates for the
    Frobenius norm from an NNDSVDa start, stopping when ten updates lower the error by
    less than ``tol`` times the starting error. Deterministic."""
    w, h = nndsvd(x, rank)
    # zeros stay zero under multiplicative updates; NNDSVDa fills them with the mean of X
    mean = float(x.mean())
    w[w == 0] = mean
    h[h == 0] = mean
    eps = np.finfo(np.float64).eps
    initial = previous = float(np.linalg.norm(x - w @ h))
    for step in range(1, iterations + 1):
        h *= (w.T @ x) / np.maximum(w.T @ w @ h, eps)
        w *= (x @ h.T) / np.maximum(w @ (h @ h.T), eps)
        # progress over ten updates, relative to the starting error (one update can
        # stall before the error falls again)
        if step % 10 == 0:
            error = float(np.linalg.norm(x - w @ h))
            if previous - error <= tol * max(initial, eps):
                break
            previous = error
    return w, h


def _dimension_of(terms: Sequence[str], weights: Sequence[float],
                  dimension_terms: Mapping[str, frozenset[str]]) -> str | None:
    """The dimension whose term list holds more than half the weight of the theme's top terms."""
    total = float(sum(weights))
    best, best_weight = None, 0.0
    for dimension, listed in dimension_terms.items():
        weight = sum(w for t, w in zip(terms, weights, strict=True) if t in listed)
        if weight > best_weight:
            best, best_weight = dimension, weight
    return best if total > 0 and best_weight > total / 2 else None


def comment_themes(
    comments: Sequence[str],
    *,
    k: int,
    max_themes: int = 6,
    top_terms: int = 4,
    dimension_terms: Mapping[str, frozenset[str]] = DIMENSION_TERMS,
) -> CommentThemes | None:
    """Themes of a wave's comments, or ``None`` below ``k`` comments or without shared terms.

    The number of themes is ``min(max_themes, comments // k)``: a theme must be able to
    reach ``k`` comments. Themes smaller than ``k`` are folded into ``other``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    texts = [c for c in comments if c.strip()]
    if len(texts) < k:
        return None
    x, vocabulary = tfidf([terms_of(t) for t in texts])
    rank = min(max_themes, len(texts) // k, len(vocabulary), len(texts))
    if rank < 1 or not x.any():
        return None
    w, h = nmf(x, rank)
    has_terms = x.any(axis=1)
    owner = np.where(has_terms, w.argmax(axis=1), -1)
    found: list[Theme] = []
    other = int(np.count_nonzero(~has_terms))
    for j in range(rank):
        count = int(np.count_nonzero(owner == j))
        if count < k:
            other += count
            continue
        top = [int(i) for i in np.argsort(-h[j], kind="stable")[:top_terms] if h[j, i] > 0]
        terms = tuple(vocabulary[i] for i in top)
        dimension = _dimension_of(terms, [float(h[j, i]) for i in top], dimension_terms)
        found.append(Theme(terms=terms, comments=count, dimension=dimension))
    found.sort(key=lambda t: (-t.comments, t.terms))
    return CommentThemes(comments=len(texts), themes=tuple(found), other=other if other >= k else None)
