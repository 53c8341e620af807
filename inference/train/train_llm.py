#!/usr/bin/python3
"""Train the inference service's generative model and export it with test vectors.

Run with Debian's Python and packages (python3-torch, fortunes):

    nice /usr/bin/python3 inference/train/train_llm.py      # or: make model-llm

The corpus is Debian's `fortunes` package (/usr/share/games/fortunes, the English
collections of fortune-mod, Debian main; see docs/llm.md for its licence), minus the
ASCII-art and non-English files. Fortunes are shuffled with a fixed seed and split by
fortune: 95% train, 5% held out. Each fortune is its UTF-8 bytes followed by the end of
text token.

Writes, relative to the inference/ folder:
  models/llm.safetensors    the weights (float16) and the configuration (metadata)
  testdata/llm-vectors.json prompts, PyTorch's logits at every position and greedy
                            continuations, for the Go engine's parity tests
  train/llm-train.json      the training log: steps, losses, held-out loss and perplexity

Training is deterministic on one machine (fixed seed, fixed thread count).
"""

import glob
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

import llm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("LLM_OUT", os.path.dirname(HERE))  # inference/, or a folder with models/ and testdata/
CORPUS = "/usr/share/games/fortunes"
SKIP = {"art", "ascii-art", "translate-me"}  # pictures and non-English text
SEED = 0
THREADS = int(os.environ.get("LLM_THREADS", "1"))
STEPS = int(os.environ.get("LLM_STEPS", "200"))
BATCH = 16
LR = 3e-3
WARMUP = 20
EVAL_BATCHES = 20
VECTOR_PROMPTS = ["The ", "A computer is", "Q:\tWhat do you call", "\u00e9t\u00e9 "]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def fortunes():
    files = sorted(f for f in glob.glob(os.path.join(CORPUS, "*"))
                   if "." not in os.path.basename(f) and os.path.basename(f) not in SKIP)
    if not files:
        sys.exit("train_llm: no fortune files in %s: apt-get install -y fortunes" % CORPUS)
    out = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for part in fh.read().split("\n%\n"):
                part = part.strip("%\n")
                if part.strip():
                    out.append(part + "\n")
    return files, out


def stream(texts):
    ids = []
    for t in texts:
        ids.extend(llm.encode(t))
        ids.append(llm.EOS)
    return torch.tensor(ids, dtype=torch.long)


def batch(data, gen, n, ctx):
    ix = torch.randint(len(data) - ctx - 1, (n,), generator=gen)
    x = torch.stack([data[i:i + ctx] for i in ix])
    y = torch.stack([data[i + 1:i + ctx + 1] for i in ix])
    return x, y


@torch.no_grad()
def evaluate(model, data, ctx):
    """Mean cross-entropy (nats per byte) over fixed held-out windows."""
    model.eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    losses = []
    for _ in range(EVAL_BATCHES):
        x, y = batch(data, gen, BATCH, ctx)
        logits, _ = model(x)
        losses.append(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item())
    model.train()
    return sum(losses) / len(losses)


def train(model, train_data, held_data):
    c = model.c
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(SEED)
    hist = []
    t0 = time.time()
    for step in range(1, STEPS + 1):
        lr = LR * min(1, step / WARMUP) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / STEPS)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train_data, gen, BATCH, c.context)
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, c.vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == 1:
            rec = {"step": step, "loss": round(loss.item(), 4), "lr": round(lr, 6), "seconds": round(time.time() - t0, 1)}
            hist.append(rec)
            log(json.dumps(rec))
    return hist, time.time() - t0


@torch.no_grad()
def vectors(model):
    """Logits at every position of each prompt, and a greedy continuation."""
    out = []
    for p in VECTOR_PROMPTS:
        ids = llm.encode(p)
        logits, _ = model(torch.tensor([ids]))
        cont = llm.generate(model, [ids], 24)[0].tolist()
        out.append({"prompt": p, "tokens": ids, "logits": [[float("%.7g" % v) for v in row] for row in logits[0].tolist()],
                    "greedy": cont})
    return out


def main():
    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    files, texts = fortunes()
    random.Random(SEED).shuffle(texts)
    cut = len(texts) * 95 // 100
    train_data, held_data = stream(texts[:cut]), stream(texts[cut:])
    log("corpus: %d files, %d fortunes, %d train bytes, %d held-out bytes" % (len(files), len(texts), len(train_data), len(held_data)))

    c = llm.Config()
    model = llm.LM(c)
    params = sum(p.numel() for p in model.parameters())
    log("model: %d parameters, %d steps of %d x %d tokens, %d threads" % (params, STEPS, BATCH, c.context, THREADS))
    hist, secs = train(model, train_data, held_data)

    # Export in float16, then reload: the held-out loss and the vectors are those of
    # the weights the service serves, not of the float32 training copy.
    path = os.path.join(ROOT, "models", "llm.safetensors")
    llm.save(path, model, "F16", {"corpus": "debian:fortunes", "steps": STEPS, "seed": SEED})
    served, _ = llm.load(path)
    torch.manual_seed(SEED)
    held = evaluate(served, held_data, c.context)
    log("held-out loss %.4f nats/byte, perplexity %.3f (float16 weights)" % (held, math.exp(held)))
    with open(os.path.join(ROOT, "testdata", "llm-vectors.json"), "w") as f:
        json.dump({"model": "models/llm.safetensors", "tolerance": 1e-4, "cases": vectors(served)}, f, separators=(",", ":"))
        f.write("\n")
    report = {"corpus": {"package": "fortunes", "files": [os.path.basename(f) for f in files], "fortunes": len(texts),
                         "train_bytes": len(train_data), "held_out_bytes": len(held_data)},
              "parameters": params, "steps": STEPS, "batch": BATCH, "context": c.context, "threads": THREADS,
              "torch": torch.__version__, "train_seconds": round(secs, 1),
              "held_out_loss": round(held, 4), "held_out_perplexity": round(math.exp(held), 3), "log": hist}
    with open(os.path.join(HERE if "LLM_OUT" not in os.environ else ROOT, "llm-train.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
