"""Twin of the Rust port of notebook 001 (Data Science from Scratch, chapter 23), in plain Python.

Part 1, the toy interests of 15 users: popularity, user-based and item-based suggestions with
cosine similarity, printed as the port prints them (Python's own reprs; lists that do not fit
in 80 columns one element a line, as Jupyter shows them). They are deterministic, so the
port's text and the twin's must be identical; `--json` returns them under "toy", keyed by the
port's check names, and `--toy-only` stops after them.

Part 2: this notebook draws no torch random numbers: its split and its vector initialisation come from
Python's `random` (Mersenne Twister), which the Rust port reimplements bit for bit. So the twin
uses `random` itself, creates the vectors in the same id order as the port (ascending ids, or with
--seed S an order shuffled by random.Random(S), standing in for a Python hash seed), and its
losses must equal the port's to the last digit.

    python notebooks-ported/python/nb001.py [--data-dir data] [--seed S] [--epochs 20] [--prior-runs 1] [--toy-only] [--json]
"""
import argparse
import json
import math
import pprint
import random
import re
import sys
import time
from collections import Counter, defaultdict

import pandas as pd

# Each user's interests, in the notebook's order.
TOY = [line.split(", ") for line in """\
Hadoop, Big Data, HBase, Java, Spark, Storm, Cassandra
NoSQL, MongoDB, Cassandra, HBase, Postgres
Python, scikit-learn, scipy, numpy, statsmodels, pandas
R, Python, statistics, regression, probability
machine learning, regression, decision trees, libsvm
Python, R, Java, C++, Haskell, programming languages
statistics, probability, mathematics, theory
machine learning, scikit-learn, Mahout, neural networks
neural networks, deep learning, Big Data, artificial intelligence
Hadoop, Java, MapReduce, Big Data
statistics, R, statsmodels
C++, deep learning, artificial intelligence, probability
pandas, R, Python
databases, HBase, Postgres, MySQL, MongoDB
libsvm, regression, support vector machines""".splitlines()]


def cosine(a, b):
    """Cosine similarity as the book computes it: dot(a, b) / sqrt(dot(a, a) * dot(b, b))."""
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))
    return dot(a, b) / math.sqrt(dot(a, a) * dot(b, b))


def ranked(scores):
    """(key, score) pairs, highest score first, ties in first-seen order."""
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def toy_section():
    """Part 1's printed outputs, keyed by the port's check names."""
    shown = lambda value: pprint.pformat(value, width=80)
    counts = Counter(i for user in TOY for i in user)
    names = sorted(counts)
    matrix = [[int(name in user) for name in names] for user in TOY]  # users x interests
    columns = [list(col) for col in zip(*matrix)]  # interests x users
    user_sim = [[cosine(u, v) for v in matrix] for u in matrix]
    item_sim = [[cosine(a, b) for b in columns] for a in columns]

    def popular_new(own, n=5):
        return [(i, c) for i, c in counts.most_common() if i not in own][:n]

    def similar_users(u):
        return sorted(((v, s) for v, s in enumerate(user_sim[u]) if v != u and s > 0),
                      key=lambda vs: vs[1], reverse=True)

    def similar_interests(k):
        return ranked({names[j]: s for j, s in enumerate(item_sim[k]) if j != k and s > 0})

    def user_based(u):
        scores = defaultdict(float)
        for v, s in similar_users(u):
            for interest in TOY[v]:
                scores[interest] += s
        return [(i, s) for i, s in ranked(scores) if i not in TOY[u]]

    def item_based(u, keep_own):
        scores = defaultdict(float)
        for k, has in enumerate(matrix[u]):
            if has:
                for name, s in similar_interests(k):
                    scores[name] += s
        return [(i, s) for i, s in ranked(scores) if keep_own or i not in TOY[u]]

    return {
        "popular_interests": f"popular_interests={counts!r}",
        "most_popular_new_interests(user 0)": shown(popular_new(TOY[0])),
        "most_popular_new_interests(user 2)": shown(popular_new(TOY[2])),
        "unique_interests": f"unique_interests={names!r}",
        "user_1_interest_vector": f"user_1_interest_vector: {matrix[0]}",
        "user_interest_vectors[:5]": repr(matrix[:5]),
        "user_similarities[0]": f"user_similarities[0]={user_sim[0]!r}",
        "most_similar_users_to(0)": repr(similar_users(0)),
        "user_based_suggestions(0)": shown(user_based(0)),
        "user_interest_vectors[0]": f"user_interest_vectors[0]={matrix[0]!r}",
        "interest_user_matrix[0]": f"interest_user_matrix[0]={columns[0]!r}",
        "interest_similarities[0]": repr(item_sim[0]),
        "most_similar_interests_to(0)": shown(similar_interests(0)),
        "item_based_suggestions(0) (faithful)": shown(item_based(0, keep_own=True)),
        "item_based_suggestions(0) corrected": shown(item_based(0, keep_own=False)),
    }


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
    ap.add_argument("--toy-only", action="store_true", help="stop after part 1, the toy interests")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    started = time.time()

    toy = toy_section()
    for text in toy.values():
        log(text)
    if args.toy_only:
        if args.json:
            print(json.dumps({"toy": toy, "wall_s": time.time() - started}))
        return

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
        print(json.dumps({"toy": toy, "epochs": [e["train_shown"] for e in epochs], "per_epoch": epochs,
                          "prior_runs": args.prior_runs, "metrics": {"baseline_mse": baseline, "test_shown": te[0], "test_mean": te[1]},
                          "wall_s": time.time() - started}))


if __name__ == "__main__":
    main()
