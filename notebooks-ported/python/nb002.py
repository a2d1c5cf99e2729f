"""PyTorch twin of `recsys notebook 002` (the Spotlight homework), without Spotlight.

It also prints the notebook's cells that show arrays (`train.__dict__`, `y_pred`, `X_train[:5]`,
the sequences' `train.__dict__`, `y_pred.round(2)`) with numpy's and torch's own reprs; `--json`
returns them under "cells".

Same pipeline as the Rust port, with every random draw made through torch in the same order, so
a seeded run prints the same counts and (up to float rounding) the same losses and metrics:

  part 1: torch.manual_seed(seed); randperm split 80/20; Spotlight-style explicit model
          (dim 32, N(0, (1/32)^2) init, zero biases, MSE, Adam lr 1e-2, batch 256, 3 epochs);
          mean-rating baseline; the exercise model (dim 20, Adam lr 0.01, weight decay 1e-3 and 0,
          10 epochs, batch 300) with train/test RMSE per epoch.
  part 2: torch.manual_seed(seed); user-based split by murmurhash3_32(user, seed drawn by
          torch.randint) % 100 < 20; windows of 10 from the end of each history; Spotlight's
          pooling model with the pointwise loss (3 epochs); MRR, LRAP, popularity baselines;
          then CBOW, GRU, LSTM with cross-entropy (each after torch.manual_seed(seed + 1000 k)).

The notebook draws no plot; its exercise asks for the train and test RMSE curves, which the
port draws as 002-cf-rmse.png. `--plots DIR` writes the same curves as DIR/002-cf-rmse.json
(title, axis labels, epochs, one list per line of the port's chart) for any plotting tool: the
project's Python has no matplotlib.

Usage: python nb002.py [--seed 0] [--part both|1|2] [--seq-epochs 10] [--plots DIR] [--json]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]


def log(*a):
    print(*a, file=sys.stderr if ARGS.json else sys.stdout)


def save_plot_data(name, title, xlabel, ylabel, series):
    """One of the port's charts as data: ARGS.plots/NAME.json (nothing without --plots)."""
    if not ARGS.plots:
        return
    Path(ARGS.plots).mkdir(parents=True, exist_ok=True)
    n = max(len(v) for v in series.values())
    chart = {"title": title, "x_label": xlabel, "y_label": ylabel, "x": list(range(1, n + 1)), "series": series}
    path = Path(ARGS.plots) / f"{name}.json"
    path.write_text(json.dumps(chart) + "\n")
    log(f"plot data: {path}")


def ipython_dict(entries):
    """A dict of reprs as Jupyter shows it when it does not fit on one line: one entry a line,
    a value's continuation lines indented by one more space."""
    items = [f"{k!r}: " + repr(v).replace("\n", "\n ") for k, v in entries.items()]
    return "{" + ",\n ".join(items) + "}"


def show(out, name, text):
    """Print one of the notebook's cells as the port prints it, and keep it for --json."""
    log(f"{name} =\n{text}")
    out["cells"][name] = text


def load():
    df = pd.read_csv(ROOT / "data/ml-100k/u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    return df


# ---- part 1 -------------------------------------------------------------------------------


def regression_epoch(opt, users, items, ratings, batch, predict):
    n = len(users)
    perm = torch.randperm(n)
    total, batches = 0.0, 0
    for s in range(0, n, batch):
        idx = perm[s:s + batch]
        loss = ((ratings[idx] - predict(users[idx], items[idx])) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
        batches += 1
    return total / batches


class Bilinear(torch.nn.Module):
    def __init__(self, nu, ni, dim):
        super().__init__()
        self.user_embeddings = torch.nn.Parameter(torch.randn(nu, dim) * (1.0 / dim) + 0.0)
        self.item_embeddings = torch.nn.Parameter(torch.randn(ni, dim) * (1.0 / dim) + 0.0)
        self.user_biases = torch.nn.Parameter(torch.zeros(nu, 1))
        self.item_biases = torch.nn.Parameter(torch.zeros(ni, 1))

    def forward(self, u, i):
        dot = (self.user_embeddings[u] * self.item_embeddings[i]).sum(1)
        return dot + self.user_biases[u].squeeze(1) + self.item_biases[i].squeeze(1)


def part1(df, seed, out):
    torch.manual_seed(seed)
    n = len(df)
    nu, ni = int(df.user_id.max()) + 1, int(df.item_id.max()) + 1
    log(f"<Interactions dataset ({nu} users x {ni} items x {n} interactions)>")
    perm = torch.randperm(n).numpy()
    cut = int((1.0 - 0.2) * n)
    tr, te = df.iloc[perm[:cut]], df.iloc[perm[cut:]]
    log(f"train / test: {len(tr)} / {len(te)}")
    t = lambda s, dt=torch.long: torch.tensor(s.to_numpy(), dtype=dt)
    tu, ti, tr_r = t(tr.user_id), t(tr.item_id), t(tr.rating, torch.float32)
    eu, ei, te_r = t(te.user_id), t(te.item_id), t(te.rating, torch.float32)
    as32 = lambda col, dt=np.int32: col.to_numpy().astype(dt)
    show(out, "train.__dict__", ipython_dict({
        "num_users": nu, "num_items": ni, "user_ids": as32(tr.user_id), "item_ids": as32(tr.item_id),
        "ratings": as32(tr.rating, np.float32), "timestamps": as32(tr.timestamp), "weights": None}))

    model = Bilinear(nu, ni, 32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.0)
    losses = [regression_epoch(opt, tu, ti, tr_r, 256, model) for _ in range(3)]
    log("explicit epoch losses:", [round(x, 4) for x in losses])
    with torch.no_grad():
        pred = model(eu, ei)
    show(out, "y_pred", repr(pred.numpy()))
    first = (repr(torch.stack([tu[:5], ti[:5]], 1)), repr(tr_r[:5]))
    show(out, "X_train[:5], y_train[:5]", "(" + ",\n ".join(r.replace("\n", "\n ") for r in first) + ")")
    rmse = ((te_r - pred) ** 2).mean().sqrt().item()
    mean = tr_r.mean()
    baseline = ((te_r - mean) ** 2).mean().sqrt().item()
    log(f"test RMSE {rmse:.7f}; mean-rating baseline {baseline:.4f}")
    out["epochs"] = losses
    out["metrics"].update(rmse=rmse, baseline_rmse=baseline)

    rmse = {}
    for wd in (1e-3, 0.0):
        net = Bilinear(nu, ni, 20)
        net.global_bias = torch.nn.Parameter(torch.full((1,), mean.item()))
        opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=wd)
        pred = lambda u, i: net(u, i) + net.global_bias
        curve = []
        for epoch in range(1, 11):
            loss = regression_epoch(opt, tu, ti, tr_r, 300, pred)
            with torch.no_grad():
                a = ((tr_r - pred(tu, ti)) ** 2).mean().sqrt().item()
                b = ((te_r - pred(eu, ei)) ** 2).mean().sqrt().item()
            curve.append([loss, a, b])
            log(f"wd {wd} epoch {epoch:2}: mean batch MSE {loss:.4f}, train RMSE {a:.4f}, test RMSE {b:.4f}")
        out["metrics"][f"cf_test_rmse_wd{wd}"] = curve[-1][2]
        out["losses"][f"cf_wd{wd}"] = [c[0] for c in curve]
        rmse[wd] = curve
    (wd, no_wd) = rmse[1e-3], rmse[0.0]
    save_plot_data("002-cf-rmse", "CollaborativeFilteringModel: RMSE per epoch", "epoch", "RMSE", {
        "train, weight decay 1e-3": [c[1] for c in wd],
        "test, weight decay 1e-3": [c[2] for c in wd],
        "train, no weight decay": [c[1] for c in no_wd],
        "test, no weight decay": [c[2] for c in no_wd],
    })


# ---- part 2 -------------------------------------------------------------------------------


def murmurhash3_32(key, seed):
    m = 0xFFFFFFFF
    k = key & m
    k = (k * 0xCC9E2D51) & m
    k = ((k << 15) | (k >> 17)) & m
    k = (k * 0x1B873593) & m
    h = seed ^ k
    h = ((h << 13) | (h >> 19)) & m
    h = (h * 5 + 0xE6546B64) & m
    h ^= 4
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & m
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & m
    return h ^ (h >> 16)


def to_sequences(df, max_len=10, step=10):
    df = df.sort_values(["user_id", "timestamp"], kind="stable")
    rows, users = [], []
    for user, items in df.groupby("user_id", sort=True)["item_id"]:
        items = items.to_numpy()
        for end in range(len(items), 0, -step):
            w = items[max(end - max_len, 0):end]
            rows.append(np.concatenate([np.zeros(max_len - len(w), dtype=np.int64), w]))
            users.append(user)
    return torch.tensor(np.array(rows), dtype=torch.long), np.array(users, dtype=np.int32)


def mrr_of(scores, targets):
    s = scores.numpy()
    t = s[np.arange(len(targets)), targets][:, None]
    rank = (s > t).sum(1) + ((s == t).sum(1) + 1) / 2
    return float((1.0 / rank).mean())


def lrap_of(scores, targets):
    s = np.asarray(scores)
    t = s[np.arange(len(targets)), targets][:, None]
    return float((1.0 / (s >= t).sum(1)).mean())


class Pool(torch.nn.Module):
    def __init__(self, ni, dim):
        super().__init__()
        w = torch.randn(ni, dim) * (1.0 / dim) + 0.0
        w[0] = 0
        self.emb = torch.nn.Parameter(w)
        self.bias = torch.nn.Parameter(torch.zeros(ni, 1))
        self.ni = ni

    def states(self, seqs):
        b, l = seqs.shape
        e = F.embedding(seqs, self.emb, padding_idx=0)
        sums = torch.cat([torch.zeros(b, 1, e.shape[2]), e], 1).cumsum(1)
        counts = torch.cat([torch.zeros(b, 1), (seqs != 0).float()], 1).cumsum(1)
        st = sums / (counts + 1.0).unsqueeze(-1)
        return st[:, :l], st[:, l]

    def score(self, st, targets):
        e = F.embedding(targets, self.emb, padding_idx=0)
        return (st * e).sum(-1) + F.embedding(targets, self.bias, padding_idx=0).squeeze(-1)

    def loss(self, seqs):
        st, _ = self.states(seqs)
        pos = self.score(st, seqs)
        neg_items = torch.randint(self.ni, seqs.shape)
        neg = self.score(st, neg_items)
        mask = (seqs != 0).float()
        return ((-pos.sigmoid() + 1.0 + neg.sigmoid()) * mask).sum() / mask.sum()

    def next(self, prefixes):
        _, last = self.states(prefixes)
        return last @ self.emb.t() + self.bias.squeeze(1)


class Softmax(torch.nn.Module):
    def __init__(self, ni, kind, dim=64, hidden=64):
        super().__init__()
        w = torch.randn(ni, dim)
        w[0] = 0
        self.emb = torch.nn.Parameter(w)
        self.rnn = None
        ctx = dim
        if kind in ("gru", "lstm"):
            cls = torch.nn.GRU if kind == "gru" else torch.nn.LSTM
            self.rnn = cls(dim, hidden, batch_first=True)  # draws w_ih, w_hh, b_ih, b_hh uniform
            ctx = hidden
        k = 1.0 / math.sqrt(ctx)
        self.out_w = torch.nn.Parameter(torch.empty(ni, ctx).uniform_(-k, k))
        self.out_b = torch.nn.Parameter(torch.empty(ni).uniform_(-k, k))

    def contexts(self, seqs):
        e = F.embedding(seqs, self.emb, padding_idx=0)
        if self.rnn is not None:
            return self.rnn(e)[0]
        n = (seqs != 0).float().cumsum(1)
        return e.cumsum(1) / n.clamp_min(1.0).unsqueeze(-1)

    def loss(self, seqs):
        logits = F.linear(self.contexts(seqs[:, :-1]), self.out_w, self.out_b)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), seqs[:, 1:].reshape(-1), ignore_index=0)

    def next(self, prefixes):
        return F.linear(self.contexts(prefixes)[:, -1], self.out_w, self.out_b)


def fit(model, seqs, epochs, batch, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(seqs))
        total, nb = 0.0, 0
        for s in range(0, len(seqs), batch):
            loss = model.loss(seqs[perm[s:s + batch]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            nb += 1
        losses.append(total / nb)
    return losses


def part2(df, seed, out, seq_epochs):
    torch.manual_seed(seed)
    ni = int(df.item_id.max()) + 1
    hash_seed = int(torch.randint(0, 2**32 - 1, (1,)).item())
    users = df.user_id.unique()
    in_test = {u: murmurhash3_32(int(u), hash_seed) % 100 / 100.0 < 0.2 for u in users}
    mask = df.user_id.map(in_test).to_numpy()
    (train, train_users), (test, _) = to_sequences(df[~mask]), to_sequences(df[mask])
    log(f"hash seed {hash_seed}; train {len(train)} sequences, test {len(test)} sequences")
    out["metrics"].update(train_sequences=len(train), test_sequences=len(test))
    prefixes, targets = test[:, :-1], test[:, -1].numpy()

    model = Pool(ni, 32)
    t0 = time.time()
    losses = fit(model, train, 3, 256, 1e-2)
    with torch.no_grad():
        scores = model.next(prefixes)
    mrr = mrr_of(scores, targets)
    probs = torch.softmax(scores, -1).numpy()
    lrap = lrap_of(probs, targets)
    log(f"pooling losses {[round(x, 4) for x in losses]}; MRR {mrr}; LRAP {lrap}; {time.time() - t0:.1f} s")
    out["losses"]["pooling"] = losses
    out["metrics"].update(pooling_mrr=mrr, pooling_lrap=lrap)
    show(out, "train.__dict__ (sequences)", ipython_dict({
        "sequences": train.numpy().astype(np.int32), "user_ids": train_users,
        "max_sequence_length": train.shape[1], "num_items": ni}))
    show(out, "y_pred.round(2)", repr(probs.round(2)))

    last = train[:, -1].numpy()
    counts = np.bincount(last, minlength=ni).astype(float)
    popular = int(pd.Series(last).value_counts(sort=False).idxmax())  # first seen among the max
    one = np.zeros(ni)
    one[popular] = 1
    mp = lrap_of(np.tile(one, (len(targets), 1)), targets)
    p = np.exp(counts - counts.max())
    sp = lrap_of(np.tile(p / p.sum(), (len(targets), 1)), targets)
    log(f"most popular item {popular}: LRAP {mp}; softmax popularity LRAP {sp}")
    out["metrics"].update(most_popular=mp, softmax_popularity=sp)

    for k, kind in ((1, "cbow"), (2, "gru"), (3, "lstm")):
        torch.manual_seed(seed + 1000 * k)
        model = Softmax(ni, kind)
        t0 = time.time()
        losses = fit(model, train, seq_epochs, 128, 2e-3)
        with torch.no_grad():
            m = mrr_of(model.next(prefixes), targets)
        log(f"{kind}: losses {[round(x, 3) for x in losses]}; MRR {m:.4f}; {time.time() - t0:.1f} s")
        out["losses"][kind] = losses
        out["metrics"][f"{kind}_mrr"] = m


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", choices=["1", "2", "both"], default="both")
    ap.add_argument("--seq-epochs", type=int, default=10)
    ap.add_argument("--plots", metavar="DIR", help="write the data of the port's plot as JSON into DIR")
    ap.add_argument("--json", action="store_true")
    ARGS = ap.parse_args()
    # Print summarised arrays as the notebook's numpy did: numpy 2.2 added "shape=(n,)" to them.
    np.set_printoptions(legacy="2.1")
    torch.set_num_threads(1)
    start = time.time()
    out = {"epochs": [], "losses": {}, "metrics": {}, "cells": {}}
    df = load()
    if ARGS.part != "2":
        part1(df, ARGS.seed, out)
    if ARGS.part != "1":
        part2(df, ARGS.seed, out, ARGS.seq_epochs)
    out["wall_s"] = time.time() - start
    if ARGS.json:
        print(json.dumps(out))
