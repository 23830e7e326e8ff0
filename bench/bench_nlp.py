"""Throughput and latency of the full NLP stage (NER + embeddings + both classifiers).

Runs the pinned model on real labelled headlines and prints medians over repeats:
- batch throughput (headlines/s) for the full stage, and for the encoder alone at batch 32
  (int8 ONNX, and torch fp32 with --torch);
- per-item latency at a paced arrival rate (default 20 items/s, each item predicted alone as it
  arrives): p50 / p99.

Usage: .venv/bin/python bench/bench_nlp.py [--n 1024] [--repeats 5] [--rate 20] [--threads 2]
Pin to two cores for the target machine shape: taskset -c 0,1 .venv/bin/python bench/bench_nlp.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="headlines per throughput run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256, help="items per predict_batch call")
    parser.add_argument("--rate", type=float, default=20.0, help="items/s for the latency run")
    parser.add_argument("--latency-items", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument("--torch", action="store_true", help="also time torch fp32 at batch 32")
    args = parser.parse_args()

    from models import dataset, encoder
    from models.serving import SignalModel

    model = SignalModel.load()
    texts = [e.text for e in dataset.load_labelled()]
    texts = (texts * (args.n // max(len(texts), 1) + 1))[: args.n]
    items = [(t, "bench") for t in texts]
    onnx = encoder.OnnxEncoder.load(threads=args.threads)
    print(
        f"model {model.version}; {len(texts)} headlines; cpus={os.cpu_count()}; "
        f"affinity={len(os.sched_getaffinity(0))}; loadavg={os.getloadavg()[0]:.2f}"
    )

    def rate(fn: object, repeats: int) -> float:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            runs.append(len(texts) / (time.perf_counter() - start))
        return statistics.median(runs)

    model.predict_batch(items[:64])
    onnx.encode(texts[:64])
    enc = rate(lambda: onnx.encode(texts), args.repeats)
    print(f"encoder int8 ONNX, one per run: {enc:6.1f} headlines/s (median of {args.repeats})")
    if args.torch:
        ref = encoder.TorchEncoder()
        ref.encode(texts[:64])
        tor = rate(lambda: ref.encode(texts), args.repeats)
        print(f"encoder torch fp32, batch 32: {tor:7.1f} headlines/s (median of {args.repeats})")
    full = rate(
        lambda: [
            model.predict_batch(items[i : i + args.batch]) for i in range(0, len(items), args.batch)
        ],
        args.repeats,
    )
    print(
        f"full NLP stage, batches of {args.batch}: {full:8.1f} headlines/s "
        f"(median of {args.repeats})"
    )

    gap = 1.0 / args.rate
    latencies = []
    next_at = time.perf_counter()
    for text, source in items[: args.latency_items]:
        now = time.perf_counter()
        if now < next_at:
            time.sleep(next_at - now)
        start = time.perf_counter()
        model.predict_batch([(text, source)])
        latencies.append((time.perf_counter() - start) * 1000)
        next_at += gap
    lat = np.array(latencies)
    print(
        f"latency at {args.rate:.0f} items/s, one item per call:"
        f" p50 {np.percentile(lat, 50):.1f} ms"
        f"  p99 {np.percentile(lat, 99):.1f} ms  max {lat.max():.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
