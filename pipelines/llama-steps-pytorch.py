#!/usr/bin/env python3
"""`plumb bench train` and `plumb bench dpo` (reference cached) written in PyTorch, at the presets'
shapes, for the side-by-side throughput comparison (pipelines/bench-side-by-side.sh).

Shapes are LlamaPreset's (Sources/PlumbModel/LlamaConfig.swift): 15m and 110m are llama2.c's stories
models (tied embeddings), 1b is TinyLlama-1.1B (grouped-query attention 32/4, untied head). RMSNorm eps
1e-5, RoPE theta 10000 on rotated halves, SwiGLU, random weights (std 0.02), float32 on the CPU.
  --step train  forward, mean cross-entropy over every token, backward, clip at 1, AdamW
                (as ModelBenchmarks.train: batch B x T of random tokens and targets)
  --step dpo    the sigmoid DPO loss (beta 0.1) over P pairs of T tokens (prompt 64), response
                log-probabilities summed per sequence, clip at 1, AdamW; the reference's
                log-probabilities given (`--reference cached`, as Plumbline's bench dpo) or computed
                by a frozen copy of the policy under no_grad every step (`--reference forward`)
  --step dpo --lora  the same DPO step with LoRA adapters by Hugging Face PEFT (`inject_adapter_in_model`,
                rank 8, alpha 16, dropout 0, every linear projection of a block) on the frozen model, as
                `plumb bench memory --mode lora-dpo`: only the adapters train (AdamW over them); the
                reference is the base with the adapters off, cached as above (`--reference forward`
                computes it each step under `disable_adapter_layers`)
AdamW (0.9, 0.95), eps 1e-8, weight decay 0.1. One warm-up step, then --steps timed steps; prints one
JSON line (tokens/s for train, pairs/s for dpo). PEFT is needed only with --lora.
"""
import argparse
import copy
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# dim, hidden, layers, heads, kv heads, vocabulary, tied embeddings
PRESETS = {
    "15m": (288, 768, 6, 6, 6, 32000, True),
    "110m": (768, 2048, 12, 12, 12, 32000, True),
    "1b": (2048, 5632, 22, 32, 4, 32000, False),
}
EPS, THETA = 1e-5, 10000.0


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
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin


class Block(nn.Module):
    def __init__(self, dim, hidden, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.attention_norm, self.ffn_norm = RMSNorm(dim), RMSNorm(dim)
        kv = kv_heads * self.head_dim
        self.wq, self.wo = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim, bias=False)
        self.wk, self.wv = nn.Linear(dim, kv, bias=False), nn.Linear(dim, kv, bias=False)
        self.w1, self.w3 = nn.Linear(dim, hidden, bias=False), nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x, cos, sin):
        b, t, c = x.shape
        h = self.attention_norm(x)
        q = self.wq(h).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.wk(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if self.kv_heads != self.heads:   # Hugging Face repeat_kv
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(a.transpose(1, 2).reshape(b, t, c))
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Llama(nn.Module):
    def __init__(self, preset, seq_len):
        super().__init__()
        dim, hidden, layers, heads, kv_heads, vocab, tied = PRESETS[preset]
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(Block(dim, hidden, heads, kv_heads) for _ in range(layers))
        self.norm = RMSNorm(dim)
        self.head = None if tied else nn.Linear(dim, vocab, bias=False)
        cos, sin = rope(seq_len, dim // heads)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        x = self.norm(x)
        return self.head(x) if self.head is not None else x @ self.embed.weight.t()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", choices=sorted(PRESETS), default="15m")
    parser.add_argument("--step", choices=["train", "dpo"], default="train")
    parser.add_argument("--batch-size", type=int, default=8, help="sequences per train step")
    parser.add_argument("--pairs", type=int, default=4, help="pairs per DPO step")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--prompt-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference", choices=["cached", "forward"], default="cached", help="DPO's reference log-probabilities")
    parser.add_argument("--lora", action="store_true", help="dpo: train PEFT LoRA adapters (r 8, alpha 16, all linear) on the frozen model")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t = args.seq_len
    model = Llama(args.preset, t)
    vocab = PRESETS[args.preset][5]
    if args.lora:
        from peft import LoraConfig, inject_adapter_in_model
        lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["wq", "wk", "wv", "wo", "w1", "w2", "w3"])
        model = inject_adapter_in_model(lora, model)
        for name, p in model.named_parameters():
            p.requires_grad_("lora_" in name)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=1e-6, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    n = args.batch_size if args.step == "train" else 2 * args.pairs
    tokens, targets = torch.randint(0, vocab, (n, t)), torch.randint(0, vocab, (n, t))
    mask = (torch.arange(1, t + 1) >= args.prompt_length).float().expand(n, t)   # targets in the response
    cached = torch.full((n,), -float(t))
    reference = copy.deepcopy(model).eval().requires_grad_(False) if args.step == "dpo" and args.reference == "forward" and not args.lora else None

    def response_logps(logits):
        """Sum over each sequence's response tokens of log p(target)."""
        return (torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask).sum(-1)

    def loss_of_batch():
        logits = model(tokens)
        if args.step == "train":
            return F.cross_entropy(logits.view(-1, vocab), targets.reshape(-1))
        logps = response_logps(logits)
        if args.lora and args.reference == "forward":
            with torch.no_grad():
                for m in model.modules():
                    if hasattr(m, "disable_adapters"):
                        m.enable_adapters(False)
                ref = response_logps(model(tokens))
                for m in model.modules():
                    if hasattr(m, "disable_adapters"):
                        m.enable_adapters(True)
        elif reference is None:
            ref = cached
        else:
            with torch.no_grad():
                ref = response_logps(reference(tokens))
        h = (logps[0::2] - ref[0::2]) - (logps[1::2] - ref[1::2])
        return -F.logsigmoid(0.1 * h).mean()

    def step():
        loss = loss_of_batch()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()

    step()   # warm-up
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = (time.perf_counter() - start) / args.steps
    out = {"benchmark": f"{args.step}-pytorch", "preset": args.preset, "torch": torch.__version__, "threads": args.threads,
           "seq_len": t, "steps": args.steps, "step_seconds": seconds,
           "parameters": sum(p.numel() for p in model.parameters()), "trained_parameters": sum(p.numel() for p in trained),
           "lora": args.lora}
    if args.step == "train":
        out.update(batch_size=n, tokens_per_second=n * t / seconds)
    else:
        out.update(pairs_per_step=args.pairs, pairs_per_second=args.pairs / seconds, reference=args.reference)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
