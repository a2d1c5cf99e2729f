"""PyTorch twin of `recsys notebook 004`: dense-matrix MF with SGD, then the RecommenderNet.

Same pipeline and the same torch random draws, in the same order, as the Rust port
(notebooks-ported/nb004/), so a seed gives comparable numbers:
  part 1: manual_seed(seed); rand(50, n_users); rand(50, n_movies); SGD 0.01 with gradients
          accumulating (faithful) / zeroed (corrected, re-seeded, same start);
  part 2: manual_seed(seed); RecommenderNet init (faithful: hidden layers in a plain list);
          corrected: manual_seed(seed); randperm(n) hold-out; RecommenderNet (ModuleList).
torch.optim.Adam updates its first moment with lerp_, libtorch's C++ Adam (tch, the Rust port)
with mul_/add_: ulp differences that training amplifies. `--adam libtorch` uses the C++ formula
and then matches the Rust port number for number (checked: seed 0, 1 epoch, last-batch loss
1.1778125762939453 in both); the default `--adam torch` is stock PyTorch.
The notebook draws no plot; the port draws its two loss curves (004-dense-mf-loss.png,
004-recommender-net-loss.png). `--plots DIR` writes the same curves as JSON beside them
(title, axis labels, epochs, one list per line of the port's chart) for any plotting tool: the
project's Python has no matplotlib.
Usage: python nb004.py [--seed 0] [--epochs 100] [--mf-epochs 250] [--mode both] [--json]
       [--csv answer_ratings.csv] [--plots DIR] [--data ../../data/ml-100k/u.data]
"""
import argparse
import json
import os
import sys
import time

import pandas as pd
import torch
import torch.nn as nn

from libtorch_adam import adam_class

HERE = os.path.dirname(os.path.abspath(__file__))


def say(args, *a):
    print(*a, file=sys.stderr if args.json else sys.stdout)


def save_plot_data(args, name, title, xlabel, ylabel, series):
    """One of the port's charts as data: args.plots/NAME.json (nothing without --plots)."""
    if not args.plots:
        return
    os.makedirs(args.plots, exist_ok=True)
    n = max(len(v) for v in series.values())
    chart = {"title": title, "x_label": xlabel, "y_label": ylabel, "x": list(range(1, n + 1)), "series": series}
    path = os.path.join(args.plots, f"{name}.json")
    with open(path, "w") as f:
        f.write(json.dumps(chart) + "\n")
    say(args, f"plot data: {path}")


def rating_matrix(df):
    n_users, n_movies = df.user_id.max(), df.item_id.max()
    mat = df.pivot(index="user_id", columns="item_id", values="rating")
    mat = mat.reindex(index=range(1, n_users + 1), columns=range(1, n_movies + 1))
    return torch.tensor(mat.fillna(-1).astype("int64").values)


def masked_mse(true_r, est_r, exist):
    return torch.mean(torch.square(true_r * exist - est_r * exist))


def dense_mf(ratings, exist, epochs, seed, zero_grad):
    torch.manual_seed(seed)
    n_users, n_movies = ratings.shape
    users = torch.rand(50, n_users, requires_grad=True)
    movies = torch.rand(50, n_movies, requires_grad=True)
    opt = torch.optim.SGD([users, movies], lr=0.01)
    losses = []
    for _ in range(epochs):
        if zero_grad:
            opt.zero_grad()
        loss = masked_mse(ratings, users.t() @ movies, exist)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, (users.t() @ movies).detach()


class RecommenderNet(nn.Module):
    def __init__(self, n_users, n_movies, registered, k=50, emb_drop=0.02,
                 hidden=(128, 256, 128), drop=0.2):
        super().__init__()
        self.users = nn.Embedding(n_users, k)
        self.movies = nn.Embedding(n_movies, k)
        self.drop = nn.Dropout(emb_drop)
        layers, n_in = [], 2 * k
        for n_out in hidden:
            layers += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(drop)]
            n_in = n_out
        # Faithful: a plain list, as in the notebook (unregistered, never trained, dropout on).
        self.hidden = nn.ModuleList(layers) if registered else layers
        self.fc = nn.Linear(n_in, 1)
        self.users.weight.data.uniform_(-0.05, 0.05)
        self.movies.weight.data.uniform_(-0.05, 0.05)
        for m in list(self.hidden) + [self.fc]:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

    def to_device(self, device):
        self.to(device)
        if isinstance(self.hidden, list):  # the notebook's net.to() would not move these
            for m in self.hidden:
                m.to(device)
        return self

    def forward(self, users, movies):
        x = self.drop(torch.cat([self.users(users), self.movies(movies)], dim=1))
        for layer in self.hidden:
            x = layer(x)
        return torch.sigmoid(self.fc(x)) * 4 + 1


def make_batches(users, movies, rates, batch_size, device):
    u, m, r = (torch.tensor(users, device=device), torch.tensor(movies, device=device),
               torch.tensor(rates, dtype=torch.float, device=device))
    return [(u[i:i + batch_size], m[i:i + batch_size], r[i:i + batch_size])
            for i in range(0, len(r), batch_size)]


def train(net, batches, epochs, args, label):
    crit = nn.MSELoss()
    opt = adam_class(args.adam)(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, "min", factor=0.3, patience=2)
    losses, t = [], time.time()
    for epoch in range(epochs):
        for ub, mb, rb in batches:
            net.zero_grad()
            loss = crit(rb, net(ub, mb).squeeze(-1))
            loss.backward()
            opt.step()
        sched.step(loss.item())
        losses.append(loss.item())
        if label == "faithful" or epoch % 10 == 0 or epoch + 1 == epochs:
            say(args, f"{'' if label == 'faithful' else '[' + label + '] '}Loss at epoch {epoch} = {loss.item()}")
    wall = time.time() - t
    say(args, f"[{label}] {epochs} epochs x {len(batches)} batches in {wall:.1f} s")
    return losses, wall


def evaluate(net, batches):
    net.eval()
    with torch.no_grad():
        total_loss, correct, n = 0, 0, 0
        for ub, mb, rb in batches:
            out = net(ub, mb).squeeze(-1)
            total_loss += nn.functional.mse_loss(rb, out)
            correct += torch.sum(torch.abs(rb - out) < 0.5)
            n += len(rb)
        return {"average_loss": (total_loss / len(batches)).item(), "accuracy": (correct / n).item(),
                "n_ratings": n}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--mf-epochs", type=int, default=250)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--holdout", type=float, default=0.2)
    p.add_argument("--mode", choices=["faithful", "corrected", "both"], default="both")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--adam", choices=["torch", "libtorch"], default="torch",
                   help="torch.optim.Adam, or libtorch's C++ formula (bit-identical to the Rust port)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--csv", help="write answer_ratings.csv here")
    p.add_argument("--data", default=os.path.join(HERE, "../../data/ml-100k/u.data"))
    p.add_argument("--plots", metavar="DIR", help="write the data of the port's plots as JSON into DIR")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    df = pd.read_csv(args.data, sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    ratings = rating_matrix(df)
    exist = (ratings != -1).long()
    say(args, f"{len(df)} ratings, matrix {tuple(ratings.shape)}, rated cells {int(exist.sum())}")
    say(args, ratings[:5])

    # Part 1
    mf, est = dense_mf(ratings, exist, args.mf_epochs, args.seed, zero_grad=False)
    for e in range(0, args.mf_epochs, 10):
        say(args, f"Loss at epoch {e} = {mf[e]}")
    say(args, f"Last Loss = {mf[-1]}")
    mf_fixed, _ = dense_mf(ratings, exist, args.mf_epochs, args.seed, zero_grad=True)
    say(args, f"[corrected] Loss at epoch 0 = {mf_fixed[0]}, Last Loss = {mf_fixed[-1]}")
    save_plot_data(args, "004-dense-mf-loss", "Dense-matrix MF: masked MSE per epoch (SGD lr 0.01)",
                   "epoch", "loss", {"faithful (gradients accumulate)": mf, "corrected (zero_grad)": mf_fixed})
    if args.csv:
        est = est.numpy()
        est = 1 + 4 * (est - est.min()) / (est.max() - est.min())
        n_u, n_m = est.shape
        pd.DataFrame(est, columns=list(range(1, n_m + 1)), index=list(range(1, n_u + 1))).to_csv(args.csv)

    # Part 2
    device = torch.device(args.device)
    users, movies, rates = df.user_id.values - 1, df.item_id.values - 1, df.rating.values
    n_users, n_movies = ratings.shape
    out = {"part1_losses": mf, "part1_corrected_losses": mf_fixed}
    epochs = []
    if args.mode != "corrected":
        batches = make_batches(users, movies, rates, args.batch_size, device)
        torch.manual_seed(args.seed)
        net = RecommenderNet(n_users, n_movies, registered=False).to_device(device)
        losses, wall = train(net, batches, args.epochs, args, "faithful")
        ev = evaluate(net, batches)
        say(args, f"Average loss = {ev['average_loss']}")
        say(args, f"Accuracy = {ev['accuracy']}")
        out["faithful"] = {"losses": losses, "train_eval": ev, "wall_s": wall}
        epochs = losses
    if args.mode != "faithful":
        torch.manual_seed(args.seed)
        perm = torch.randperm(len(rates))
        n_test = int(args.holdout * len(rates))
        test_rows, train_rows = perm[:n_test].sort().values.numpy(), perm[n_test:].sort().values.numpy()
        pick = lambda rows: make_batches(users[rows], movies[rows], rates[rows], args.batch_size, device)
        train_b, test_b = pick(train_rows), pick(test_rows)
        net = RecommenderNet(n_users, n_movies, registered=True).to_device(device)
        losses, wall = train(net, train_b, args.epochs, args, "corrected")
        ev, hv = evaluate(net, train_b), evaluate(net, test_b)
        say(args, f"[corrected] train: {ev}  held out: {hv}")
        out["corrected"] = {"losses": losses, "train_eval": ev, "holdout_eval": hv, "wall_s": wall}
        epochs = epochs or losses
    curves = {f"{mode} (last batch)": out[mode]["losses"] for mode in ("faithful", "corrected") if mode in out}
    save_plot_data(args, "004-recommender-net-loss", "RecommenderNet: MSE of the last batch per epoch",
                   "epoch", "loss", curves)
    if args.json:
        print(json.dumps({"epochs": epochs, "metrics": out, "wall_s": time.time() - t0}))


if __name__ == "__main__":
    main()
