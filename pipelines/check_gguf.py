"""Checks plumb's GGUF exports with the real peer: the `gguf` package reads every key and tensor,
llama.cpp (through llama-cpp-python) loads each file and decodes greedily from the same prompts as
plumb, and the token agreement is printed. Run by pipelines/check-gguf.sh, which makes the files,
plumb's tokens and the prompts; not needed by the build, the tests or CI.

  check_gguf.py --f32 F.gguf --q8 Q.gguf --plumb-f32 F.jsonl --plumb-q8 Q.jsonl --prompts P.jsonl
                [--chat-ids C.jsonl --conversations CONV.jsonl]
P.jsonl: one JSON list of prompt ids per line; F.jsonl / Q.jsonl: plumb's new tokens per prompt (same
order). C.jsonl: plumb's TemplatedTokenizer ids of each conversation in CONV.jsonl.
"""
import argparse
import json
import sys

import llama_cpp
import llama_cpp.llama
import numpy as np
from gguf import GGUFReader
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

# llama.cpp's CPU "extra buffer types" include an AMX path for Q8_0 that this VM's CPU advertises
# (amx_int8 in /proc/cpuinfo) but that dies with an illegal instruction here: load without them.
_default_model_params = llama_cpp.llama_model_default_params


def _model_params_without_extra_buffers():
    params = _default_model_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama.llama_cpp.llama_model_default_params = _model_params_without_extra_buffers

REQUIRED = ["general.architecture", "general.file_type", "llama.context_length", "llama.embedding_length",
            "llama.block_count", "llama.feed_forward_length", "llama.rope.dimension_count",
            "llama.attention.head_count", "llama.attention.head_count_kv",
            "llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "tokenizer.ggml.model",
            "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
            "tokenizer.ggml.add_bos_token"]


def field_value(field):
    """A scalar or string key's value, or the length of an array."""
    if len(field.types) > 1 or (field.types and field.types[0].name == "ARRAY"):
        return f"array[{len(field.data)}]"
    part = field.parts[field.data[0]]
    if field.types[0].name == "STRING":
        return bytes(part).decode("utf-8")
    return part.tolist()[0]


def read_with_gguf(path):
    reader = GGUFReader(path)
    keys = {name: field_value(f) for name, f in reader.fields.items() if not name.startswith("GGUF.")}
    missing = [k for k in REQUIRED if k not in keys]
    types = {}
    for t in reader.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        assert t.n_elements == int(np.prod(t.shape)), t.name
        assert t.data.nbytes == t.n_bytes, (t.name, t.data.nbytes, t.n_bytes)
        if t.tensor_type.name == "F32":
            assert np.isfinite(t.data).all(), t.name
    print(f"gguf {path}: {len(keys)} keys, {len(reader.tensors)} tensors {types}, "
          f"missing required keys: {missing or 'none'}, chat template: {'tokenizer.chat_template' in keys}")
    print("  " + ", ".join(f"{k}={keys[k]}" for k in REQUIRED if k in keys))
    return reader, missing


def greedy(llm, prompt, n, eos):
    """n greedy tokens after prompt (stops after EOS, kept), argmax ties to the lowest id as plumb."""
    llm.reset()
    llm.eval(prompt)
    out = []
    for _ in range(n):
        logits = np.asarray(llm.scores[llm.n_tokens - 1])
        token = int(np.argmax(logits))
        out.append(token)
        if token == eos or llm.n_tokens >= llm.n_ctx():
            break
        llm.eval([token])
    return out


def agreement(ours, theirs, n):
    positions = sum(sum(1 for a, b in zip(x, y) if a == b) for x, y in zip(ours, theirs))
    total = sum(max(len(x), len(y)) for x, y in zip(ours, theirs))
    exact = sum(1 for x, y in zip(ours, theirs) if x == y)
    return positions, total, exact


def main():
    p = argparse.ArgumentParser()
    for name in ["--f32", "--q8", "--plumb-f32", "--plumb-q8", "--prompts"]:
        p.add_argument(name, required=True)
    p.add_argument("--chat-ids")
    p.add_argument("--conversations")
    p.add_argument("--tokens", type=int, default=32)
    a = p.parse_args()
    prompts = [json.loads(line) for line in open(a.prompts)]
    failures = []
    for label, path, plumb_file, bar in [("f32", a.f32, a.plumb_f32, 1.0), ("q8_0", a.q8, a.plumb_q8, 0.95)]:
        reader, missing = read_with_gguf(path)
        if missing:
            failures.append(f"{label}: missing keys {missing}")
        ours = [json.loads(line) for line in open(plumb_file)]
        llm = Llama(model_path=path, n_ctx=min(512, int(field_value(reader.fields["llama.context_length"]))),
                    n_threads=2, n_batch=512, verbose=False, logits_all=True)   # llm.scores holds logits only with logits_all
        eos = llm.token_eos()
        theirs = [greedy(llm, prompt, a.tokens, eos) for prompt in prompts]
        same, total, exact = agreement(ours, theirs, a.tokens)
        share = same / total
        print(f"{label}: llama.cpp vs plumb ({'fp32' if label == 'f32' else 'q8'} path): {same}/{total} positions agree "
              f"({share:.4f}); {exact}/{len(prompts)} sequences identical; target >= {bar}")
        if share < bar:
            failures.append(f"{label}: agreement {share:.4f} < {bar}")
        for i, (x, y) in enumerate(zip(ours, theirs)):
            if x != y and len([1 for _ in failures]) < 50:
                first = next((j for j, (u, v) in enumerate(zip(x, y)) if u != v), min(len(x), len(y)))
                print(f"  prompt {i}: first difference at new token {first}: plumb {x[first:first + 4]} llama.cpp {y[first:first + 4]}")
        if label == "f32" and a.chat_ids:
            template = bytes(reader.fields["tokenizer.chat_template"].parts[reader.fields["tokenizer.chat_template"].data[0]]).decode()
            bos = llm.detokenize([llm.token_bos()], special=True).decode()
            eos_text = llm.detokenize([eos], special=True).decode()
            formatter = Jinja2ChatFormatter(template=template, bos_token=bos, eos_token=eos_text, add_generation_prompt=True)
            expected = [json.loads(line) for line in open(a.chat_ids)]
            conversations = [json.loads(line)["messages"] for line in open(a.conversations)]
            matched = 0
            for i, (messages, ids) in enumerate(zip(conversations, expected)):
                text = formatter(messages=messages).prompt
                tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
                if tokens == ids:
                    matched += 1
                else:
                    print(f"  conversation {i}: llama-cpp-python {tokens[:24]}... plumb {ids[:24]}...")
            print(f"chat template: llama-cpp-python's Jinja2ChatFormatter + llama.cpp tokenizer give plumb's "
                  f"TemplatedTokenizer ids on {matched}/{len(expected)} conversations")
            if matched != len(expected):
                failures.append(f"chat template: {len(expected) - matched} conversations differ")
        del llm
    print("check-gguf: " + ("all checks passed" if not failures else "FAILED: " + "; ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
