#!/usr/bin/python3
"""The PyTorch peer of the generative benchmark: the same model (models/llm.safetensors)
decoded greedily by PyTorch in eager mode with a KV cache, on one thread.

    taskset -c 1 /usr/bin/python3 inference/bench/torch_peer.py --batch 16 --tokens 64

Prints one JSON line: batch, generated tokens, seconds, tokens/s (all sequences).
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import llm  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--prompt", default="The ")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    model, _ = llm.load(os.path.join(root, "models", "llm.safetensors"))
    prompts = [llm.encode(a.prompt)] * a.batch
    llm.generate(model, prompts, 4)  # warm up
    best = None
    for _ in range(a.runs):
        t0 = time.perf_counter()
        llm.generate(model, prompts, a.tokens)
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
    n = a.batch * a.tokens
    print(json.dumps({"engine": "pytorch " + torch.__version__, "batch": a.batch, "tokens": n,
                      "seconds": round(best, 4), "tokens_per_s": round(n / best, 1)}))


if __name__ == "__main__":
    main()
