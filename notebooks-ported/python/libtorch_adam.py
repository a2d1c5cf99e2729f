"""Adam as libtorch's C++ `torch::optim::Adam` computes it, for the twins' `--adam libtorch`.

The Rust ports use that formula (their fused CPU Adam, `src/optim.rs`, is bit-identical to it):
the first moment by `mul_` then `add_`, where `torch.optim.Adam` uses `lerp_`. The two differ in
the last bit, and training amplifies that, through MLPs and dropout most of all. With this class
a twin reproduces its port's numbers bit for bit; the default `--adam torch` is stock PyTorch.
"""
import math

import torch


class LibtorchAdam(torch.optim.Optimizer):
    """`torch.optim.Adam` (no weight decay, no amsgrad) with libtorch's order of operations."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            b1, b2 = g["betas"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                bc1, bc2 = 1 - b1 ** st["step"], 1 - b2 ** st["step"]
                st["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (st["v"].sqrt() / math.sqrt(bc2)).add_(g["eps"])
                p.addcdiv_(st["m"], denom, value=-g["lr"] / bc1)


def adam_class(name):
    """The optimizer class a twin's `--adam torch|libtorch` names."""
    return LibtorchAdam if name == "libtorch" else torch.optim.Adam
