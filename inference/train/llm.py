"""The generative model of the inference service, in PyTorch: a small decoder-only
transformer over bytes, its export format, and greedy generation with a KV cache.

Shared by train_llm.py (training and export) and ../bench/torch_peer.py (the PyTorch
peer of the benchmark). The Go engine (inference/llm*.go) implements the same model.

Architecture (GPT-2 shape, pre-norm):
  tokens: the 256 byte values, plus 256 = end of text (between two fortunes)
  x = tok_emb[t] + pos_emb[p]
  per layer: x += attn(ln1(x)); x += mlp(ln2(x))     (mlp: fc 4d, GELU(erf), proj)
  logits = ln_f(x) @ tok_emb^T                        (tied output embedding)
Attention is causal multi-head with separate q, k, v weights of shape [d, d].

Export format: safetensors (a little-endian u64 header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw tensors). The header's __metadata__
holds the configuration as strings: vocab, context, layers, heads, width, eos.
"""

import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EOS = 256
VOCAB = 257


class Config:
    def __init__(self, layers=4, heads=4, width=192, context=128, vocab=VOCAB, eos=EOS):
        self.layers, self.heads, self.width, self.context = layers, heads, width, context
        self.vocab, self.eos = vocab, eos

    def metadata(self):
        return {k: str(v) for k, v in vars(self).items()}


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.width
        self.heads = c.heads
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)

    def split(self, x):  # [B, T, d] -> [B, H, T, hd]
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, cache=None):
        """x: [B, T, d]. cache: None (causal over x) or a (k, v) pair of [B, H, S, hd]
        holding the S earlier positions; returns (x, (k, v)) with the new cache."""
        h = self.ln1(x)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        t, s = q.shape[2], k.shape[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        mask = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(x.shape)
        x = x + self.o(y)
        x = x + self.proj(F.gelu(self.fc(self.ln2(x))))
        return x, (k, v)


class LM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok = nn.Embedding(c.vocab, c.width)
        self.pos = nn.Embedding(c.context, c.width)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.width)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    def forward(self, idx, caches=None, start=0):
        """idx: [B, T] token ids at positions start..start+T-1. Returns logits [B, T, V]
        and the new caches (one (k, v) per layer)."""
        pos = torch.arange(start, start + idx.shape[1])
        x = self.tok(idx) + self.pos(pos)
        out = []
        for i, b in enumerate(self.blocks):
            x, kv = b(x, None if caches is None else caches[i])
            out.append(kv)
        return self.ln_f(x) @ self.tok.weight.T, out


def tensors(model):
    """The exported tensors: name -> float32 numpy array, in a fixed order."""
    sd = model.state_dict()
    return {k: sd[k].detach().float().numpy() for k in sorted(sd)}


def save(path, model, dtype="F16", extra=None):
    """Writes model as safetensors with the given dtype (F16 or F32)."""
    np_dtype = {"F16": np.float16, "F32": np.float32}[dtype]
    header, blobs, off = {}, [], 0
    for name, arr in tensors(model).items():
        b = np.ascontiguousarray(arr.astype(np_dtype)).astype("<" + np.dtype(np_dtype).str[1:]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    meta = model.c.metadata()
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # align the data to 8 bytes, as the safetensors writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    """Reads a model written by save, with float32 weights."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    c = Config(**{k: int(meta[k]) for k in ("layers", "heads", "width", "context", "vocab", "eos")})
    model = LM(c)
    sd = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4"}[t["dtype"]]
        sd[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).astype(np.float32).reshape(t["shape"]))
    model.load_state_dict(sd)
    model.eval()
    return model, meta


def encode(text):
    return list(text.encode("utf-8"))


@torch.no_grad()
def generate(model, prompts, n):
    """Greedy decoding of n tokens for a batch of equal-length prompts, with a KV cache.
    Returns the generated ids [B, n]."""
    idx = torch.tensor(prompts)
    logits, caches = model(idx)
    out = []
    pos = idx.shape[1]
    for _ in range(n):
        nxt = logits[:, -1].argmax(dim=-1, keepdim=True)
        out.append(nxt)
        logits, caches = model(nxt, [(k, v) for k, v in caches], start=pos)
        pos += 1
    return torch.cat(out, dim=1)
