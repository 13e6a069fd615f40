"""A fastText-style negativity model: averaged hashed n-gram embeddings, then one output.

Each column of :func:`models.negativity_features.featurize` (word 1-2grams, char
2-5grams, the dense block) gets a ``dim``-wide embedding; a post is the weighted
sum of its columns' embeddings (the featurisation's 1/sqrt(n) weights, so an
average up to scale), and its margin is one linear output over that sum. Trained
from scratch with plain SGD and fastText's linearly decaying learning rate,
mini-batches, a few epochs, no other regularisation (Joulin et al., "Bag of
Tricks for Efficient Text Classification", 2017).

With no hidden non-linearity the margin is ``x @ (E @ w) + b``: a linear model
over the same columns whose weights are constrained to ``E @ w``. :func:`fit`
returns that collapsed weight vector, so the model scores through the same
numpy path (and could ship in the same artefact) as the logistic regression;
the difference is only in what training prefers (low rank, early stopping, no
L2). ``bench/negativity_options.py`` compares it out of domain.

>>> import numpy as np
>>> from scipy import sparse
>>> x = sparse.csr_matrix(np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 0, 1.0], [0, 1.0, 1.0]]))
>>> coef, bias = fit(x, np.array([True, False, True, False]), dim=4, epochs=30, rate=0.5)
>>> bool(coef[0] > 0 > coef[1])
True
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import expit

__all__ = ["fit"]


def fit(x: sparse.csr_matrix, y: np.ndarray, *, dim: int = 32, epochs: int = 5,
        rate: float = 0.1, batch: int = 64, seed: int = 0) -> tuple[np.ndarray, float]:
    """Train on rows ``x`` with boolean targets ``y``; return (collapsed weights, bias).

    ``rate`` is per post: a batch's gradient is the sum of its posts' (as fastText's
    per-post updates), decaying linearly to 0 over the epochs.

    Each step touches only the embedding rows of the columns present in its batch,
    so an epoch costs about the number of stored features times ``dim``.
    """
    if dim < 1 or epochs < 1 or rate <= 0 or batch < 1:
        raise ValueError("dim, epochs and batch must be positive and rate > 0")
    x = sparse.csr_matrix(x, dtype=np.float32)
    n, width = x.shape
    rng = np.random.default_rng(seed)
    embedding = rng.uniform(-1.0 / dim, 1.0 / dim, (width, dim)).astype(np.float32)
    output = np.zeros(dim, dtype=np.float32)
    bias = 0.0
    target = np.asarray(y, dtype=np.float32)
    steps, step = epochs * -(-n // batch), 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked below
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                part = x[rows]
                hidden = part @ embedding
                error = expit(hidden @ output + bias) - target[rows]
                lr = np.float32(rate * (1.0 - step / steps))
                step += 1
                # Gradient of the embedding rows this batch touches only.
                columns, where = np.unique(part.indices, return_inverse=True)
                posts = np.repeat(np.arange(len(rows)), np.diff(part.indptr))
                touched = sparse.csr_matrix((part.data, (where, posts)),
                                            shape=(len(columns), len(rows)))
                embedding[columns] -= lr * (touched @ np.outer(error, output))
                output -= lr * (hidden.T @ error)
                bias -= float(lr * error.sum())
    coef = embedding.astype(np.float64) @ output.astype(np.float64)
    if not (np.isfinite(coef).all() and np.isfinite(bias)):
        raise ValueError(f"training diverged at rate {rate}: use a lower rate")
    return coef, bias
