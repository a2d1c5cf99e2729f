#!/usr/bin/env python3
"""The classic models beside the peer libraries a user would pick instead, in one run on one
machine: quality and fit seconds side by side, with the ratio (ours / theirs).

- ranking (docs/classic.md's protocol: ml-100k, ratings >= 4, the same 80/20 random splits,
  seeds 0, 1, 2, one thread each side): recsys's ALS and BPR at implicit's own default
  settings (`recsys experiment --set ...`) against implicit 0.7's (scripts/peers-ranking.py);
- rating (Surprise's protocol, 5-fold CV): `recsys experiment --preset surprise-ml100k`
  against Surprise 1.1 itself (scripts/peers-rating.py).

Run it through scripts/peers, which installs the peers into the project's venv first.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{out.stderr}")
    return out.stdout


def recsys_rows(recsys, args, env):
    """model -> (first metric's mean, fit seconds mean) from `recsys --json experiment`."""
    v = json.loads(run([recsys, "--json", *args], env))
    s = v["summary"]
    return {r["model"]: (r["metrics"][0]["mean"], r["fit_s"]["mean"]) for r in s["rows"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recsys", required=True, help="the recsys binary")
    ap.add_argument("--out", required=True, help="a scratch directory for recsys's files")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    py = sys.executable
    rows = []

    settings = {
        "als": "factors=100 regularization=0.01 alpha=1 iterations=15",
        "bpr": "factors=100 learning_rate=0.01 regularization=0.01 iterations=100",
    }
    ours = {}
    for model, s in settings.items():
        ours.update(recsys_rows(args.recsys, [
            "--seed", "0", "--out", os.path.join(args.out, model), "--force", "experiment",
            "ml-100k", "--models", model, "--seeds", "3", "--sampled", "0", "--set", s,
        ], env))
    theirs = {"implicit ALS": [], "implicit BPR": []}
    for seed in (0, 1, 2):
        text = run([py, os.path.join(HERE, "peers-ranking.py"), "--seed", str(seed),
                    "--threads", "1"], env)
        for name in theirs:
            m = re.search(rf"^{name}\s+([\d.]+)\s+([\d.]+)", text, re.M)
            theirs[name].append((float(m.group(1)), float(m.group(2))))
    for model, peer in (("als", "implicit ALS"), ("bpr", "implicit BPR")):
        q = sum(x[0] for x in theirs[peer]) / 3
        t = sum(x[1] for x in theirs[peer]) / 3
        rows.append((f"{model} (implicit's settings)", peer, "NDCG@10", ours[model][0], q,
                     ours[model][1], t))

    mine = recsys_rows(args.recsys, ["--out", os.path.join(args.out, "surprise"), "--force",
                                     "experiment", "ml-100k", "--preset", "surprise-ml100k"], env)
    text = run([py, os.path.join(HERE, "peers-rating.py")], env)
    for model, peer in (("svd", "SVD"), ("baseline", "BaselineOnly"), ("knn-basic", "KNNBasic"),
                        ("nmf", "NMF"), ("normal", "NormalPredictor")):
        m = re.search(rf"^{peer}\s+([\d.]+)\s+([\d.]+)\s+.*?([\d.]+)$", text, re.M)
        rows.append((model, f"Surprise {peer}", "RMSE", mine[model][0], float(m.group(1)),
                     mine[model][1], float(m.group(3))))

    print(f"{'recsys':<26}{'peer':<26}{'metric':<9}{'ours':>8}{'theirs':>8}"
          f"{'fit s ours':>12}{'theirs':>9}{'ratio':>8}")
    for name, peer, metric, q1, q2, t1, t2 in rows:
        ratio = t1 / t2 if t2 > 0 else float("nan")
        print(f"{name:<26}{peer:<26}{metric:<9}{q1:>8.4f}{q2:>8.4f}{t1:>12.3f}{t2:>9.3f}"
              f"{ratio:>8.2f}")


if __name__ == "__main__":
    main()
