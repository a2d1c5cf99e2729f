#!/usr/bin/env python3
"""The classic ranking models' peers on the protocol of docs/classic.md: NDCG@10 and fit seconds.

Runs implicit's ALS and BPR (and a most-popular baseline in numpy, which is what Cornac's
MostPop computes) on ml-100k with the split the Rust side uses: ratings >= 4 as positives, in
file order; torch.manual_seed(seed) then torch.randperm(n) (libtorch's generator, so the Rust
side draws the same permutation), the first int(0.8 n) rows to train, the rest to test. Every
one of the 1682 items is ranked for each user with a test positive, the user's train items
excluded; NDCG@10 with the ideal DCG over min(10, |relevant|) positions. Fit time is printed
as wall seconds and as CPU seconds of the process (all threads), the steadier figure on a shared
machine.

With --model M, fits only that peer and prints one JSON line ({"model", "ndcg", "fit_s",
"fit_cpu_s", "peak_rss_bytes"}), for scripts/peers's speed table: item-knn (implicit's
CosineRecommender, K=200), user-knn (the same shrunk-cosine definition in numpy/scipy: X Xᵀ,
norms, diagonal 0, the 50 largest per row), ease (Cornac's EASE code in numpy, float64, λ=300,
on the items seen in train, as Cornac's train set holds them), als and bpr (implicit's, at
its defaults).

Usage: scripts/peers-ranking.py [--seed 0] [--threads 0] [--model M] [--data data/ml-100k/u.data]
Needs numpy, scipy, torch and implicit (`pip install implicit`), e.g. the project's .venv:
.venv/bin/python scripts/peers-ranking.py --threads 1 (docs/classic.md's comparison).
"""

import argparse
import math
import os
import sys
import time

# implicit's advice: a multithreaded BLAS slows its ALS down
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    import numpy as np
    import scipy.sparse as sp
    import torch
except ImportError as e:
    sys.exit(f"error: {e}; run this with the project's Python (.venv/bin/python)")


def load(path):
    """Positives (rating >= 4) of u.data in file order, as 0-based (user, item) arrays."""
    raw = np.loadtxt(path, dtype=np.int64, usecols=(0, 1, 2))
    keep = raw[:, 2] >= 4
    return raw[keep, 0] - 1, raw[keep, 1] - 1, 943, 1682


def split(users, items, seed):
    torch.manual_seed(seed)
    perm = torch.randperm(len(users)).numpy()
    cut = int(0.8 * len(users))
    return perm[:cut], perm[cut:]


def ndcg_at_10(scores, train, test_users, test):
    """Mean NDCG@10 over test_users; scores [n_users, n_items], train CSR masks seen items."""
    total = 0.0
    for u in test_users:
        s = scores[u].astype(np.float64).copy()
        s[train.indices[train.indptr[u]:train.indptr[u + 1]]] = -np.inf
        # best first, ties to the lower index (the Rust top_k's order)
        top = np.lexsort((np.arange(len(s)), -s))[:10]
        rel = test[u]
        dcg = sum(1.0 / math.log2(r + 2) for r, i in enumerate(top) if i in rel)
        idcg = sum(1.0 / math.log2(r + 2) for r in range(min(10, len(rel))))
        total += dcg / idcg
    return total / len(test_users)


def user_knn(train, k=50):
    """User-kNN scores: shrunk (0) cosine between users, diagonal 0, k largest per row."""
    x = train.astype(np.float32)
    dots = (x @ x.T).toarray()
    norms = np.sqrt(np.diag(dots))
    sim = dots / np.maximum(np.outer(norms, norms), 1e-12)
    np.fill_diagonal(sim, 0.0)
    drop = np.argpartition(-sim, k, axis=1)[:, k:]
    np.put_along_axis(sim, drop, 0.0, axis=1)
    return sim


def ease(train, lamb=300.0):
    """Cornac 2's EASE.fit on the items seen in train (its train set's items), float64."""
    seen = np.flatnonzero(np.asarray(train.sum(axis=0)).ravel() > 0)
    x = train[:, seen].astype(np.float64)
    g = x.T.dot(x).toarray()
    diag = np.diag_indices(g.shape[0])
    g[diag] = g.diagonal() + lamb
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[diag] = 0.0
    return seen, b


SPEED_PEERS = ("item-knn", "user-knn", "ease", "als", "bpr")


def speed_row(model, train, test_users, test, args):
    """Fits one peer (scores not timed) and prints its JSON row."""
    import json
    import resource
    from threadpoolctl import threadpool_limits
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    from implicit.nearest_neighbours import CosineRecommender

    threads = args.threads
    with threadpool_limits(limits=threads or None):
        start, cpu = time.perf_counter(), time.process_time()
        if model == "item-knn":
            m = CosineRecommender(K=200, num_threads=threads)
            m.fit(train, show_progress=False)
        elif model == "user-knn":
            sim = user_knn(train)
        elif model == "ease":
            seen, b = ease(train)
        elif model == "als":
            m = AlternatingLeastSquares(random_state=args.seed, num_threads=threads)
            m.fit(train, show_progress=False)
        else:
            m = BayesianPersonalizedRanking(random_state=args.seed, num_threads=threads)
            m.fit(train, show_progress=False)
        fit, cpu = time.perf_counter() - start, time.process_time() - cpu
    if model == "item-knn":
        scores = (train @ m.similarity).toarray()
    elif model == "user-knn":
        scores = sim @ train.toarray()
    elif model == "ease":
        scores = np.zeros(train.shape, dtype=np.float64)
        scores[:, seen] = train[:, seen].toarray() @ b
    else:
        scores = m.user_factors @ m.item_factors.T
    ndcg = ndcg_at_10(scores, train, test_users, test)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"model": model, "ndcg": ndcg, "fit_s": fit, "fit_cpu_s": cpu,
                      "peak_rss_bytes": rss}))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="implicit's num_threads (0: all cores)")
    ap.add_argument("--model", choices=list(SPEED_PEERS), help="fit only this peer; JSON out")
    ap.add_argument("--data", default=os.path.join(here, "..", "data", "ml-100k", "u.data"))
    args = ap.parse_args()
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking
    except ImportError:
        sys.exit("error: implicit is not importable; pip install implicit")

    if not os.path.isfile(args.data):
        sys.exit(f"error: --data {args.data}: no such file (ml-100k's u.data)")
    users, items, n_users, n_items = load(args.data)
    tr, te = split(users, items, args.seed)
    ones = np.ones(len(tr), dtype=np.float32)
    train = sp.csr_matrix((ones, (users[tr], items[tr])), shape=(n_users, n_items))
    train.data[:] = 1.0  # duplicates (none in ml-100k) count once
    test = {}
    for u, i in zip(users[te], items[te]):
        test.setdefault(int(u), set()).add(int(i))
    test_users = sorted(test)
    if args.model:
        speed_row(args.model, train, test_users, test, args)
        return
    print(f"ml-100k positives {len(users)}, train {len(tr)}, test {len(te)}, "
          f"test users {len(test_users)}, seed {args.seed}")
    print(f"{'model':<22}{'NDCG@10':>9}{'fit s':>9}{'fit CPU s':>11}")

    start, cpu = time.perf_counter(), time.process_time()
    counts = np.asarray(train.sum(axis=0)).ravel()
    fit, cpu = time.perf_counter() - start, time.process_time() - cpu
    scores = np.tile(counts, (n_users, 1))
    ndcg = ndcg_at_10(scores, train, test_users, test)
    print(f"{'MostPopular (numpy)':<22}{ndcg:>9.4f}{fit:>9.3f}{cpu:>11.3f}")

    peers = [
        ("implicit ALS", AlternatingLeastSquares(random_state=args.seed, num_threads=args.threads)),
        ("implicit BPR", BayesianPersonalizedRanking(random_state=args.seed,
                                                     num_threads=args.threads)),
    ]
    for name, model in peers:
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(train, show_progress=False)
        fit, cpu = time.perf_counter() - start, time.process_time() - cpu
        scores = model.user_factors @ model.item_factors.T
        ndcg = ndcg_at_10(scores, train, test_users, test)
        print(f"{name:<22}{ndcg:>9.4f}{fit:>9.3f}{cpu:>11.3f}")


if __name__ == "__main__":
    main()
