#!/usr/bin/env python3
"""Compare two `recsys --seed S --json reproduce all` outputs number by number.

    recsys --seed 0 --json reproduce all > before.json   # with the old binary
    recsys --seed 0 --json reproduce all > after.json    # with the new one
    scripts/reproduce-diff.py before.json after.json

Timings (keys ending in `_s`, wall times, steps/s rows) and output paths are ignored. Prints
every other difference, then the floats that differ only within 1e-14 relative (last bits);
exits 1 when there is any difference beyond those.
"""
import json
import sys


def skip(key):
    key = key.lower()
    return key.endswith("_s") or any(
        t in key for t in ("wall", "seconds", "secs", "elapsed", "steps_per", "path", "plot", "out_dir", "written")
    )


def walk(a, b, where, out, ulps):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if skip(k):
                continue
            if k not in a or k not in b:
                out.append(f"{where}/{k}: only in {'new' if k in b else 'old'}")
                continue
            walk(a[k], b[k], f"{where}/{k}", out, ulps)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{where}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            if isinstance(x, dict) and "steps/s" in str(x.get("quantity", "")):
                continue
            walk(x, y, f"{where}[{i}]", out, ulps)
    elif a != b and isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-14 * max(abs(a), abs(b)):
        ulps.append(f"{where}: {a!r} vs {b!r}")
    elif a != b:
        if isinstance(a, str) and isinstance(b, str) and ("/tmp/" in a or "recsys-out" in a):
            return
        out.append(f"{where}: {a!r} vs {b!r}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f, open(sys.argv[2]) as g:
        old, new = json.load(f), json.load(g)
    out, ulps = [], []
    walk(old, new, "", out, ulps)
    print("\n".join(out))
    print(f"{len(out)} differences; {len(ulps)} within 1e-14 relative (last bits):")
    print("\n".join(ulps))
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    main()
