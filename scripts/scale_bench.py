"""The scale benchmark behind scripts/scale-bench: recsys's MF and classic models against
implicit's BPR, ALS and CosineRecommender on one synthetic MovieLens-25M-shaped file, same
threads, each side in its own process (so each peak RSS is its own).

    scripts/scale-bench                       # 25M rows, 162k users, 59k items, 2 threads
    scripts/scale-bench --rows 2500000 --users 16200 --items 5900
    scripts/scale-bench --classic --threads 1,2 --repeats 3     # the one table, model by model

Steps: `recsys data synth` writes the file once (kept, reused by later runs); `recsys --device
cpu --json train FILE --model mf --epochs 1` trains and evaluates (full ranking of every test
user, and sampled); implicit 0.7.3 loads the same CSV with pandas, keeps ratings > 3 (as recsys's
implicit feedback does), and fits one BPR epoch and one ALS iteration, factors 32. Prints a
table, and with --json its rows.

With --classic: the table model by model instead, each fit its own process, ours and the
peer's back to back, at each of --threads (e.g. 1,2), --repeats times (min and range):
recsys's classic `als` and `bpr` (`recsys experiment FILE --models M --set 'iterations=1
factors=32'`: one ALS iteration, one BPR epoch; the fit seconds it reports) against implicit's
ALS iteration and BPR epoch; `item-knn`, `user-knn` and `ease`, which hold dense user x item and
item x item matrices, are refused by recsys before anything is allocated (the row shows its
message), and implicit's CosineRecommender (K=200) is timed beside them.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_measured(cmd, env):
    """Runs cmd; returns (stdout, wall seconds, peak RSS in bytes of that process tree's
    largest process)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(cmd)} failed with status {status}")
    return out.decode(), wall, usage.ru_maxrss * 1024


def positives(path):
    """(the user x item CSR matrix of ratings > 3, pandas read_csv seconds)."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    t = time.monotonic()
    df = pd.read_csv(path)
    load_s = time.monotonic() - t
    df = df[df["rating"] > 3]
    users = df["userId"].astype("category").cat.codes.to_numpy()
    items = df["movieId"].astype("category").cat.codes.to_numpy()
    matrix = sp.csr_matrix(
        (np.ones(len(df), dtype=np.float32), (users, items)),
        shape=(users.max() + 1, items.max() + 1),
    )
    return matrix, load_s


def implicit_child(path, threads, factors):
    """Child process: load, build the user-item matrix of positives, fit BPR then ALS."""
    import numpy as np
    from threadpoolctl import threadpool_limits
    import implicit

    matrix, load_s = positives(path)
    out = {"load_s": load_s, "positives": int(matrix.nnz), "version": implicit.__version__}
    with threadpool_limits(limits=threads):
        bpr = implicit.cpu.bpr.BayesianPersonalizedRanking(
            factors=factors, iterations=1, num_threads=threads, random_state=0
        )
        t = time.monotonic()
        bpr.fit(matrix, show_progress=False)
        out["bpr_epoch_s"] = time.monotonic() - t
        als = implicit.cpu.als.AlternatingLeastSquares(
            factors=factors, iterations=1, num_threads=threads, random_state=0
        )
        t = time.monotonic()
        als.fit(matrix, show_progress=False)
        out["als_iteration_s"] = time.monotonic() - t
    print(json.dumps(out))


def implicit_classic_child(path, threads, factors, model):
    """Child process: one implicit fit on the file's positives; prints {"fit_s"}."""
    import warnings
    warnings.filterwarnings("ignore")  # implicit's note that it converted COO to CSR
    from threadpoolctl import threadpool_limits
    import implicit

    matrix, _ = positives(path)
    with threadpool_limits(limits=threads):
        if model == "als":
            m = implicit.cpu.als.AlternatingLeastSquares(
                factors=factors, iterations=1, num_threads=threads, random_state=0)
        elif model == "bpr":
            m = implicit.cpu.bpr.BayesianPersonalizedRanking(
                factors=factors, iterations=1, num_threads=threads, random_state=0)
        else:
            m = implicit.nearest_neighbours.CosineRecommender(K=200, num_threads=threads)
        if model == "user-knn":
            # user-user: the users as the "items" of the transposed matrix
            matrix = matrix.T.tocsr()
        t = time.monotonic()
        m.fit(matrix, show_progress=False)
        print(json.dumps({"fit_s": time.monotonic() - t}))


CLASSIC_PEER = {
    "als": "implicit ALS, 1 iteration",
    "bpr": "implicit BPR, 1 epoch",
    "item-knn": "implicit CosineRecommender",
    "user-knn": "implicit Cosine, user-user",
    "ease": "implicit CosineRecommender",
}


def classic_table(a, path, env):
    """The --classic table: ours and the peer per model and thread count, repeated."""
    samples = {}
    for rep in range(a.repeats):
        for model in a.models.split(","):
            for t in [int(x) for x in a.threads.split(",")]:
                env_t = dict(env)
                for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                            "POLARS_MAX_THREADS"):
                    env_t[var] = str(t)
                cmd = [a.recsys, "--threads", str(t), "--device", "cpu", "--seed", "0",
                       "--json", "--out", os.path.join(a.dir, f"out-{model}-{t}"), "--force",
                       "experiment", path, "--models", model, "--seeds", "1", "--sampled", "0"]
                if model in ("als", "bpr"):
                    cmd += ["--set", f"iterations=1 factors={a.factors}"]
                with tempfile.TemporaryFile("w+") as errfile:
                    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile,
                                            env=env_t, text=True)
                    out = proc.stdout.read()
                    _, status, usage = os.wait4(proc.pid, 0)
                    errfile.seek(0)
                    err = errfile.read()
                if os.waitstatus_to_exitcode(status) == 0:
                    fit = json.loads(out)["summary"]["rows"][0]["fit_s"]["mean"]
                    ours = (fit, usage.ru_maxrss * 1024)
                else:
                    lines = [x for x in err.splitlines() if x.startswith("error")]
                    ours = (None, lines[-1] if lines else err.strip()[-200:])
                peer_cmd = [sys.executable, __file__, "--recsys", a.recsys, "--threads", str(t),
                            "--factors", str(a.factors), "--implicit-child", path,
                            "--classic-model", model]
                pout, _, prss = run_measured(peer_cmd, env_t)
                theirs = json.loads(pout.strip().splitlines()[-1])["fit_s"]
                samples.setdefault((model, t), []).append((ours, theirs, prss))
                print(f"repeat {rep + 1} {model} threads {t}: ours {ours}, implicit {theirs:.1f}",
                      file=sys.stderr)
    print(f"{path}: one table, fit seconds, min (range) over {a.repeats} repeats")
    print(f"{'model':<10}{'peer':<30}{'thr':>4}{'ours s':>20}{'theirs s':>20}{'ratio':>7}"
          f"{'RSS GB ours':>12}{'theirs':>8}")
    for (model, t), runs in samples.items():
        theirs = [r[1] for r in runs]
        th = f"{min(theirs):.2f} ({min(theirs):.2f}-{max(theirs):.2f})"
        rss = max(r[2] for r in runs) / 2**30
        fits = [r[0][0] for r in runs if r[0][0] is not None]
        if fits:
            ours = f"{min(fits):.2f} ({min(fits):.2f}-{max(fits):.2f})"
            ratio = f"{min(fits) / min(theirs):.2f}"
            rss_ours = f"{max(r[0][1] for r in runs) / 2**30:.2f}"
        else:
            ours, ratio, rss_ours = "refused", "-", "-"
        print(f"{model:<10}{CLASSIC_PEER[model]:<30}{t:>4}{ours:>20}{th:>20}{ratio:>7}"
              f"{rss_ours:>12}{rss:>8.2f}")
        if not fits:
            print(f"          recsys: {runs[0][0][1]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=25_000_000)
    p.add_argument("--users", type=int, default=162_000)
    p.add_argument("--items", type=int, default=59_000)
    p.add_argument("--threads", default="2", help="threads each side; with --classic a list, e.g. 1,2")
    p.add_argument("--classic", action="store_true", help="the classic models' table")
    p.add_argument("--models", default="als,bpr,item-knn,user-knn,ease", help="with --classic")
    p.add_argument("--repeats", type=int, default=3, help="with --classic")
    p.add_argument("--classic-model", help=argparse.SUPPRESS)
    p.add_argument("--factors", type=int, default=32)
    p.add_argument("--negatives", type=int, default=4,
                   help="mf's sampled negatives per positive (1: BPR's one per positive)")
    p.add_argument("--dir", default="recsys-out/scale", help="where the synthetic file is kept")
    p.add_argument("--recsys", required=True, help="the recsys binary")
    p.add_argument("--json", action="store_true")
    p.add_argument("--implicit-child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.implicit_child and a.classic_model:
        implicit_classic_child(a.implicit_child, int(a.threads), a.factors, a.classic_model)
        return
    if a.implicit_child:
        implicit_child(a.implicit_child, int(a.threads), a.factors)
        return
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "POLARS_MAX_THREADS"):
        env[var] = str(a.threads)
    env["RECSYS_PROGRESS_SECS"] = env.get("RECSYS_PROGRESS_SECS", "10")
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, f"synth-{a.rows}-{a.users}-{a.items}.csv")
    if not os.path.exists(path):
        print(f"writing {path}", file=sys.stderr)
        cmd = [a.recsys, "--seed", "0", "data", "synth", path, "--rows", str(a.rows),
               "--users", str(a.users), "--items", str(a.items)]
        _, synth_s, _ = run_measured(cmd, env)
        print(f"wrote {path} in {synth_s:.1f} s", file=sys.stderr)
    if a.classic:
        classic_table(a, path, env)
        return
    a.threads = int(a.threads)
    rows = []
    cmd = [a.recsys, "--device", "cpu", "--seed", "0", "--json", "train", path,
           "--model", "mf", "--epochs", "1", "--dim", str(a.factors),
           "--negatives", str(a.negatives)]
    print("running: " + " ".join(cmd), file=sys.stderr)
    out, wall, rss = run_measured(cmd, env)
    r = json.loads(out)
    rows.append(("recsys mf (sparse-adam): one epoch", r["epoch_s"][0], rss))
    rows.append(("recsys mf: evaluation, all test users", r["eval_s"], rss))
    rows.append(("recsys mf: whole run (load, split, train, eval)", wall, rss))
    cmd = [sys.executable, __file__, "--recsys", a.recsys, "--threads", str(a.threads),
           "--factors", str(a.factors), "--implicit-child", path]
    print("running implicit (BPR, ALS) on the same file", file=sys.stderr)
    out, wall, rss = run_measured(cmd, env)
    i = json.loads(out.strip().splitlines()[-1])
    rows.append((f"implicit {i['version']} BPR: one epoch", i["bpr_epoch_s"], rss))
    rows.append((f"implicit {i['version']} ALS: one iteration", i["als_iteration_s"], rss))
    rows.append(("implicit: pandas read_csv", i["load_s"], rss))
    ratio = r["epoch_s"][0] / i["bpr_epoch_s"]
    # per positive: mf's epoch runs over the train part's positives, BPR's over every positive
    mf_positives = r["fingerprints"]["train"]["rows"]
    per_positive = (r["epoch_s"][0] / mf_positives) / (i["bpr_epoch_s"] / i["positives"])
    if a.json:
        print(json.dumps({"file": path, "threads": a.threads, "positives": i["positives"],
                          "rows": [{"what": w, "seconds": s, "peak_rss_bytes": m}
                                   for w, s, m in rows],
                          "negatives": a.negatives, "mf_train_positives": mf_positives,
                          "mf_epoch_over_bpr_epoch": ratio,
                          "per_positive_ratio": per_positive}, indent=2))
        return
    print(f"{path}: {a.rows} rows, {i['positives']} positives (rating > 3), "
          f"{a.threads} threads, factors {a.factors}")
    print(f"{'what':<50}{'seconds':>10}{'peak RSS GB':>13}")
    for what, secs, mem in rows:
        print(f"{what:<50}{secs:>10.1f}{mem / 2**30:>13.2f}")
    print(f"recsys mf epoch / implicit BPR epoch: {ratio:.2f}x (mf: {mf_positives} train positives, "
          f"each with {a.negatives} sampled negatives; BPR: {i['positives']} positives, one "
          f"negative each); per positive: {per_positive:.2f}x")


if __name__ == "__main__":
    main()
