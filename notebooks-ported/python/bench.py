"""Training-loop speed of the notebooks in PyTorch, for `recsys bench`.

For each notebook's main training loop, two Python versions run on the same data:
  dataloader  the notebook's own loop (the "notebook loop"):
                000  a map-style Dataset, DataLoader(batch_size=64, shuffle=True), loss.item() per step;
                002  Spotlight's ExplicitFactorizationModel.fit: a numpy shuffle per epoch,
                     torch.from_numpy, minibatch slices of 256, loss.item() per step;
                003  the TowerTrain Dataset (per-row negatives and label tensors) behind
                     DataLoader(batch_size=256, shuffle=True), loss.item() per step
                     (corrected mode: the train split);
                004  the notebook's list of pre-built batches of 128 in file order, its
                     RecommenderNet with the hidden layers in a plain list, and
                     `train_loss += loss` (which keeps every step's graph alive until the epoch ends);
  tensor      the same model and optimiser fed by slicing pre-built tensors with a
              torch.randperm shuffle (004: in file order, like the notebook), reading the loss
              once per epoch.
Prints one JSON object: {"<notebook>": {"dataloader": steps/s, "tensor": steps/s, "steps": ...,
"batch_size": ..., "rows": ...}, "torch": version, "threads": n}.

    python bench.py --notebooks 000,002,003,004 --epochs 2 [--threads N]
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

DATA = Path(os.environ.get("RECSYS_DATA", Path(__file__).resolve().parents[2] / "data"))


def nb000_train_pairs():
    """Notebook 000's training interactions: rating > 3, dates from timestamp/1000 in UTC+1,
    rows before 1970-01-18, ids numbered in order of first appearance."""
    import zipfile

    with zipfile.ZipFile(DATA / "ml-latest-small.zip") as z:
        with z.open("ml-latest-small/ratings.csv") as f:
            ratings = pd.read_csv(f)
    liked = ratings[ratings.rating > 3]
    local_seconds = liked.timestamp / 1000.0 + 3600
    train = liked[local_seconds < 17 * 86400]
    users = {u: i for i, u in enumerate(train.userId.unique())}
    items = {m: i for i, m in enumerate(train.movieId.unique())}
    return (
        train.userId.map(users).to_numpy(),
        train.movieId.map(items).to_numpy(),
        len(users),
        len(items),
    )


class MatrixFactorization(nn.Module):
    def __init__(self, n_users, n_items, n_factors=20):
        super().__init__()
        self.users = nn.Embedding(n_users, n_factors)
        self.items = nn.Embedding(n_items, n_factors)

    def forward(self, user, item):
        return (self.users(user) * self.items(item)).sum(dim=1)


class PairsDataset(Dataset):
    def __init__(self, users, items):
        self.users, self.items = users, items
        self.output = np.ones(users.shape)

    def __len__(self):
        return len(self.users)

    def __getitem__(self, idx):
        return self.users[idx], self.items[idx], self.output[idx]


def bench_000(epochs):
    users, items, n_users, n_items = nb000_train_pairs()
    loss_fn = nn.BCEWithLogitsLoss()
    out = {"rows": int(len(users)), "batch_size": 64}

    torch.manual_seed(0)
    model = MatrixFactorization(n_users, n_items)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(PairsDataset(users, items), batch_size=64, shuffle=True)
    steps, start = 0, time.perf_counter()
    for _ in range(epochs):
        for u, i, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(u, i), y)
            loss.backward()
            opt.step()
            loss.item()
            steps += 1
    out["dataloader"] = steps / (time.perf_counter() - start)

    torch.manual_seed(0)
    model = MatrixFactorization(n_users, n_items)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    u_all, i_all = torch.tensor(users), torch.tensor(items)
    y_all = torch.ones(len(users))
    steps, start = 0, time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(users))
        total = torch.zeros(())
        for b in range(0, len(users), 64):
            idx = perm[b : b + 64]
            opt.zero_grad()
            loss = loss_fn(model(u_all[idx], i_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
            total += loss.detach()
            steps += 1
        total.item()
    out["tensor"] = steps / (time.perf_counter() - start)
    out["steps"] = steps
    return out


def timed(epochs, run_epoch):
    """Steps/s of `epochs` calls of run_epoch() (each returns its number of steps)."""
    steps, start = 0, time.perf_counter()
    for _ in range(epochs):
        steps += run_epoch()
    return steps, steps / (time.perf_counter() - start)


def twin(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def bench_002(epochs):
    """Notebook 002's ExplicitFactorizationModel (Spotlight): dim 32, Adam lr 1e-2, batch 256,
    on the 80% random split of ml-100k."""
    nb = twin("nb002")
    df = pd.read_csv(DATA / "ml-100k/u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    nu, ni = int(df.user_id.max()) + 1, int(df.item_id.max()) + 1
    torch.manual_seed(0)
    perm = torch.randperm(len(df)).numpy()
    tr = df.iloc[perm[: int(0.8 * len(df))]]
    users, items = tr.user_id.to_numpy(), tr.item_id.to_numpy()
    ratings = tr.rating.to_numpy().astype(np.float32)
    bs = 256
    out = {"rows": int(len(tr)), "batch_size": bs}

    torch.manual_seed(0)
    model = nb.Bilinear(nu, ni, 32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.RandomState(0)

    def spotlight_epoch():
        # spotlight.cross_validation.shuffle + minibatch over torch.from_numpy tensors
        order = rng.permutation(len(users))
        u, i, r = (torch.from_numpy(a[order]) for a in (users, items, ratings))
        n, loss_sum = 0, 0.0
        for b in range(0, len(u), bs):
            pred = model(u[b : b + bs], i[b : b + bs])
            opt.zero_grad()
            loss = ((r[b : b + bs] - pred) ** 2).mean()
            loss_sum += loss.item()
            loss.backward()
            opt.step()
            n += 1
        return n

    _, out["dataloader"] = timed(epochs, spotlight_epoch)

    torch.manual_seed(0)
    model = nb.Bilinear(nu, ni, 32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    u_all, i_all, r_all = torch.tensor(users), torch.tensor(items), torch.tensor(ratings)

    def tensor_epoch():
        perm = torch.randperm(len(u_all))
        total, n = torch.zeros(()), 0
        for b in range(0, len(u_all), bs):
            idx = perm[b : b + bs]
            loss = ((r_all[idx] - model(u_all[idx], i_all[idx])) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach()
            n += 1
        total.item()
        return n

    out["steps"], out["tensor"] = timed(epochs, tensor_epoch)
    return out


def bench_003(epochs):
    """Notebook 003's two-tower BaseTwoHead (dim 16, 10 negatives, Adam lr 0.01, batch 256),
    trained on the train split (the corrected mode's training set)."""
    nb = twin("nb003")
    (tr_u, tr_i), _, sizes = nb.prepare()
    n_items, negatives, bs = sizes["n_items"], 10, 256
    out = {"rows": int(len(tr_u)), "batch_size": bs}
    loss_fn = nn.BCEWithLogitsLoss()

    class TowerTrain(Dataset):
        """The notebook's Dataset: one row's user, its positive plus fresh negatives, labels."""

        def __init__(self, u, i):
            self.u, self.i = u, i

        def __len__(self):
            return len(self.u)

        def __getitem__(self, idx):
            items = torch.tensor(np.hstack([self.i[idx], np.random.randint(0, n_items, negatives)]))
            labels = torch.zeros(negatives + 1, dtype=torch.float32)
            labels[0] = 1.0
            return {"user_ids": torch.tensor([self.u[idx]], dtype=torch.int32), "item_ids": items, "labels": labels}

    torch.manual_seed(0)
    model = nb.BaseTwoHead(sizes["n_users"], n_items, 16)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TowerTrain(tr_u, tr_i), batch_size=bs, shuffle=True)

    def loader_epoch():
        n, train_loss = 0, 0.0
        for batch in loader:
            preds = model(batch["user_ids"].squeeze(1).long(), batch["item_ids"])
            loss = loss_fn(preds, batch["labels"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            train_loss += loss.item()
            n += 1
        return n

    _, out["dataloader"] = timed(epochs, loader_epoch)

    torch.manual_seed(0)
    model = nb.BaseTwoHead(sizes["n_users"], n_items, 16)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    u_all, i_all = torch.tensor(tr_u), torch.tensor(tr_i)

    def tensor_epoch():
        total, n = torch.zeros(()), 0
        for u, i, y in nb.passes(u_all, i_all, n_items, negatives, bs, True):
            loss = loss_fn(model(u, i), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach()
            n += 1
        total.item()
        return n

    out["steps"], out["tensor"] = timed(epochs, tensor_epoch)
    return out


class RecommenderNet(nn.Module):
    """Notebook 004's network as the notebook builds it: hidden layers in a plain list (not
    registered, so not trained, and their dropout always on)."""

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=(128, 256, 128), dropout_rate=0.2):
        super().__init__()
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.hidden, n_in = [], 2 * n_factors
        for n_out in hidden:
            self.hidden += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(dropout_rate)]
            n_in = n_out
        self.fc = nn.Linear(n_in, 1)
        for m in [*self.hidden, self.fc]:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)
        self.users.weight.data.uniform_(-0.05, 0.05)
        self.movies.weight.data.uniform_(-0.05, 0.05)

    def forward(self, users, movies):
        x = self.drop(torch.cat([self.users(users), self.movies(movies)], dim=1))
        for layer in self.hidden:
            x = layer(x)
        return torch.sigmoid(self.fc(x)) * 4 + 1


def bench_004(epochs):
    """Notebook 004's RecommenderNet on all of ml-100k in file order, batch 128, Adam lr 1e-3."""
    df = pd.read_csv(DATA / "ml-100k/u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    users, movies = df.user_id.to_numpy() - 1, df.item_id.to_numpy() - 1
    rates = df.rating.to_numpy()
    n_users, n_movies, bs = int(users.max()) + 1, int(movies.max()) + 1, 128
    out = {"rows": int(len(df)), "batch_size": bs}
    criterion = nn.MSELoss(reduction="mean")

    batches = []
    for i in range(0, len(rates), bs):
        lim = min(i + bs, len(rates))
        batches.append((torch.tensor(users[i:lim], dtype=torch.long), torch.tensor(movies[i:lim], dtype=torch.long),
                        torch.tensor(rates[i:lim], dtype=torch.float)))
    torch.manual_seed(0)
    net = RecommenderNet(n_users, n_movies)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def notebook_epoch():
        train_loss = 0
        for u, m, r in batches:
            net.zero_grad()
            out_ = net(u, m).squeeze()
            loss = criterion(r, out_)
            loss.backward()
            opt.step()
            train_loss += loss
        loss.item()
        return len(batches)

    _, out["dataloader"] = timed(epochs, notebook_epoch)

    torch.manual_seed(0)
    net = RecommenderNet(n_users, n_movies)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    u_all, m_all = torch.tensor(users), torch.tensor(movies)
    r_all = torch.tensor(rates, dtype=torch.float)

    def tensor_epoch():
        total, n = torch.zeros(()), 0
        for b in range(0, len(u_all), bs):
            opt.zero_grad()
            loss = criterion(net(u_all[b : b + bs], m_all[b : b + bs]).squeeze(-1), r_all[b : b + bs])
            loss.backward()
            opt.step()
            total += loss.detach()
            n += 1
        total.item()
        return n

    out["steps"], out["tensor"] = timed(epochs, tensor_epoch)
    return out


BENCHES = {"000": bench_000, "002": bench_002, "003": bench_003, "004": bench_004}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", default="000", help="comma-separated notebooks")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {}
    for nb in args.notebooks.split(","):
        if nb not in BENCHES:
            raise SystemExit(f"no benchmark for notebook {nb}; have {', '.join(BENCHES)}")
    for nb in args.notebooks.split(","):
        result[nb] = BENCHES[nb](args.epochs)
    result["torch"] = torch.__version__
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
