"""PyTorch twin of the Rust port of notebook 000 (`recsys notebook 000`).

Same pipeline with pandas preprocessing, and every random draw made through torch in the same
order as the Rust port, so that for a given --seed the per-step losses agree with it:
test negatives (one randperm per test user), untrained MF, MF trained without sampling (one
randperm per epoch), uniform negatives (randint users, then items), MF trained with sampling,
then the same three for NeuMF.

    python notebooks-ported/python/nb000.py --seed 0 [--json] [--no-neumf] [--plot-dir DIR]

With --plot-dir it draws the notebook's loss plot (MF trained without sampling, printed loss
per epoch, "o" markers) where the notebook shows it, as DIR/000-loss-per-epoch.png
(scripts/setup-libtorch.sh installs matplotlib into the project's virtualenv); without
matplotlib it writes the plot's data as DIR/000-loss-per-epoch.json instead and says so.
"""
import argparse
import json
import math
import time
import zipfile
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from libtorch_adam import adam_class

KS = (5, 10, 30)


def parse_offset_ms(text):
    if text.upper() in ("Z", "UTC"):
        return 0
    sign = -1 if text[0] == "-" else 1
    h, _, m = text[1:].partition(":")
    return sign * (int(h) * 3600 + int(m or 0) * 60) * 1000


def load(args):
    data = Path(__file__).resolve().parents[2] / "data" / "ml-latest-small.zip"
    with zipfile.ZipFile(data) as z, z.open("ml-latest-small/ratings.csv") as f:
        ratings = pd.read_csv(f)
    offset = parse_offset_ms(args.utc_offset)
    scale = 1000 if args.corrected else 1  # faithful: timestamp / 1000 seconds = ms
    ratings["datetime"] = pd.to_datetime(ratings.timestamp * scale + offset, unit="ms")
    ratings["date"] = ratings.datetime.dt.date
    interactions = ratings[ratings.rating > 3]
    print((ratings.shape, interactions.shape))
    print((interactions.userId.nunique(), interactions.movieId.nunique()))
    split = pd.Timestamp(args.split_date)
    if args.corrected:
        ms = split.value // 10**6
        split = pd.to_datetime((ms - offset) * 1000 + offset, unit="ms")
    train = interactions[interactions.datetime < split].copy()
    test = interactions[interactions.datetime >= split]
    print((train.datetime.max(), len(train), test.datetime.min(), len(test)))
    users, items = train.userId.unique(), train.movieId.unique()
    u_to_ids = {u: i for i, u in enumerate(users)}
    i_to_ids = {m: i for i, m in enumerate(items)}
    train["u"] = train.userId.map(u_to_ids)
    train["i"] = train.movieId.map(i_to_ids)
    print((len(users), len(items)))
    print(f"Test n obs before merge = {len(test)}")
    test_valid = test.merge(pd.DataFrame({"userId": users}), on="userId").merge(
        pd.DataFrame({"movieId": items}), on="movieId")
    print(f"Test n obs after merge = {len(test_valid)}")
    # keep test-table order within a user, users in increasing id
    test_valid = test[test.userId.isin(users) & test.movieId.isin(items)]
    test_valid = test_valid.sort_values("userId", kind="stable")
    positives = {}
    for u, m in zip(test_valid.userId, test_valid.movieId):
        positives.setdefault(u_to_ids[u], []).append(i_to_ids[m])
    return train, positives, len(users), len(items)


def sample_candidates(positives, train, n_items, corrected):
    seen = {}
    if corrected:
        for u, i in zip(train.u, train.i):
            seen.setdefault(u, set()).add(i)
    negatives = {}
    for u, pos in positives.items():
        skip = set(pos) | seen.get(u, set())
        pool = [i for i in range(n_items) if i not in skip]
        perm = torch.randperm(len(pool))[:100].tolist()
        negatives[u] = [pool[p] for p in perm]
    return negatives


class MF(torch.nn.Module):
    def __init__(self, n_users, n_items, f):
        super().__init__()
        self.users = torch.nn.Embedding(n_users, f)
        self.items = torch.nn.Embedding(n_items, f)

    def forward(self, u, i):
        return (self.users(u) * self.items(i)).sum(1)


def linear(fan_in, fan_out):
    b = 1.0 / math.sqrt(fan_in)
    w = torch.nn.Parameter(torch.zeros(fan_out, fan_in).uniform_(-b, b))
    return w, torch.nn.Parameter(torch.zeros(fan_out).uniform_(-b, b))


class NeuMF(torch.nn.Module):
    def __init__(self, n_users, n_items, f, layers=3, std=0.01):
        super().__init__()
        d = f << (layers - 1)
        emb = lambda n, k: torch.nn.Parameter(torch.randn(n, k) * std + 0.0)
        self.ug, self.ig, self.um, self.im = emb(n_users, f), emb(n_items, f), emb(n_users, d), emb(n_items, d)
        self.mlp = torch.nn.ParameterList()
        width = 2 * d
        for _ in range(layers):
            self.mlp.extend(linear(width, width // 2))
            width //= 2
        self.out_w, self.out_b = linear(2 * f, 1)

    def forward(self, u, i):
        gmf = self.ug[u] * self.ig[i]
        h = torch.cat([self.um[u], self.im[i]], 1)
        for k in range(0, len(self.mlp), 2):
            h = F.relu(F.linear(h, self.mlp[k], self.mlp[k + 1]))
        return F.linear(torch.cat([gmf, h], 1), self.out_w, self.out_b).squeeze(1)


def train_fn(model, data, epochs, args):
    users, items, targets = data
    opt = adam_class(args.adam)(model.parameters(), lr=args.lr)
    n, bs = len(users), args.batch_size
    all_steps, printed = [], []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        print(f"Running epoch {epoch}")
        order = torch.randperm(n)
        u, i, t = users[order], items[order], targets[order]
        step_losses = []
        for s in range(0, n, bs):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(u[s:s + bs], i[s:s + bs]), t[s:s + bs])
            loss.backward()
            opt.step()
            step_losses.append(loss.detach())
        losses = torch.stack(step_losses).double().tolist()
        all_steps += losses
        if args.corrected:
            printed.append(sum(losses) / len(losses))
            print(f"Mean loss of epoch {epoch} = {printed[-1]}")
        else:
            printed.append(sum(all_steps) / len(all_steps))
            print(f"Avg loss after epoch {epoch}, is equal to {printed[-1]}")
    wall = time.perf_counter() - start
    return {"printed": printed, "steps": len(all_steps), "wall_s": wall,
            "steps_per_s": len(all_steps) / max(wall, 1e-9)}


def loss_plot(losses, plot_dir):
    """The notebook's loss plot: printed loss per epoch of MF trained without sampling."""
    if plot_dir is None:
        return
    epochs = [i + 1 for i in range(len(losses))]
    Path(plot_dir).mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        path = Path(plot_dir) / "000-loss-per-epoch.json"
        path.write_text(json.dumps({"x": epochs, "y": losses, "style": "o",
                                    "xlabel": "epoch", "ylabel": "loss", "xticks": epochs}))
        print(f"plot: matplotlib is not installed; the plot's data written to {path}")
        return
    path = Path(plot_dir) / "000-loss-per-epoch.png"
    plt.figure()
    plt.plot(epochs, losses, "o")
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.xticks(epochs)
    plt.savefig(path)
    plt.close()
    print(f"plot: {path}")


def evaluate(model, positives, negatives):
    us, its = [], []
    for u, pos in positives.items():
        for i in pos + negatives[u]:
            us.append(u)
            its.append(i)
    with torch.no_grad():
        scores = model(torch.tensor(us), torch.tensor(its)).tolist()
    sums = [0.0] * (3 * len(KS))
    off = 0
    for u, pos in positives.items():
        cand = pos + negatives[u]
        s = scores[off:off + len(cand)]
        off += len(cand)
        ranked = [cand[j] for j in sorted(range(len(cand)), key=lambda j: -s[j])]
        rel = set(pos)
        for j, k in enumerate(KS):
            hits = [r for r, item in enumerate(ranked[:k]) if item in rel]
            sums[j] += len(hits) / min(k, len(rel))
            idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(rel))))
            sums[len(KS) + j] += sum(1 / math.log2(r + 2) for r in hits) / idcg
            sums[2 * len(KS) + j] += float(len(hits) > 0)
    m = [x / len(positives) for x in sums]
    for k, r in zip(KS, m):
        print(f"Recall@{k} = {r}")
    return {"recall": m[:3], "ndcg": m[3:6], "hit_rate": m[6:]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--sampled-epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--factors", type=int, default=20)
    p.add_argument("--utc-offset", default="+01:00")
    p.add_argument("--split-date", default="1970-01-18")
    p.add_argument("--corrected", action="store_true")
    p.add_argument("--no-neumf", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--adam", choices=["torch", "libtorch"], default="torch",
                   help="torch.optim.Adam, or libtorch's formula (bit-identical to the Rust port)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--plot-dir", help="draw the notebook's loss plot into this directory")
    args = p.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, positives, n_users, n_items = load(args)
    negatives = sample_candidates(positives, train, n_items, args.corrected)
    n = len(train)
    pos_data = (torch.tensor(train.u.values), torch.tensor(train.i.values), torch.ones(n))
    out = {"epochs": {}, "metrics": {}, "timings": {}}
    builders = [("mf", lambda: MF(n_users, n_items, args.factors))]
    if not args.no_neumf:
        builders.append(("neumf", lambda: NeuMF(n_users, n_items, args.factors)))
    sampled = None
    for name, build in builders:
        out["metrics"][f"{name}_untrained"] = evaluate(build(), positives, negatives)
        model = build()
        log = train_fn(model, pos_data, args.epochs, args)
        out["epochs"][f"{name}_unsampled"], out["timings"][f"{name}_unsampled"] = log["printed"], log
        if name == "mf":
            loss_plot(log["printed"], args.plot_dir)
        out["metrics"][f"{name}_unsampled"] = evaluate(model, positives, negatives)
        if sampled is None:
            nu, ni = torch.randint(n_users, (n,)), torch.randint(n_items, (n,))
            sampled = (torch.cat([pos_data[0], nu]), torch.cat([pos_data[1], ni]),
                       torch.cat([pos_data[2], torch.zeros(n)]))
        model = build()
        log = train_fn(model, sampled, args.sampled_epochs, args)
        out["epochs"][f"{name}_sampled"], out["timings"][f"{name}_sampled"] = log["printed"], log
        out["metrics"][f"{name}_sampled"] = evaluate(model, positives, negatives)
    out["wall_s"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
