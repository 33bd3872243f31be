"""Shared command line and protocol of the InfoNCE peer scripts of gpubench.

A peer script loads two views from .npy files and prints one JSON line
{"peer", "version", "blas", "ops"} when it is ready. Then it serves
requests on stdin, one per line, each an operation name such as "loss" or
"grad". For each request it runs the operation once and prints one JSON
line {"seconds", "loss", "peak_rss_bytes"}, or {"error"} when the run
failed. The peak resident set is that of the one run: VmHWM is reset
before it. It exits at the end of stdin. gpubench runs these requests in
turn with its own, so that both sides share the machine's load.

The thread count is set through the environment before NumPy or PyTorch
is imported, so that their BLAS pools start with it.
"""

import argparse
import json
import os
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="first view, a (batch, features) .npy file")
    parser.add_argument("--b", required=True, help="second view, same shape as --a")
    parser.add_argument("--temperature", type=float, required=True, help="softmax temperature, > 0")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS and intra-op threads")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1, got %d" % args.threads)
    if not args.temperature > 0:
        parser.error("--temperature must be > 0, got %g" % args.temperature)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    return args


def reset_peak():
    """Set VmHWM to the current resident set (Linux 4.0 and later)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss():
    """Return VmHWM in bytes, or 0 where /proc/self/status is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def send(obj):
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def serve(peer, version, blas, ops):
    """Announce the peer, then run the operations in ops as stdin requests them."""
    send({"peer": peer, "version": version, "blas": blas, "ops": sorted(ops)})
    for line in sys.stdin:
        op = line.strip()
        if op not in ops:
            send({"error": "unknown operation %r: this peer runs %s" % (op, ", ".join(sorted(ops)))})
            continue
        reset_peak()
        try:
            start = time.perf_counter()
            loss = ops[op]()
            seconds = time.perf_counter() - start
        except (MemoryError, RuntimeError) as err:
            send({"error": "%s: %s" % (type(err).__name__, err)})
            continue
        send({"seconds": seconds, "loss": float(loss), "peak_rss_bytes": peak_rss()})
