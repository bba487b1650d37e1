"""A character-level language model on text that ships with Python itself (the source of the
standard library's ``textwrap`` and ``argparse`` modules by default, or any others:
``--module json,string``), so it runs offline on any machine.

Model: a small decoder-only transformer (token embedding + sinusoidal positions → causal
TransformerEncoder → Linear to the vocabulary); ``--arch lstm`` uses a 2-layer LSTM instead.
``generate(prompt, n, temperature)`` samples from softmax(logits / T): T < 1 sharpens the
distribution (safer, repetitive text), T > 1 flattens it (more surprising, more mistakes); the
script prints samples at T = 0.5, 1.0 and 1.5.

    uv run python examples/sequence/char_lm.py [--steps 1500] [--arch transformer|lstm]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import time

import numpy as np

import groundup as gu
from groundup import nn
from groundup.nn import functional as F
from groundup.optim import Adam


def corpus(modules: str = "textwrap,argparse") -> str:
    """The source code of the named standard-library modules (comma-separated), concatenated."""
    return "\n".join(inspect.getsource(importlib.import_module(m.strip()))
                     for m in modules.split(","))


class CharTransformer(nn.Module):
    """tokens (N, T) → next-character logits (N, T, vocab), causal self-attention."""

    def __init__(self, vocab: int, d: int = 128, heads: int = 4, layers: int = 2,
                 ff: int = 256, context: int = 96, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.SinusoidalPositionalEncoding(d, dropout=dropout, max_len=context,
                                                   batch_first=True)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=dropout, batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d))
        self.head = nn.Linear(d, vocab)
        self.context = context

    def forward(self, tokens):
        T = tokens.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        h = self.blocks(self.pos(self.embed(tokens)), mask=mask, is_causal=True)
        return self.head(h)


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, d: int = 64, hidden: int = 256, layers: int = 2,
                 context: int = 96) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.lstm = nn.LSTM(d, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)
        self.context = context

    def forward(self, tokens):
        return self.head(self.lstm(self.embed(tokens))[0])


def generate(model, stoi, itos, prompt: str, n: int, temperature: float = 1.0,
             generator=None) -> str:
    """Continue ``prompt`` by ``n`` characters sampled from softmax(logits / temperature)."""
    rng = np.random.default_rng(generator)
    ids = [stoi.get(c, 0) for c in prompt] or [0]
    model.eval()
    with gu.no_grad():
        for _ in range(n):
            window = np.array([ids[-model.context:]])
            logits = model(gu.tensor(window)).data[0, -1].astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            p /= p.sum()
            ids.append(int(rng.choice(len(p), p=p)))
    model.train()
    return "".join(itos[i] for i in ids)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default="textwrap,argparse",
                    help="standard-library modules whose source is the corpus (comma-separated)")
    ap.add_argument("--arch", choices=["transformer", "lstm"], default="transformer")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--context", type=int, default=96)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    gu.manual_seed(args.seed)
    text = corpus(args.module)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    V, C = len(chars), args.context
    print(f"corpus: source of {args.module}, {len(text):,} characters, vocabulary {V}")
    model = (CharTransformer(V, context=C) if args.arch == "transformer"
             else CharLSTM(V, context=C))
    opt = Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)

    def batch(src, n):
        starts = rng.integers(0, len(src) - C - 1, n)
        x = np.stack([src[s:s + C] for s in starts])
        y = np.stack([src[s + 1:s + C + 1] for s in starts])
        return gu.tensor(x), gu.tensor(y.reshape(-1))

    def val_loss():
        model.eval()
        with gu.no_grad():
            starts = np.arange(0, len(val) - C - 1, C)
            x = np.stack([val[s:s + C] for s in starts])
            y = np.stack([val[s + 1:s + C + 1] for s in starts])
            loss = F.cross_entropy(model(gu.tensor(x)).reshape(-1, V), gu.tensor(y.reshape(-1)))
        model.train()
        return loss.item()

    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step /
                                                                              args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train, args.batch_size)
        loss = F.cross_entropy(model(x).reshape(-1, V), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == args.steps:
            vl = val_loss()
            print(f"step {step}: train {loss.item():.3f}, validation {vl:.3f} nats/char "
                  f"({vl / math.log(2):.2f} bits/char), {time.perf_counter() - t0:.0f} s",
                  flush=True)
    vl = val_loss()
    samples = {}
    for temp in (0.5, 1.0, 1.5):
        s = generate(model, stoi, itos, "def ", 300, temp, generator=args.seed)
        samples[temp] = s
        print(f"\n--- temperature {temp} ---\n{s}")
    return {"val_loss": vl, "bits_per_char": vl / math.log(2), "samples": samples}


if __name__ == "__main__":
    main()
