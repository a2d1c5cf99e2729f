#!/usr/bin/env python3
"""Surprise 1.1 itself on ml-100k, on the folds of tests/classic_rating.rs: RMSE, MAE, fit seconds.

The folds: `torch.manual_seed(0); torch.randperm(100000)` cut into five runs of 20,000 rows of
`u.data` (test), the rest in the permutation's order (train), as Surprise's own KFold builds them.
`--surprise-kfold` uses Surprise's `KFold(n_splits=5, random_state=0)` instead (the protocol of
Surprise's README table, other folds).

    /work/main/.venv/bin/python scripts/peers-rating.py
    /work/main/.venv/bin/python scripts/peers-rating.py --algos SVD,BaselineOnly --surprise-kfold

Needs `scikit-surprise` (`pip install scikit-surprise`; 1.1.5 was used) and torch for the
permutation. Prints one row per algorithm: mean RMSE and MAE over the folds, each fold's RMSE,
and the mean fit seconds.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import surprise
    from surprise import (NMF, SVD, BaselineOnly, Dataset, KNNBasic, NormalPredictor,
                          Reader, accuracy)
    from surprise.model_selection import KFold
except ImportError:
    sys.exit("error: scikit-surprise is not installed (pip install scikit-surprise)")

ROOT = Path(__file__).resolve().parent.parent

ALGOS = {
    "NormalPredictor": lambda seed: NormalPredictor(),
    "BaselineOnly": lambda seed: BaselineOnly(verbose=False),
    "SVD": lambda seed: SVD(random_state=seed),
    "KNNBasic": lambda seed: KNNBasic(verbose=False),
    "NMF": lambda seed: NMF(random_state=seed),
}


def torch_folds(data):
    """The five (trainset, testset) pairs of tests/classic_rating.rs."""
    import torch

    raw = data.raw_ratings
    torch.manual_seed(0)
    perm = torch.randperm(len(raw)).tolist()
    n = len(perm)
    for f in range(5):
        start, stop = f * n // 5, (f + 1) * n // 5
        train = [raw[i] for i in perm[:start] + perm[stop:]]
        test = [raw[i] for i in perm[start:stop]]
        yield data.construct_trainset(train), data.construct_testset(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "ml-100k" / "u.data"),
                        help="ml-100k's u.data (default: the shipped copy)")
    parser.add_argument("--algos", default=",".join(ALGOS),
                        help="comma-separated subset of " + ", ".join(ALGOS))
    parser.add_argument("--surprise-kfold", action="store_true",
                        help="Surprise's own KFold(5, random_state=0) instead of the torch folds")
    args = parser.parse_args()
    names = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = [a for a in names if a not in ALGOS]
    if unknown:
        sys.exit(f"error: --algos: unknown algorithm {unknown[0]!r} (one of {', '.join(ALGOS)})")
    if not Path(args.data).is_file():
        sys.exit(f"error: --data: no file {args.data}")
    data = Dataset.load_from_file(args.data, reader=Reader("ml-100k"))
    if args.surprise_kfold:
        folds = list(KFold(n_splits=5, random_state=0).split(data))
    else:
        folds = list(torch_folds(data))
    print(f"surprise {surprise.__version__}, numpy {np.__version__}, "
          f"folds: {'Surprise KFold(random_state=0)' if args.surprise_kfold else 'torch randperm seed 0'}")
    print(f"{'algorithm':<16}  {'RMSE':>6}  {'MAE':>6}  {'RMSE per fold':<35}  fit s")
    for name in names:
        rmses, maes, secs = [], [], []
        for f, (trainset, testset) in enumerate(folds):
            np.random.seed(f)  # NormalPredictor draws from numpy's global generator
            algo = ALGOS[name](f)
            start = time.perf_counter()
            algo.fit(trainset)
            secs.append(time.perf_counter() - start)
            predictions = algo.test(testset)
            rmses.append(accuracy.rmse(predictions, verbose=False))
            maes.append(accuracy.mae(predictions, verbose=False))
        per_fold = " ".join(f"{r:.4f}" for r in rmses)
        print(f"{name:<16}  {np.mean(rmses):.4f}  {np.mean(maes):.4f}  {per_fold:<35}  "
              f"{np.mean(secs):.2f}", flush=True)


if __name__ == "__main__":
    main()
