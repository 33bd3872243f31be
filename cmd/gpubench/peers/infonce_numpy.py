"""InfoNCE forward pass in NumPy: the plain formula with the full
batch × batch matrix of logits, as a peer for gpubench. It serves the
operation "loss"; see common.py for the protocol, or run with --help."""

import common

args = common.parse_args()

import numpy as np  # noqa: E402, imported after the thread count is set


def infonce(a, b, temperature):
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-8)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-8)
    logits = a @ b.T / temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return -np.log(np.diag(p)).mean()


def blas_name():
    try:
        info = np.__config__.blas_opt_info
        return ",".join(sorted(set(info.get("libraries", [])))) or "unknown"
    except AttributeError:
        return "unknown"


a = np.load(args.a)
b = np.load(args.b)
common.serve("numpy", np.__version__, blas_name(), {"loss": lambda: infonce(a, b, args.temperature)})
