#!/usr/bin/env python3
"""Surprise's own README benchmark on ml-100k, as its `examples/benchmark.py` runs it.

The protocol of `examples/benchmark.py` (Surprise 1.1.5), step for step: `np.random.seed(0)`
and `random.seed(0)` once; the ml-100k ratings as `Dataset.load_builtin("ml-100k")` reads them
(`u.data` through `Reader("ml-100k")`); one `KFold(random_state=0)` for every algorithm; and
the eleven algorithms of its table, in its order, with its settings (`SVD(random_state=0)`,
`SVDpp(random_state=0, cache_ratings=False)`, `SVDpp(random_state=0, cache_ratings=True)`,
`NMF(random_state=0)`, `SlopeOne()`, `KNNBasic()`, `KNNWithMeans()`, `KNNBaseline()`,
`CoClustering(random_state=0)`, `BaselineOnly()`, `NormalPredictor()`), each run through
`cross_validate(algo, data, ["rmse", "mae"], kf)`. `NormalPredictor` draws from numpy's
global generator, which nothing before it in the table touches.

Prints every fold's RMSE and MAE at full precision (`repr`), and their means as
`np.mean(out["test_rmse"])` computes them, as JSON on stdout (what
`src/classic/surprise_replay/reference.json` stores):

    /work/main/.venv/bin/python scripts/surprise-benchmark.py > reference.json
    /work/main/.venv/bin/python scripts/surprise-benchmark.py --algos SVD,BaselineOnly

Needs `scikit-surprise==1.1.5` (`pip install scikit-surprise==1.1.5`). `--dump DIR` also writes
each algorithm's first-fold estimates (`DIR/<row>.fold0.txt`, one `repr` per line, test order).
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

try:
    import surprise
    from surprise import (NMF, SVD, BaselineOnly, CoClustering, Dataset, KNNBaseline,
                          KNNBasic, KNNWithMeans, NormalPredictor, Reader, SlopeOne, SVDpp)
    from surprise.model_selection import KFold, cross_validate
except ImportError:
    sys.exit("error: scikit-surprise is not installed (pip install scikit-surprise==1.1.5)")

ROOT = Path(__file__).resolve().parent.parent

# The rows of Surprise's README table: (row name, algorithm), in examples/benchmark.py's order.
ROWS = [
    ("SVD", lambda: SVD(random_state=0)),
    ("SVD++ (cache_ratings=False)", lambda: SVDpp(random_state=0, cache_ratings=False)),
    ("SVD++ (cache_ratings=True)", lambda: SVDpp(random_state=0, cache_ratings=True)),
    ("NMF", lambda: NMF(random_state=0)),
    ("Slope One", lambda: SlopeOne()),
    ("k-NN", lambda: KNNBasic(verbose=False)),
    ("Centered k-NN", lambda: KNNWithMeans(verbose=False)),
    ("k-NN Baseline", lambda: KNNBaseline(verbose=False)),
    ("Co-Clustering", lambda: CoClustering(random_state=0)),
    ("Baseline", lambda: BaselineOnly(verbose=False)),
    ("Random", lambda: NormalPredictor()),
]
KEYS = {
    "SVD": "SVD", "SVDpp": "SVD++ (cache_ratings=False)", "SVDppCached":
    "SVD++ (cache_ratings=True)", "NMF": "NMF", "SlopeOne": "Slope One", "KNNBasic": "k-NN",
    "KNNWithMeans": "Centered k-NN", "KNNBaseline": "k-NN Baseline",
    "CoClustering": "Co-Clustering", "BaselineOnly": "Baseline", "NormalPredictor": "Random",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "ml-100k" / "u.data"),
                        help="ml-100k's u.data (default: the shipped copy)")
    parser.add_argument("--algos", default="",
                        help="comma-separated subset of " + ", ".join(KEYS) + " (default: all; "
                        "a subset still draws as the full table would only when Random is last)")
    parser.add_argument("--dump", help="folder for each row's first-fold estimates")
    parser.add_argument("--fold0", action="store_true",
                        help="only the first fold, each stochastic algorithm with few epochs "
                        "(SVD 2, SVD++ 1, NMF 5, Co-Clustering 3): the fixture of "
                        "tests/surprise_replay.rs")
    args = parser.parse_args()
    if args.fold0:
        return fold0(args.data)
    wanted = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = [a for a in wanted if a not in KEYS]
    if unknown:
        sys.exit(f"error: --algos: unknown algorithm {unknown[0]!r} (one of {', '.join(KEYS)})")
    if not Path(args.data).is_file():
        sys.exit(f"error: --data: no file {args.data}")
    rows = [r for r in ROWS if not wanted or r[0] in {KEYS[w] for w in wanted}]

    np.random.seed(0)
    random.seed(0)
    data = Dataset.load_from_file(args.data, reader=Reader("ml-100k"))
    kf = KFold(random_state=0)
    out_rows = []
    for name, make in rows:
        algo = make()
        start = time.time()
        if args.dump:
            # The first fold's estimates, for debugging a replay; the generator state is kept
            # so that the table below draws as the benchmark does.
            state = np.random.get_state()
            trainset, testset = next(kf.split(data))
            est = [p.est for p in make().fit(trainset).test(testset)]
            Path(args.dump).mkdir(parents=True, exist_ok=True)
            Path(args.dump, name.split(" (")[0].replace(" ", "_") +
                 ("_cached" if "True" in name else "") + ".fold0.txt").write_text(
                "".join(repr(e) + "\n" for e in est))
            np.random.set_state(state)
        out = cross_validate(algo, data, ["rmse", "mae"], kf)
        secs = time.time() - start
        # Floats as their repr strings: a JSON reader may round a number's last bit.
        row = {
            "row": name,
            "rmse": repr(float(np.mean(out["test_rmse"]))),
            "mae": repr(float(np.mean(out["test_mae"]))),
            "rmse_folds": [repr(float(x)) for x in out["test_rmse"]],
            "mae_folds": [repr(float(x)) for x in out["test_mae"]],
            "seconds": round(secs, 1),
        }
        print(f"{name:<28} RMSE {float(row['rmse']):.4f}  MAE {float(row['mae']):.4f}  "
              f"{secs:.0f} s", file=sys.stderr, flush=True)
        out_rows.append(row)
    print(json.dumps({
        "command": "scripts/surprise-benchmark.py" + (f" --algos {args.algos}" if wanted else ""),
        "surprise": surprise.__version__,
        "numpy": np.__version__,
        "rows": out_rows,
    }, indent=1))


def fold0(path):
    """The first KFold(random_state=0) fold of every row, quickly (tests/surprise_fold0.json)."""
    from surprise import accuracy
    data = Dataset.load_from_file(path, reader=Reader("ml-100k"))
    trainset, testset = next(KFold(random_state=0).split(data))
    quick = [
        ("SVD", lambda: SVD(random_state=0, n_epochs=2)),
        ("SVD++ (cache_ratings=False)", lambda: SVDpp(random_state=0, n_epochs=1)),
        ("NMF", lambda: NMF(random_state=0, n_epochs=5)),
        ("Slope One", lambda: SlopeOne()),
        ("k-NN", lambda: KNNBasic(verbose=False)),
        ("Centered k-NN", lambda: KNNWithMeans(verbose=False)),
        ("k-NN Baseline", lambda: KNNBaseline(verbose=False)),
        ("Co-Clustering", lambda: CoClustering(random_state=0, n_epochs=3)),
        ("Baseline", lambda: BaselineOnly(verbose=False)),
        ("Random", lambda: NormalPredictor()),
    ]
    rows = []
    for name, make in quick:
        np.random.seed(0)
        predictions = make().fit(trainset).test(testset)
        rows.append({"row": name, "rmse": repr(float(accuracy.rmse(predictions, verbose=False))),
                     "mae": repr(float(accuracy.mae(predictions, verbose=False)))})
    print(json.dumps({"command": "scripts/surprise-benchmark.py --fold0",
                      "surprise": surprise.__version__, "numpy": np.__version__,
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
