#!/usr/bin/env python3
"""The numpy draws src/rng/numpy.rs is tested against (src/rng/numpy_fixtures.txt).

    /work/main/.venv/bin/python scripts/numpy-random-fixtures.py > src/rng/numpy_fixtures.txt

Each block: a `# name` line, one `repr` per line, a blank line. The numpy version is the first line.
"""
import numpy as np


def block(name, values):
    print(f"# {name}")
    for v in values:
        print(repr(float(v)) if isinstance(v, (float, np.floating)) else int(v))
    print()


print(f"numpy {np.__version__}")
print()
rs = np.random.RandomState(0)
block("random_sample seed 0 n 1000", rs.random_sample(1000))
block("random_sample seed 123456789 n 10", np.random.RandomState(123456789).random_sample(10))
rs = np.random.RandomState(0)
block("normal seed 0 loc 0 scale 0.1 n 1001", rs.normal(0, 0.1, size=1001))
block("then normal loc 3.5 scale 1.2 n 1000", rs.normal(3.5, 1.2, size=1000))
rs = np.random.RandomState(0)
block("normal seed 0 loc 3.52986 scale 1.12695 one at a time n 7",
      [rs.normal(3.52986, 1.12695) for _ in range(7)])
rs = np.random.RandomState(0)
block("uniform seed 0 0 1 n 500", rs.uniform(0, 1, size=500))
block("then uniform -2 3 n 10", rs.uniform(-2, 3, size=10))
rs = np.random.RandomState(0)
block("randint seed 0 high 3 n 1000", rs.randint(3, size=1000))
block("then randint high 1000 n 50", rs.randint(1000, size=50))
rs.randint(1, size=3)
block("then randint high 1 n 3, high 2^32 n 5", rs.randint(2**32, size=5, dtype=np.int64))
rs = np.random.RandomState(0)
idx = np.arange(100000)
rs.shuffle(idx)
block("permutation seed 0 n 100000 first 1000", idx[:1000])
block("permutation seed 0 n 100000 last 10", idx[-10:])
x = np.arange(0, 100, 10)
rs.shuffle(x)
block("then shuffle arange(0, 100, 10)", x)
# np.mean's pairwise summation (Surprise's accuracy.rmse/mae and global_mean use np.mean).
sizes = [5, 7, 8, 9, 100, 128, 129, 1000, 8192, 8193, 20000, 100000]
block("mean of random_sample(n) seed 1, n in " + " ".join(map(str, sizes)),
      [np.mean(list(np.random.RandomState(1).random_sample(n))) for n in sizes])
# np.dot of float64 vectors (OpenBLAS' ddot; its Haswell kernel on the machine that made them).
rs = np.random.RandomState(5)
dots = []
for n in [15, 20, 100, 37]:
    for _ in range(5):
        x, y = rs.normal(0, 1, n), rs.normal(0, 1, n)
        dots.append(np.dot(x, y))
block("dot of normal(0, 1, n) pairs seed 5, five per n in 15 20 100 37", dots)
