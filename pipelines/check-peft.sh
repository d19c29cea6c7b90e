#!/usr/bin/env bash
# Checks plumb's LoRA interchange with PEFT and transformers (pipelines/check_peft.py): trains a small
# SFT base and a LoRA SFT stage over it on the quick built-in task, exports the adapter in PEFT's
# layout with its base as a Hugging Face checkpoint (`plumb export adapter --with-base`) and the
# merged model (`plumb export merge`), prints plumb's logits for one token sequence with each
# (`plumb export logits`), and has PEFT and transformers compute the same logits. Then the other
# direction: PEFT makes an adapter of its own (random A and B on three targets) over the same base,
# and plumb's logits with it are compared with PEFT's.
#
#   pipelines/check-peft.sh [WORKDIR]
#
# The scratch virtual environment (PEFT_VENV, default /tmp/lora-peft-venv) gets torch, transformers,
# peft and safetensors from PyPI on first use. Not needed by the build, the tests or CI. PLUMB names
# the binary (default .build/release/plumb).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/check-peft.XXXXXX)}
mkdir -p "$work"
plumb=${PLUMB:-$here/.build/release/plumb}
venv=${PEFT_VENV:-/tmp/lora-peft-venv}
[ -x "$plumb" ] || (cd "$here" && swift build -c release --product plumb)
if ! "$venv/bin/python" -c 'import torch, transformers, peft' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch transformers peft safetensors
fi
runs="$work/runs/peft"
if [ ! -f "$runs/sft-lora/manifest.json" ]; then
    "$plumb" task generate --seed 3 --quick --out "$work/task"
    "$plumb" tokenizer train --input "$work/task/corpus.txt" --out "$work/spm" --vocab-size 512
    "$plumb" import "$work/task/sft.jsonl" --out "$runs/import-sft"
    cat > "$work/model.json" <<'JSON'
{"hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 64, "tie_word_embeddings": true}
JSON
    "$plumb" sft --tokenizer "$work/spm/spm.model" --data "$runs/import-sft" --init-from tiny --config "$work/model.json" \
        --seq-len 64 --rows 4 --epochs 1 --lr 3e-3 --eval-every 0 --out "$runs/sft"
    "$plumb" stage sft --tokenizer "$work/spm/spm.model" --data "$runs/import-sft" --init-from "$runs/sft" \
        --seq-len 64 --rows 4 --epochs 1 --lora "rank=8 alpha=16 lr=1e-2" --out "$runs/sft-lora"
fi
"$plumb" export adapter "$runs/sft-lora" --with-base "$work/base-hf" --out "$work/peft-adapter"
"$plumb" export merge "$runs/sft-lora" --out "$work/merged-hf" --force
tokens=1,17,42,99,7,256,311,5,88,140,3,77
"$plumb" export logits "$work/base-hf" --adapter "$work/peft-adapter" --tokens "$tokens" > "$work/plumb-adapter.jsonl"
"$plumb" export logits "$work/merged-hf" --tokens "$tokens" > "$work/plumb-merged.jsonl"
"$venv/bin/python" "$here/pipelines/check_peft.py" --base "$work/base-hf" --adapter "$work/peft-adapter" \
    --merged "$work/merged-hf" --tokens "$tokens" --plumb-adapter "$work/plumb-adapter.jsonl" --plumb-merged "$work/plumb-merged.jsonl"
rm -rf "$work/peft-made"
"$venv/bin/python" "$here/pipelines/check_peft.py" --make-adapter "$work/peft-made" --base "$work/base-hf" --tokens "$tokens" \
    > "$work/peft-made-logits.jsonl"
"$plumb" export logits "$work/base-hf" --adapter "$work/peft-made" --tokens "$tokens" > "$work/plumb-on-peft-made.jsonl"
"$venv/bin/python" "$here/pipelines/check_peft.py" --compare "$work/peft-made-logits.jsonl" "$work/plumb-on-peft-made.jsonl"
