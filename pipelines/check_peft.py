"""Checks plumb's LoRA interchange with the real peers: PEFT loads plumb's adapter on plumb's base
(transformers' LlamaForCausalLM) and transformers loads plumb's merged export; each gives plumb's
logits on the same tokens within a stated tolerance. Run by pipelines/check-peft.sh, which makes the
files and plumb's logits; not needed by the build, the tests or CI.

  check_peft.py --base BASE_HF --adapter PEFT_DIR --merged MERGED_HF --tokens 1,2,3
                --plumb-adapter A.jsonl --plumb-merged M.jsonl [--tolerance 1e-4]
A.jsonl / M.jsonl: plumb's logits, one JSON array per position (`plumb export logits`).

The other direction, an adapter PEFT made read by plumb:
  check_peft.py --make-adapter OUT_DIR --base BASE_HF --tokens 1,2,3 > PEFT_LOGITS.jsonl
      (get_peft_model with r 4, alpha 12, q/v/down only, A and B both random; save_pretrained)
  check_peft.py --compare PEFT_LOGITS.jsonl PLUMB_LOGITS.jsonl [--tolerance 1e-4]
"""
import argparse
import json
import sys

import torch
from peft import PeftModel
from transformers import LlamaForCausalLM


def read_logits(path):
    with open(path) as f:
        return torch.tensor([json.loads(line) for line in f if line.strip()], dtype=torch.float32)


def logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float()


def make_adapter(a):
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    base = LlamaForCausalLM.from_pretrained(a.base, torch_dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=12, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False,
                        task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    model.eval()
    model.save_pretrained(a.make_adapter)
    for row in logits(model, [int(t) for t in a.tokens.split(",")]):
        print(json.dumps(row.tolist()))


def compare(a):
    peft_logits, plumb_logits = read_logits(a.compare[0]), read_logits(a.compare[1])
    d = (peft_logits - plumb_logits).abs().max().item()
    print(f"| plumb reading PEFT's own adapter vs PEFT | {d:.3g} | {'yes' if d <= a.tolerance else 'NO'} |")
    sys.exit(0 if d <= a.tolerance else 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base")
    p.add_argument("--adapter")
    p.add_argument("--merged")
    p.add_argument("--tokens")
    p.add_argument("--plumb-adapter")
    p.add_argument("--plumb-merged")
    p.add_argument("--make-adapter")
    p.add_argument("--compare", nargs=2)
    # fp32 on both sides; the products add in different orders (BLAS blocking, PEFT's separate
    # B(A x) path), so logits of magnitude ~10 agree to a few ulps times the depth: 1e-4 absolute.
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.make_adapter:
        return make_adapter(a)
    if a.compare:
        return compare(a)
    ids = [int(t) for t in a.tokens.split(",")]
    base = LlamaForCausalLM.from_pretrained(a.base, torch_dtype=torch.float32)
    base.eval()
    bare = logits(base, ids)
    peft = PeftModel.from_pretrained(base, a.adapter)
    peft.eval()
    adapted = logits(peft, ids)
    merged = LlamaForCausalLM.from_pretrained(a.merged, torch_dtype=torch.float32)
    merged.eval()
    merged_logits = logits(merged, ids)
    peft_merged = logits(peft.merge_and_unload(), ids)
    plumb_adapter, plumb_merged = read_logits(a.plumb_adapter), read_logits(a.plumb_merged)
    rows = [
        ("PEFT adapter on the base vs plumb (adapter unmerged)", (adapted - plumb_adapter).abs().max().item()),
        ("transformers on plumb's merged export vs plumb (merged)", (merged_logits - plumb_merged).abs().max().item()),
        ("PEFT merge_and_unload vs plumb's merged export (both in transformers)", (peft_merged - merged_logits).abs().max().item()),
    ]
    moved = (adapted - bare).abs().max().item()
    print(f"tokens {len(ids)}, vocab {bare.shape[-1]}; the adapter moves the logits by up to {moved:.4g} (must exceed the tolerance)")
    print(f"max |logit| {plumb_adapter.abs().max().item():.4g}; tolerance {a.tolerance:g}")
    print("| check | max abs difference | within tolerance |")
    print("|---|---|---|")
    ok = moved > a.tolerance
    for name, d in rows:
        print(f"| {name} | {d:.3g} | {'yes' if d <= a.tolerance else 'NO'} |")
        ok = ok and d <= a.tolerance
    print(f"torch {torch.__version__}, " + ", ".join(f"{m} {__import__(m).__version__}" for m in ("transformers", "peft")))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
