#!/usr/bin/env python3
"""Notebook 003's two readings of its lost negatives line, set beside the notebook's printed
figures over several seeds and several plausible lost settings (batch size, learning rate).

Each run is
    recsys --device cpu --seed S --json notebook 003 --mode faithful --negatives-over R \
        --batch-size B --lr LR
and the table holds mean ± sd (min – max) of every figure over the seeds, one column per
(reading, batch size, lr). The docs/nb003.md comparison table comes from

    scripts/nb003-negatives.py --seeds 1-10

Build first (`cargo build --release`). Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (figure, path in details.modes.faithful, what the notebook printed)
FIGURES = [
    ("NDCG@10", ("metrics", "ndcg"), "0.0345"),
    ("HitRate@10", ("metrics", "hit_rate"), "0.221"),
    ("Coverage@10", ("metrics", "coverage"), "0.191"),
    ("train loss, epoch 30", ("final_train_loss",), "not printed"),
    ("test loss, epoch 30", ("final_test_loss",), "not printed"),
    ("mean score, items 0..636", ("scores", "mean_head_items"), "not printed"),
    ("mean score, items 637..1615", ("scores", "mean_tail_items"), "not printed"),
    ("printed last 3 columns: min", ("scores", "printed_last_cols_min"), "−6.33"),
    ("printed last 3 columns: max", ("scores", "printed_last_cols_max"), "−1.79"),
    ("printed last 3 columns: share < 0", ("scores", "printed_last_cols_negative"), "1 (18/18)"),
    ("top-10 scores, first 5 users: min", ("scores", "top10_min"), "−0.025"),
    ("top-10 scores, first 5 users: max", ("scores", "top10_max"), "3.88"),
]

SETTINGS = [(256, 0.01), (256, 0.001), (64, 0.01), (32, 0.01), (256, 0.05), (1024, 0.01)]
READINGS = ["distinct", "all-items"]


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    return seeds


def run(binary, seed, reading, batch, lr):
    cmd = [binary, "--device", "cpu", "--seed", str(seed), "--json", "notebook", "003",
           "--mode", "faithful", "--negatives-over", reading, "--batch-size", str(batch),
           "--lr", str(lr)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["details"]["modes"]["faithful"]


def pick(run_json, path):
    node = run_json
    for key in path:
        node = node[key]
    return float(node)


def cell(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3g} ± {sd:.2g} ({min(values):.3g} – {max(values):.3g})"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1-10")
    default_bin = os.path.join(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"), "release", "recsys")
    p.add_argument("--binary", default=str(default_bin))
    p.add_argument("--settings", default=None,
                   help="batch:lr pairs, e.g. 256:0.01,64:0.01 (default: the docs table's six)")
    a = p.parse_args()
    seeds = parse_seeds(a.seeds)
    settings = SETTINGS
    if a.settings:
        settings = [(int(b), float(lr)) for b, lr in (x.split(":") for x in a.settings.split(","))]
    columns = [(r, b, lr) for r in READINGS for (b, lr) in settings]
    results = {}
    for col in columns:
        results[col] = [run(a.binary, s, *col) for s in seeds]
        print(f"done {col}", file=sys.stderr)
    print(f"Seeds {a.seeds} ({len(seeds)} runs per column), faithful mode; mean ± sd (min – max).\n")
    head = "| figure | notebook | " + " | ".join(f"`{r}` b{b} lr{lr}" for r, b, lr in columns) + " |"
    print(head)
    print("|---" * (len(columns) + 2) + "|")
    for name, path, printed in FIGURES:
        cells = [cell([pick(x, path) for x in results[col]]) for col in columns]
        print(f"| {name} | {printed} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
