#!/usr/bin/env python3
"""The classic models beside the peer a user would pick instead, on ml-100k: one table, model by
model, ours against the peer, fit seconds at one and two threads each side, NDCG@10 (or RMSE),
and each process's peak RSS.

- ranking (docs/classic.md's protocol: ml-100k, ratings >= 4, the 80/20 random split of seed 0):
  each fit is its own process, ours (`recsys --threads T experiment ml-100k --models M`) and the
  peer's (`scripts/peers-ranking.py --model M --threads T`) back to back, repeated (--repeats,
  default 3), so a busy machine slows both alike; the table gives the minimum fit seconds with
  the range over the repeats, the ratio of the minima (ours / theirs), NDCG@10 of both, and the
  largest peak RSS (ru_maxrss of the process: the whole run, loading and evaluating included).
  Peers: implicit 0.7.3's CosineRecommender (item-knn), ALS and BPR at implicit's settings;
  numpy/scipy for user-knn (the same shrunk cosine) and EASE^R (Cornac's code, float64).
- rating (Surprise's protocol, 5-fold CV, one thread): `recsys experiment --preset
  surprise-ml100k` against Surprise 1.1 itself (scripts/peers-rating.py); one process each for
  all five models, so their RSS is that process's. Skipped with --no-rating.

Run it through scripts/peers, which installs the peers into the project's venv first.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# recsys's settings matched to the peer's (the peer's own defaults for implicit's ALS and BPR;
# our defaults, which the peer is given, for the kNN and EASE^R).
RANKING = {
    "item-knn": "neighbors=200 shrink=0",
    "user-knn": "neighbors=50 shrink=0",
    "ease": "lambda=300",
    "als": "factors=100 regularization=0.01 alpha=1 iterations=15",
    "bpr": "factors=100 learning_rate=0.01 regularization=0.01 iterations=100",
}
PEER_NAME = {
    "item-knn": "implicit CosineRecommender",
    "user-knn": "numpy/scipy cosine",
    "ease": "numpy inv (Cornac's EASE)",
    "als": "implicit ALS (CG)",
    "bpr": "implicit BPR",
}


def run_rss(cmd, env):
    """Runs cmd; returns (stdout, peak RSS in bytes of that process)."""
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=devnull, env=env, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(cmd)} failed (status {status}); run it by hand to see why")
    return out, usage.ru_maxrss * 1024


def ours(recsys, model, threads, out_dir, env):
    """(NDCG@10, fit seconds, peak RSS) of one recsys fit."""
    cmd = [recsys, "--threads", str(threads), "--seed", "0", "--json", "--out",
           os.path.join(out_dir, f"{model}-{threads}"), "--force", "experiment", "ml-100k",
           "--models", model, "--seeds", "1", "--sampled", "0", "--set", RANKING[model]]
    out, rss = run_rss(cmd, env)
    row = json.loads(out)["summary"]["rows"][0]
    return row["metrics"][0]["mean"], row["fit_s"]["mean"], rss


def theirs(model, threads, data, env):
    """(NDCG@10, fit seconds, peak RSS) of one peer fit."""
    cmd = [sys.executable, os.path.join(HERE, "peers-ranking.py"), "--model", model,
           "--threads", str(threads), "--seed", "0", "--data", data]
    out, rss = run_rss(cmd, env)
    row = json.loads(out.strip().splitlines()[-1])
    return row["ndcg"], row["fit_s"], rss


def cell(times):
    return f"{min(times):.3f} ({min(times):.3f}-{max(times):.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recsys", required=True, help="the recsys binary")
    ap.add_argument("--out", required=True, help="a scratch directory for recsys's files")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2", help="thread counts, each side the same")
    ap.add_argument("--models", default=",".join(RANKING))
    ap.add_argument("--no-rating", action="store_true", help="skip the Surprise rows")
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "ml-100k", "u.data"))
    args = ap.parse_args()
    models = args.models.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    samples = {}
    for rep in range(args.repeats):
        for model in models:
            for t in threads:
                env = dict(os.environ)
                for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                    env[var] = str(t)
                a = ours(args.recsys, model, t, args.out, env)
                b = theirs(model, t, args.data, env)
                samples.setdefault((model, t), []).append((a, b))
                print(f"repeat {rep + 1}/{args.repeats} {model} threads {t}: ours {a[1]:.3f} s, "
                      f"peer {b[1]:.3f} s", file=sys.stderr)

    print(f"{'model':<10}{'peer':<28}{'thr':>4}{'NDCG ours':>10}{'theirs':>8}"
          f"{'fit s ours: min (range)':>26}{'theirs: min (range)':>24}{'ratio':>7}"
          f"{'RSS MB ours':>12}{'theirs':>8}")
    for (model, t), runs in samples.items():
        a = [r[0] for r in runs]
        b = [r[1] for r in runs]
        ta, tb = [x[1] for x in a], [x[1] for x in b]
        print(f"{model:<10}{PEER_NAME[model]:<28}{t:>4}{a[0][0]:>10.4f}{b[0][0]:>8.4f}"
              f"{cell(ta):>26}{cell(tb):>24}{min(ta) / min(tb):>7.2f}"
              f"{max(x[2] for x in a) / 2**20:>12.0f}{max(x[2] for x in b) / 2**20:>8.0f}")
    if args.no_rating:
        return

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out, rss_ours = run_rss([args.recsys, "--threads", "1", "--json", "--out",
                             os.path.join(args.out, "surprise"), "--force", "experiment",
                             "ml-100k", "--preset", "surprise-ml100k"], env)
    mine = {r["model"]: (r["metrics"][0]["mean"], r["fit_s"]["mean"])
            for r in json.loads(out)["summary"]["rows"]}
    text, rss_theirs = run_rss([sys.executable, os.path.join(HERE, "peers-rating.py")], env)
    print("rating models, Surprise's 5-fold CV, one thread, one run each side (RMSE; mean fit "
          "seconds over the folds; RSS of the process fitting all five)")
    for model, peer in (("svd", "SVD"), ("baseline", "BaselineOnly"), ("knn-basic", "KNNBasic"),
                        ("nmf", "NMF"), ("normal", "NormalPredictor")):
        m = re.search(rf"^{peer}\s+([\d.]+)\s+([\d.]+)\s+.*?([\d.]+)$", text, re.M)
        t1, t2 = mine[model][1], float(m.group(3))
        ratio = t1 / t2 if t2 > 0 else float("nan")
        print(f"{model:<10}{'Surprise ' + peer:<28}{1:>4}{mine[model][0]:>10.4f}"
              f"{float(m.group(1)):>8.4f}{t1:>26.3f}{t2:>24.3f}{ratio:>7.2f}"
              f"{rss_ours / 2**20:>12.0f}{rss_theirs / 2**20:>8.0f}")


if __name__ == "__main__":
    main()
