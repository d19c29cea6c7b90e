#!/usr/bin/env python3
"""The DPO training step of `plumb bench dpo --preset 15m` written in PyTorch, for a side-by-side
throughput comparison (pipelines/bench-dpo-side-by-side.sh).

A Llama of the 15m preset's shape (LlamaPreset.stories15m: dim 288, hidden 768, 6 layers, 6 heads,
6 KV heads, vocabulary 32000, tied embeddings, RMSNorm eps 1e-5, RoPE theta 10000 on rotated halves,
SwiGLU), random weights; per step 4 pairs of 256-token sequences (prompt 64 tokens; log pi(y|x) is
the sum over the response's tokens), the sigmoid DPO loss (beta 0.1), gradient clipping at 1 and an
AdamW step (0.9, 0.95, eps 1e-8, weight decay 0.1), float32 on CPU. Two settings, timed alternately:
  reference-forward  the reference's log-probabilities from a frozen copy under torch.no_grad()
                     every step (the issue's PyTorch setting)
  cached             reference log-probabilities given, as Plumbline caches them
Prints one JSON line per setting with pairs/s (best and median of the timed steps' repeats).
"""
import argparse
import copy
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DIM, HIDDEN, LAYERS, HEADS, VOCAB, EPS, THETA = 288, 768, 6, 6, 32000, 1e-5, 10000.0


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rope(seq_len, head_dim):
    inv = 1.0 / (THETA ** (torch.arange(0, head_dim, 2).float() / head_dim))
    angles = torch.outer(torch.arange(seq_len).float(), inv)
    return torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention_norm, self.ffn_norm = RMSNorm(DIM), RMSNorm(DIM)
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(DIM, DIM, bias=False) for _ in range(4))
        self.w1, self.w3 = nn.Linear(DIM, HIDDEN, bias=False), nn.Linear(DIM, HIDDEN, bias=False)
        self.w2 = nn.Linear(HIDDEN, DIM, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.attention_norm(x)
        q, k, v = (w(h).view(b, t, HEADS, DIM // HEADS).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(a.transpose(1, 2).reshape(b, t, DIM))
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Llama(nn.Module):
    def __init__(self, seq_len):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = RMSNorm(DIM)
        cos, sin = rope(seq_len, DIM // HEADS)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.norm(x) @ self.embed.weight.t()   # tied output head


def response_logps(model, tokens, targets, mask):
    """Sum over each sequence's response tokens of log p(target)."""
    logp = torch.log_softmax(model(tokens).float(), -1)
    return (logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask).sum(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--prompt-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat (after one warm-up step)")
    parser.add_argument("--repeats", type=int, default=1, help="alternating repeats of the two settings")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beta", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, t = 2 * args.pairs, args.seq_len
    policy = Llama(t)
    reference = copy.deepcopy(policy).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-6, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    sequence = torch.randint(0, VOCAB, (n, t + 1))       # chosen and rejected interleaved
    tokens, targets = sequence[:, :-1], sequence[:, 1:]
    mask = (torch.arange(1, t + 1) >= args.prompt_length).float().expand(n, t)   # targets in the response
    cached = torch.full((n,), -float(t))

    def step(with_reference):
        if with_reference:
            with torch.no_grad():
                ref = response_logps(reference, tokens, targets, mask)
        else:
            ref = cached
        logps = response_logps(policy, tokens, targets, mask)
        h = (logps[0::2] - ref[0::2]) - (logps[1::2] - ref[1::2])
        loss = -F.logsigmoid(args.beta * h).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()

    settings = {"reference-forward": True, "cached": False}
    rates = {name: [] for name in settings}
    for name, with_reference in settings.items():
        step(with_reference)   # warm-up
    for _ in range(args.repeats):
        for name, with_reference in settings.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step(with_reference)
            rates[name].append(args.pairs * args.steps / (time.perf_counter() - start))
    for name, values in rates.items():
        print(json.dumps({"benchmark": "dpo-pytorch", "reference": name, "torch": torch.__version__, "threads": args.threads,
                          "pairs_per_step": args.pairs, "seq_len": t, "steps": args.steps, "repeats": args.repeats,
                          "pairs_per_second": statistics.median(values), "pairs_per_second_best": max(values),
                          "parameters": sum(p.numel() for p in policy.parameters())}))


if __name__ == "__main__":
    main()
