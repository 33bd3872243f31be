"""Shared command line and timing for the InfoNCE peer scripts of gpubench.

Each peer script reads two views from .npy files, runs one operation
--repeat times after one warm-up run, and prints one JSON object on stdout:
{"peer", "version", "blas", "op", "times", "loss", "peak_rss_bytes"}, with
times in seconds. The thread count is set through the environment before
NumPy or PyTorch is imported, so that their BLAS pools start with it.
"""

import argparse
import json
import os
import resource
import sys
import time


def parse_args(ops):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", required=True, help="first view, a (batch, features) .npy file")
    parser.add_argument("--b", required=True, help="second view, same shape as --a")
    parser.add_argument("--temperature", type=float, required=True, help="softmax temperature, > 0")
    parser.add_argument("--op", choices=ops, required=True, help="operation to time")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after one warm-up run")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS and intra-op threads")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1, got %d" % args.repeat)
    if args.threads < 1:
        parser.error("--threads must be at least 1, got %d" % args.threads)
    if not args.temperature > 0:
        parser.error("--temperature must be > 0, got %g" % args.temperature)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    return args


def time_runs(run, repeat):
    """Call run() once to warm up, then repeat times; return the times and the last result."""
    result = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return times, result


def report(peer, version, blas, op, times, loss):
    # ru_maxrss is in KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    json.dump({"peer": peer, "version": version, "blas": blas, "op": op, "times": times,
               "loss": float(loss), "peak_rss_bytes": peak}, sys.stdout)
    sys.stdout.write("\n")
