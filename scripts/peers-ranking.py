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

Usage: scripts/peers-ranking.py [--seed 0] [--threads 0] [--data data/ml-100k/u.data]
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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="implicit's num_threads (0: all cores)")
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
