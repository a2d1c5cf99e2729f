#!/usr/bin/env python3
"""The reference numbers of recsys' comparison statistics, the metrics other libraries report
and PMF, each computed by the library that defines it. The Rust tests hold these values
(src/eval/comparison.rs, src/eval/auc.rs, src/eval/user_errors.rs, src/classic/pmf.rs,
tests/comparisons.rs) and name this script beside them.

    .venv/bin/pip install scipy statsmodels scikit-learn cornac
    .venv/bin/python scripts/reference-metrics.py            # every section
    .venv/bin/python scripts/reference-metrics.py pmf-ml100k # one section

Versions measured: scipy 1.17.1, statsmodels 0.15.0, scikit-learn 1.9.1, Cornac 3.0.1,
numpy 2.4.6 (Python 3.11).
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def show(name, value):
    if isinstance(value, (list, tuple, np.ndarray)):
        print(f"{name} = [{', '.join(repr(float(v)) for v in value)}]")
    else:
        print(f"{name} = {float(value)!r}")


def holm():
    from statsmodels.stats.multitest import multipletests

    for p in ([0.01, 0.04, 0.03, 0.005, 0.20, 0.04], [0.5, 0.3, 0.02, 0.9], [0.001]):
        show(f"holm{p}", multipletests(p, method="holm")[1])


def duplicates():
    """The per-user values of src/eval/comparison_tests.rs' duplicated-seeds test."""
    from scipy.stats import wilcoxon

    a = [0.3 + ((u * 37) % 11) / 40 for u in range(60)]
    b = [x - 0.013 + ((u * 13) % 7) / 300 for u, x in enumerate(a)]
    for n in (1, 2, 5):
        p = wilcoxon(a * n, b * n, method="approx", correction=False).pvalue
        show(f"wilcoxon p, the 60 pairs repeated {n} time(s)", p)


def kendall():
    from scipy.stats import kendalltau

    a = [0.91, 0.87, 0.95, 0.78, 0.88, 0.93, 0.85, 0.90, 0.82, 0.89]
    b = [0.89, 0.88, 0.91, 0.75, 0.88, 0.90, 0.86, 0.85, 0.80, 0.84]
    cases = {
        "five": ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]),
        "three": ([0.3, 0.2, 0.1], [0.1, 0.3, 0.2]),
        "ten_with_ties": (a, b),
        "ties": ([1, 1, 2, 3, 3, 4], [2, 1, 1, 3, 4, 4]),
        "forty": (list(range(40)), [(i * 17) % 41 for i in range(40)]),
        "forty_one_swap": (list(range(40)), [1, 0] + list(range(2, 40))),
        "twelve": (list(range(12)), [3, 0, 1, 7, 2, 5, 4, 11, 9, 6, 10, 8]),
    }
    for name, (x, y) in cases.items():
        r = kendalltau(x, y)
        show(f"kendall {name} (tau, p)", [r.statistic, r.pvalue])


FRIEDMAN = [  # datasets × models
    [0.30, 0.25, 0.28, 0.10],
    [0.41, 0.40, 0.39, 0.20],
    [0.22, 0.23, 0.21, 0.05],
    [0.35, 0.30, 0.30, 0.15],
    [0.50, 0.45, 0.47, 0.44],
]


def friedman():
    from scipy.stats import friedmanchisquare, rankdata

    t = np.array(FRIEDMAN)
    r = friedmanchisquare(*t.T)
    show("friedman (statistic, p)", [r.statistic, r.pvalue])
    show("friedman mean ranks (best = 1)", rankdata(-t, axis=1).mean(axis=0))


# Scores of 12 candidate items for one user; positives and negatives by index.
SCORES = [0.9, 0.1, 0.75, 0.3, 0.6, 0.05, 0.8, 0.45, 0.2, 0.55, 0.35, 0.7]
POS = [0, 3, 7, 10]
NEG = [1, 2, 4, 5, 6, 8, 9, 11]
TIED = [0.5, 0.2, 0.5, 0.3, 0.8, 0.2, 0.5, 0.3, 0.1, 0.8, 0.3, 0.5]


def auc_map():
    from cornac.metrics import AUC, MAP
    from sklearn.metrics import roc_auc_score

    for name, scores in (("distinct", SCORES), ("tied", TIED)):
        s = np.array(scores)
        items = np.array(sorted(POS + NEG))
        y = np.isin(items, POS).astype(int)
        show(f"sklearn roc_auc_score {name}", roc_auc_score(y, s[items]))
        show(f"cornac AUC {name}", AUC().compute(item_indices=items, pd_scores=s[items],
                                                 gt_pos=np.array(POS), gt_neg=np.array(NEG)))
        show(f"cornac MAP {name}", MAP().compute(item_indices=items, pd_scores=s[items],
                                                 gt_pos=np.array(POS)))
    # Candidates that leave items 5 and 8 out (say, the user's positives in train).
    s = np.array(SCORES)
    neg = [i for i in NEG if i not in (5, 8)]
    items = np.array(sorted(POS + neg))
    show("cornac AUC without 5, 8", AUC().compute(item_indices=items, pd_scores=s[items],
                                                  gt_pos=np.array(POS), gt_neg=np.array(neg)))
    show("cornac MAP without 5, 8", MAP().compute(item_indices=items, pd_scores=s[items],
                                                  gt_pos=np.array(POS)))


# (user, item, rating, prediction) test rows of three users.
ERRORS = [
    (1, 10, 4.0, 3.5), (1, 11, 2.0, 2.9), (1, 12, 5.0, 4.1),
    (2, 10, 3.0, 3.2),
    (3, 11, 1.0, 2.5), (3, 13, 4.0, 3.0),
]


def user_errors():
    from cornac.data import Dataset
    from cornac.eval_methods.base_method import rating_eval
    from cornac.metrics import MAE, RMSE

    test = Dataset.from_uir([(str(u), str(i), r) for u, i, r, _ in ERRORS])
    preds = {(test.uid_map[str(u)], test.iid_map[str(i)]): p for u, i, _, p in ERRORS}

    class Stub:
        def rate(self, u, i):
            return np.array(preds[(u, i)])

    for user_based in (False, True):
        avg, _ = rating_eval(Stub(), [RMSE(), MAE()], test, user_based=user_based)
        show(f"cornac rating_eval user_based={user_based} (RMSE, MAE)", avg)


TINY = [  # (user, item, rating): three users, four items, in train order
    (0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0), (1, 2, 1.0), (2, 1, 2.0), (2, 3, 5.0), (0, 3, 4.0),
]


def pmf_tiny():
    import cornac
    from cornac.data import Dataset

    show("RandomState(7).normal(0, 0.001, 5)", np.random.RandomState(7).normal(0, 0.001, 5))
    train = Dataset.from_uir([(str(u), str(i), r) for u, i, r in TINY])
    pairs = [(u, i) for u in range(3) for i in range(4)]
    for variant in ("non_linear", "linear"):
        m = cornac.models.PMF(k=2, max_iter=3, learning_rate=0.1, lambda_reg=0.01,
                              variant=variant, seed=7)
        m.fit(train)
        show(f"cornac PMF tiny {variant} U", m.U.ravel())
        show(f"cornac PMF tiny {variant} V", m.V.ravel())
        show(f"cornac PMF tiny {variant} rate", [m.rate(u, i) for u, i in pairs])


def pmf_ml100k():
    """Cornac's PMF with its defaults (seed 123) on ml-100k in file order: every fifth row
    (row index % 5 == 0) is test, the others train; test rows of unknown users or items dropped
    (Cornac's exclude_unknowns)."""
    import cornac
    from cornac.eval_methods import BaseMethod
    from cornac.eval_methods.base_method import rating_eval
    from cornac.metrics import MAE, RMSE

    rows = [line.split("\t")[:3] for line in (ROOT / "data/ml-100k/u.data").read_text().splitlines()]
    rows = [(u, i, float(r)) for u, i, r in rows]
    train = [r for n, r in enumerate(rows) if n % 5 != 0]
    test = [r for n, r in enumerate(rows) if n % 5 == 0]
    bm = BaseMethod.from_splits(train_data=train, test_data=test, exclude_unknowns=True)
    for variant in ("non_linear", "linear"):
        m = cornac.models.PMF(seed=123, variant=variant)
        m.fit(bm.train_set)
        for user_based in (False, True):
            avg, _ = rating_eval(m, [RMSE(), MAE()], bm.test_set, user_based=user_based)
            show(f"cornac PMF ml-100k {variant} user_based={user_based} (RMSE, MAE)", avg)
        show(f"cornac PMF ml-100k {variant} U[0]", m.U[0])
    print("test ratings kept", len(bm.test_set.uir_tuple[0]))


def cornac_ratio():
    """Cornac's README example on ml-100k in file order: RatioSplit(test_size=0.2,
    rating_threshold=4.0, seed=123), MF, PMF and BPR at the README's settings, with MostPop
    beside them, metrics MAE RMSE AUC MAP NDCG@10 P@10 R@10 (rating errors averaged per user,
    user_based=True, as the README runs it). tests/cornac_ratio.rs holds MostPop's and PMF's rows;
    docs/experiment.md sets all four beside `recsys experiment --protocol cornac-ratio`."""
    import cornac
    from cornac.eval_methods import RatioSplit
    from cornac.metrics import AUC, MAE, MAP, NDCG, RMSE, Precision, Recall

    rows = [line.split("\t")[:3] for line in (ROOT / "data/ml-100k/u.data").read_text().splitlines()]
    rows = [(u, i, float(r)) for u, i, r in rows]
    rs = RatioSplit(data=rows, test_size=0.2, rating_threshold=4.0, seed=123, exclude_unknowns=True)
    print("train ratings", rs.train_set.num_ratings, "test ratings", rs.test_set.num_ratings)
    metrics = [MAE(), RMSE(), AUC(), MAP(), NDCG(k=10), Precision(k=10), Recall(k=10)]
    models = [
        cornac.models.MostPop(),
        cornac.models.MF(k=10, max_iter=25, learning_rate=0.01, lambda_reg=0.02, use_bias=True, seed=123),
        cornac.models.PMF(k=10, max_iter=100, learning_rate=0.001, lambda_reg=0.001, seed=123),
        cornac.models.BPR(k=10, max_iter=200, learning_rate=0.001, lambda_reg=0.01, seed=123),
    ]
    names = [m.name for m in metrics]
    print("columns", names)
    for model in models:
        # one fit per model: evaluate() refits, and a second fit starts from the first's state
        result, _ = rs.evaluate(model, metrics, user_based=True)
        values = [result.metric_avg_results[n] for n in names]
        show(f"cornac-ratio {model.name} user_based=True", values)


SECTIONS = {
    "holm": holm,
    "duplicates": duplicates,
    "kendall": kendall,
    "friedman": friedman,
    "auc-map": auc_map,
    "user-errors": user_errors,
    "pmf-tiny": pmf_tiny,
    "pmf-ml100k": pmf_ml100k,
    "cornac-ratio": cornac_ratio,
}

if __name__ == "__main__":
    for name in sys.argv[1:] or SECTIONS:
        print(f"## {name}")
        SECTIONS[name]()
