"""InfoNCE in PyTorch on the CPU, as a peer for gpubench. It serves the
operations "loss" (under torch.no_grad) and "grad" (the loss with its
backward pass to both views). common.py describes the protocol, and --help
lists the options."""

import re

import common

args = common.parse_args()

import numpy as np  # noqa: E402, imported after the thread count is set
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


def infonce(a, b, temperature):
    a = F.normalize(a, dim=1, eps=1e-8)
    b = F.normalize(b, dim=1, eps=1e-8)
    logits = a @ b.T / temperature
    return F.cross_entropy(logits, torch.arange(a.shape[0]))


a = torch.from_numpy(np.load(args.a))
b = torch.from_numpy(np.load(args.b))


def loss_only():
    with torch.no_grad():
        return infonce(a, b, args.temperature).item()


def loss_and_grads():
    a_grad = a.clone().requires_grad_(True)
    b_grad = b.clone().requires_grad_(True)
    loss = infonce(a_grad, b_grad, args.temperature)
    loss.backward()
    return loss.item()


match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
common.serve("torch", torch.__version__, match.group(1) if match else "unknown",
             {"loss": loss_only, "grad": loss_and_grads})
