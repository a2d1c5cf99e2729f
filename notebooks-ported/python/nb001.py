"""Twin of the Rust port of notebook 001 (Data Science from Scratch, chapter 23), in plain Python.

This notebook draws no torch random numbers: its split and its vector initialisation come from
Python's `random` (Mersenne Twister), which the Rust port reimplements bit for bit. So the twin
uses `random` itself, creates the vectors in the same id order as the port (ascending ids, or with
--seed S an order shuffled by random.Random(S), standing in for a Python hash seed), and its
losses must equal the port's to the last digit.

    python notebooks-ported/python/nb001.py [--data-dir data] [--seed S] [--epochs 20] [--prior-runs 1] [--json]
"""
import argparse
import json
import math
import random
import re
import sys
import time

import pandas as pd


def normal_cdf(x):
    return (1 + math.erf(x / math.sqrt(2))) / 2


def inverse_normal_cdf(p, tolerance=0.00001):
    low_z, hi_z = -10.0, 10.0
    while hi_z - low_z > tolerance:
        mid_z = (low_z + hi_z) / 2
        if normal_cdf(mid_z) < p:
            low_z = mid_z
        else:
            hi_z = mid_z
    return mid_z


def sgd_pass(data, users, movies, lr=None):
    """One pass; returns (running average at the last i % 1000 == 0 step, mean over the pass)."""
    loss, shown = 0.0, 0.0
    for i, (u, m, r) in enumerate(data):
        uv, mv = users[u], movies[m]
        error = (uv[0] * mv[0] + uv[1] * mv[1]) - r
        loss += error ** 2
        if lr is not None:
            ug = [error * x for x in mv]
            mg = [error * x for x in uv]
            for j in range(2):
                uv[j] -= lr * ug[j]
                mv[j] -= lr * mg[j]
        if i % 1000 == 0:
            shown = loss / (i + 1)
    return shown, loss / len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--seed", type=int, default=None, help="shuffle the id order with random.Random(SEED)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--prior-runs", type=int, default=1,
                    help="full training runs before the printed one (the notebook's hidden In [50])")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    started = time.time()

    ratings = pd.read_csv(f"{args.data_dir}/ml-100k/u.data", sep="\t", header=None,
                          names=["user_id", "item_id", "rating", "timestamp"])
    items = pd.read_csv(f"{args.data_dir}/ml-100k/u.item", sep="|", header=None,
                        encoding="iso-8859-1", usecols=[0, 1], names=["item_id", "title"])
    log(f"{len(items)} movies, {ratings.user_id.nunique()} users")
    titles = dict(zip(items.item_id, items.title))

    for name, pattern in [("faithful", "Star Wars|Enpire Strikes Back|Jedi"),
                          ("corrected", "Star Wars|Empire Strikes Back|Jedi")]:
        ids = items.item_id[items.title.str.contains(pattern, regex=True)]
        avg = ratings[ratings.item_id.isin(ids)].groupby("item_id").rating.mean()
        for movie_id, a in sorted(avg.items(), key=lambda kv: (kv[1], str(kv[0])), reverse=True):
            log(f"{name}: {a:2f} {titles[movie_id]}")

    rows = list(zip(ratings.user_id.tolist(), ratings.item_id.tolist(), ratings.rating.astype(float).tolist()))
    rng = random.Random(0)
    rng.shuffle(rows)
    s1, s2 = int(len(rows) * 0.7), int(len(rows) * 0.85)
    train, validation, test = rows[:s1], rows[s1:s2], rows[s2:]
    log(f"train/validation/test: {len(train)}/{len(validation)}/{len(test)}; first: {rows[:3]}")
    avg_rating = sum(int(r) for _, _, r in train) / len(train)
    baseline = sum([(r - avg_rating) ** 2 for _, _, r in test]) / len(test)
    log(repr(baseline))

    user_ids = sorted(ratings.user_id.unique().tolist())
    movie_ids = sorted(ratings.item_id.unique().tolist())
    if args.seed is not None:
        order = random.Random(args.seed)
        order.shuffle(user_ids)
        order.shuffle(movie_ids)
    users = {u: [inverse_normal_cdf(rng.random()) for _ in range(2)] for u in user_ids}
    movies = {m: [inverse_normal_cdf(rng.random()) for _ in range(2)] for m in movie_ids}

    for _ in range(args.prior_runs):
        lr = 0.05
        for _ in range(args.epochs):
            lr *= 0.9
            sgd_pass(train, users, movies, lr)
            sgd_pass(validation, users, movies)
    lr, epochs = 0.05, []
    for epoch in range(1, args.epochs + 1):
        lr *= 0.9
        tr = sgd_pass(train, users, movies, lr)
        va = sgd_pass(validation, users, movies)
        log(f"epoch {epoch}: train avg_loss={tr[0]!r} validation avg_loss={va[0]!r}")
        epochs.append({"epoch": epoch, "train_shown": tr[0], "train_mean": tr[1],
                       "validation_shown": va[0], "validation_mean": va[1]})
    te = sgd_pass(test, users, movies)
    log(f"test avg_loss={te[0]!r} (mean over all {len(test)}: {te[1]!r})")
    if args.json:
        print(json.dumps({"epochs": [e["train_shown"] for e in epochs], "per_epoch": epochs,
                          "prior_runs": args.prior_runs, "metrics": {"baseline_mse": baseline, "test_shown": te[0], "test_mean": te[1]},
                          "wall_s": time.time() - started}))


if __name__ == "__main__":
    main()
