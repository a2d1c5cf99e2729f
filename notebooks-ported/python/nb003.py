"""PyTorch twin of `recsys notebook 003`: two-tower DSSM on MovieLens 100k.

Same pipeline and the same torch draws, in the same order, as notebooks-ported/nb003/:
pandas preprocessing (MinCountFilter(20), TimeSplitter(0.2) with ties to test and cold
users/items dropped, LowRatingFilter(4), sorted label encoders); torch.manual_seed(seed); the
demo batch of 2 over train is drawn first (randperm(n_train), randint for its negatives), then
the user table before the item table; each epoch draws randperm(n) then
randint(0, range, (n, negatives)) for the training pass, and randint for the test pass.
--negatives-over: `distinct` draws negatives from 0..(distinct items of the loader's data), the
notebook's literal num_items (637 for the filtered test set); `all-items` from 0..n_items.

    python nb003.py [--mode faithful|corrected] [--negatives-over all-items|distinct] [--seed 123]
                    [--batch-size 256] [--lr 0.01] [--json]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "ml-100k", "u.data")


def prepare():
    ratings = pd.read_csv(DATA, sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    counts = ratings.groupby("user_id")["user_id"].transform("size")
    data = ratings[counts >= 20]
    s = data.sort_values("timestamp", kind="stable")
    threshold = s["timestamp"].iloc[int(len(s) * (1 - 0.2))]
    train, test_all = s[s["timestamp"] < threshold], s[s["timestamp"] >= threshold]
    warm = test_all[test_all["user_id"].isin(train["user_id"]) & test_all["item_id"].isin(train["item_id"])]
    test = warm[warm["rating"] >= 4]
    users, items = np.sort(train["user_id"].unique()), np.sort(train["item_id"].unique())
    enc_u = {u: i for i, u in enumerate(users)}
    enc_i = {v: i for i, v in enumerate(items)}
    sizes = dict(ratings=len(ratings), after_min_count=len(data), train=len(train), test=len(test_all),
                 test_warm=len(warm), test_warm_users=warm["user_id"].nunique(),
                 test_filtered=len(test), test_filtered_users=test["user_id"].nunique(),
                 n_users=len(users), n_items=len(items))
    enc = lambda df: (np.array([enc_u[u] for u in df["user_id"]]), np.array([enc_i[i] for i in df["item_id"]]))
    return enc(train), enc(test), sizes


class BaseTwoHead(nn.Module):
    def __init__(self, n_users, n_items, dim):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)

    def forward(self, users, items):
        return (self.user_emb(users).unsqueeze(1) * self.item_emb(items)).sum(-1)


def passes(users, items, n_items, negatives, batch_size, shuffle):
    n = len(users)
    if shuffle:
        order = torch.randperm(n)
        users, items = users[order], items[order]
    negs = torch.randint(0, n_items, (n, negatives))
    all_items = torch.cat([items.unsqueeze(1), negs], 1)
    labels = torch.zeros(n, negatives + 1)
    labels[:, 0] = 1.0
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        yield users[sl], all_items[sl], labels[sl]


def metrics(recs, test_u, test_i, k, n_items):
    truth = {}
    for u, i in zip(test_u.tolist(), test_i.tolist()):
        truth.setdefault(u, set()).add(i)
    ndcg = hr = 0.0
    for u, rel in truth.items():
        ranked = recs.get(u, [])[:k]
        dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked) if i in rel)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(rel))))
        ndcg += dcg / idcg
        hr += float(any(i in rel for i in ranked))
    cov = len({i for r in recs.values() for i in r[:k]}) / n_items
    return {"ndcg": ndcg / len(truth), "hit_rate": hr / len(truth), "coverage": cov}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["faithful", "corrected"], default="faithful")
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--negatives", type=int, default=10)
    p.add_argument("--negatives-over", choices=["distinct", "all-items"], default="all-items")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    say = (lambda *x: print(*x, file=sys.stderr)) if a.json else print
    (tr_u, tr_i), (te_u, te_i), sizes = prepare()
    for key, v in sizes.items():
        say(key, v)
    torch.manual_seed(a.seed)
    n_items = sizes["n_items"]

    def neg_range(items):
        return len(np.unique(items)) if a.negatives_over == "distinct" else n_items

    # the demo batch of 2 from a dataset over train (printed by the port; drawn here in step)
    tr_t, tr_it = torch.tensor(tr_u), torch.tensor(tr_i)
    next(passes(tr_t, tr_it, neg_range(tr_i), a.negatives, 2, True))
    model = BaseTwoHead(sizes["n_users"], n_items, 16)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    fit_u, fit_i = (tr_u, tr_i) if a.mode == "corrected" else (te_u, te_i)
    fit_range, ev_range = neg_range(fit_i), neg_range(te_i)
    fit_u, fit_i = torch.tensor(fit_u), torch.tensor(fit_i)
    ev_u, ev_i = torch.tensor(te_u), torch.tensor(te_i)
    epochs, start = [], time.time()
    for epoch in range(a.epochs):
        tot, nb = 0.0, 0
        for u, i, y in passes(fit_u, fit_i, fit_range, a.negatives, a.batch_size, True):
            loss = loss_fn(model(u, i), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot, nb = tot + loss.item(), nb + 1
        train_loss = tot / nb
        with torch.no_grad():
            tot, nb = 0.0, 0
            for u, i, y in passes(ev_u, ev_i, ev_range, a.negatives, a.batch_size, False):
                tot, nb = tot + loss_fn(model(u, i), y).item(), nb + 1
        test_loss = tot / nb
        epochs.append([train_loss, test_loss])
        say(f"epoch {epoch + 1:>2}  train loss {train_loss:.4f}  test loss {test_loss:.4f}")
    wall = time.time() - start
    users = list(dict.fromkeys(te_u.tolist()))
    with torch.no_grad():
        scores = (model.user_emb.weight[users] @ model.item_emb.weight.T).numpy()
    top = np.argsort(-scores, axis=1, kind="stable")[:, : a.k]
    recs = {u: row.tolist() for u, row in zip(users, top)}
    m = metrics(recs, te_u, te_i, a.k, n_items)
    say(f"NDCG@{a.k} {m['ndcg']:.6f}  HitRate@{a.k} {m['hit_rate']:.6f}  Coverage@{a.k} {m['coverage']:.6f}")
    if a.json:
        print(json.dumps({"epochs": epochs, "metrics": m, "wall_s": wall}))


if __name__ == "__main__":
    main()
