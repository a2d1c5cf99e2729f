#!/usr/bin/env python3
"""Run one notebook port over several seeds and print mean ± sd of its numbers (markdown).

The README's "over 5 seeds" tables come from this script. Each run is
    target/release/recsys --device cpu --seed S --json --out <scratch dir> notebook NNN [FLAGS]
and the table holds every check the port reports (the notebook's value, the band, and how many
seeds landed in it), plus the scalar `details` fields whose path matches --details.

    scripts/seeds.py 004 --seeds 0-4
    scripts/seeds.py 000 --seeds 1-5 --details 'ndcg@10|hit_rate@10' -- --no-neumf
    scripts/seeds.py 003 --seeds 1-5 --save runs-003.json

Build first (`cargo build --release`, or run `scripts/recsys doctor` once). Standard library only.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_seeds(text):
    """'1-5' or '0,3,7' -> list of ints."""
    seeds = []
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    if not seeds:
        raise SystemExit("--seeds: no seed given")
    return seeds


def number(text):
    """The value of a check's `this_run` when it is one number, else None."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def flatten(node, path=""):
    """Numeric leaves of a JSON tree as (path, value). Short lists (at most 5 numbers, such as a
    metric at k = 5, 10, 30) give one leaf per element; longer ones (per-epoch curves) none."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from flatten(child, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        if all(isinstance(x, dict) for x in node):
            for i, child in enumerate(node):
                label = child.get("mode") or child.get("name") or str(i)
                yield from flatten(child, f"{path}[{label}]")
        elif len(node) <= 5:
            for i, child in enumerate(node):
                yield from flatten(child, f"{path}[{i}]")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, float(node)


def mean_sd(values):
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, sd


def digits(values):
    """Decimals to show: enough for the smallest spread, at least 3 and at most 6."""
    spread = max(values) - min(values)
    if spread == 0:
        return 4
    return min(6, max(3, 2 - int(math.floor(math.log10(spread)))))


def run(binary, notebook, seed, flags, out_root):
    out = Path(out_root) / f"{notebook}-seed{seed}"
    cmd = [str(binary), "--device", "cpu", "--seed", str(seed), "--json", "--out", str(out),
           "notebook", notebook, *flags]
    print("$ " + " ".join(cmd), file=sys.stderr)
    start = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"seed {seed}: recsys exited with {proc.returncode}:\n{tail}")
    report = json.loads(proc.stdout)
    report["wall_s_outside"] = time.time() - start
    return report


def table(reports, details_pattern):
    rows = {}
    for report in reports:
        for check in report.get("checks", []):
            value = number(check.get("this_run"))
            if value is None:
                continue
            row = rows.setdefault(check["quantity"], {
                "notebook": check.get("notebook", ""), "band": check.get("band", ""),
                "values": [], "statuses": []})
            row["values"].append(value)
            row["statuses"].append(check.get("status"))
        if details_pattern:
            for path, value in flatten(report.get("details", {})):
                if re.search(details_pattern, path):
                    rows.setdefault(path, {"notebook": "", "band": "", "values": [],
                                           "statuses": []})["values"].append(value)
    lines = ["| quantity | notebook | mean ± sd | min – max | band | in band |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        values, statuses = row["values"], row["statuses"]
        judged = [s for s in statuses if s in ("exact", "within_band", "differs")]
        in_band = f"{sum(s != 'differs' for s in judged)}/{len(judged)}" if judged else ""
        band = row["band"] or ("exact" if "exact" in statuses else "")
        if min(values) == max(values):
            lines.append(f"| {name} | {row['notebook']} | {values[0]:g} (every seed) | | "
                         f"{band} | {in_band} |")
            continue
        mean, sd = mean_sd(values)
        d = digits(values)
        lines.append(f"| {name} | {row['notebook']} | {mean:.{d}f} ± {sd:.{d}f} | "
                     f"{min(values):.{d}f} – {max(values):.{d}f} | {band} | {in_band} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="Flags after -- go to the notebook.")
    p.add_argument("notebook", choices=["000", "001", "002", "003", "004"])
    p.add_argument("--seeds", default="1-5", help="e.g. 1-5 or 0,2,4 (default 1-5)")
    p.add_argument("--details", default="", help="regex of `details` paths to add as rows")
    p.add_argument("--binary", default=None, help="recsys binary (default: the release build)")
    p.add_argument("--save", default=None, help="also write every run's JSON report here")
    p.add_argument("--load", nargs="+", default=None,
                   help="tabulate these saved reports (one `--json` report or a --save list "
                        "per file) instead of running")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = p.parse_args(argv[:cut])
    flags = argv[cut + 1:]
    seeds = parse_seeds(a.seeds)
    if a.save and Path(a.save).exists():
        raise SystemExit(f"--save {a.save}: the file exists; choose another name")
    if a.load:
        reports = []
        for path in a.load:
            loaded = json.loads(Path(path).read_text())
            reports += loaded if isinstance(loaded, list) else [loaded]
        print(table(reports, a.details))
        return
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = Path(a.binary) if a.binary else target / "release" / "recsys"
    if not binary.exists():
        raise SystemExit(f"{binary} not found: run `cargo build --release` first")
    with tempfile.TemporaryDirectory(prefix="recsys-seeds-") as scratch:
        reports = [run(binary, a.notebook, s, flags, scratch) for s in seeds]
    if a.save:
        Path(a.save).write_text(json.dumps(reports, indent=1))
    cmd = f"scripts/seeds.py {a.notebook} --seeds {a.seeds}" + (
        f" --details '{a.details}'" if a.details else "") + (f" -- {' '.join(flags)}" if flags else "")
    walls = [r["wall_s_outside"] for r in reports]
    print(f"`{cmd}` ({len(seeds)} seeds; wall time per run {min(walls):.0f}–{max(walls):.0f} s)\n")
    print(table(reports, a.details))


if __name__ == "__main__":
    main()
