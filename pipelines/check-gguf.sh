#!/usr/bin/env bash
# Checks `plumb export gguf` with the real peer (llama.cpp through llama-cpp-python, and the `gguf`
# reader): exports SOURCE as f32 and q8_0, decodes 64 prompts x 32 tokens greedily with plumb (fp32,
# and the 8-bit path `--weights q8`) and with llama.cpp, and prints the agreement (targets: f32 equal,
# q8_0 >= 95% of positions), every required key and tensor as `gguf` reads them, and, for a
# SentencePiece tokenizer, whether llama-cpp-python's formatting with the file's chat template gives
# plumb's TemplatedTokenizer ids on several conversations.
#
#   pipelines/check-gguf.sh SOURCE TOKENIZER [WORKDIR]
#     SOURCE     a training stage or Hugging Face directory, or a llama2.c .bin
#     TOKENIZER  its SentencePiece .model (prompts are chats in the plumbline template), or llama2.c's
#                tokenizer.bin (prompts are story openings, BOS first)
# e.g. pipelines/check-gguf.sh ../shared/data/llama2c/stories260K.bin ../shared/data/llama2c/tok512.bin
#
# The scratch virtual environment (GGUF_VENV, default /tmp/gguf-venv) gets `gguf`, `numpy` and
# `llama-cpp-python` from PyPI on first use (llama-cpp-python compiles llama.cpp: minutes). Not needed
# by the build, the tests or CI. PLUMB names the binary (default .build/release/plumb).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source=$1; tokenizer=$2
work=${3:-$(mktemp -d /tmp/check-gguf.XXXXXX)}
mkdir -p "$work"
plumb=${PLUMB:-$here/.build/release/plumb}
venv=${GGUF_VENV:-/tmp/gguf-venv}
[ -x "$plumb" ] || (cd "$here" && swift build -c release --product plumb)
if ! "$venv/bin/python" -c 'import gguf, llama_cpp, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet gguf numpy llama-cpp-python
fi
py="$venv/bin/python"
if [ -d "$source" ]; then model=(--model "$source"); else model=(--llama2c "$source"); fi

"$plumb" export gguf "$source" --tokenizer "$tokenizer" --type f32 --out "$work/model-f32.gguf" --force
"$plumb" export gguf "$source" --tokenizer "$tokenizer" --type q8_0 --out "$work/model-q8_0.gguf" --force

chat=()
case "$tokenizer" in
*.bin)
    # Story openings, tokenised by llama.cpp's own tokenizer from the exported vocabulary.
    "$py" - "$work/model-f32.gguf" > "$work/prompts.jsonl" <<'PY'
import json, sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
names = ["Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia"]
starts = ["was", "saw a", "liked to", "went to the", "had a big", "wanted to", "found a", "and her mom"]
for n in names:
    for s in starts:
        print(json.dumps(llm.tokenize(f"{n} {s}".encode(), add_bos=True, special=False)))
PY
    ;;
*)
    # Chats: 64 single questions (the decoding prompts) and 8 multi-turn conversations with a system
    # message (the chat-template check), as plumb's TemplatedTokenizer encodes them.
    "$py" - > "$work/conversations.jsonl" <<'PY'
import json
topics = ["the sea", "a small garden", "bread", "the moon", "a bicycle", "rain", "an old map", "a library"]
asks = ["Tell me about {}.", "Write two sentences about {}.", "What is {} for?", "Describe {} to a child.",
        "Give me a fact about {}.", "Why do people like {}?", "How would you draw {}?", "Name something like {}."]
for t in topics:
    for a in asks:
        print(json.dumps({"messages": [{"role": "user", "content": a.format(t)}]}))
for i, t in enumerate(topics):
    print(json.dumps({"messages": [{"role": "system", "content": "You are brief and kind."},
                                   {"role": "user", "content": f"What is {t}?"},
                                   {"role": "assistant", "content": f"It is {t}, {i} times over."},
                                   {"role": "user", "content": "And then?\nSay more."}]}))
PY
    "$plumb" export chat-ids --tokenizer "$tokenizer" "$work/conversations.jsonl" > "$work/chat-ids.jsonl"
    head -64 "$work/chat-ids.jsonl" > "$work/prompts.jsonl"
    tail -8 "$work/chat-ids.jsonl" > "$work/chat-check-ids.jsonl"
    tail -8 "$work/conversations.jsonl" > "$work/chat-check.jsonl"
    head -8 "$work/chat-ids.jsonl" >> "$work/chat-check-ids.jsonl"
    head -8 "$work/conversations.jsonl" >> "$work/chat-check.jsonl"
    chat=(--chat-ids "$work/chat-check-ids.jsonl" --conversations "$work/chat-check.jsonl")
    ;;
esac

for weights in f32 q8; do
    : > "$work/plumb-$weights.jsonl"
    while read -r ids; do
        ids=$(tr -d '[] ' <<< "$ids")
        "$plumb" generate "${model[@]}" --prompt-ids "$ids" --max-new-tokens 32 --weights "$weights" \
            | "$py" -c 'import json, sys; print(json.dumps(json.loads(sys.stdin.readline())["tokens"]))' >> "$work/plumb-$weights.jsonl"
    done < "$work/prompts.jsonl"
done

"$py" "$here/pipelines/check_gguf.py" --f32 "$work/model-f32.gguf" --q8 "$work/model-q8_0.gguf" \
    --plumb-f32 "$work/plumb-f32.jsonl" --plumb-q8 "$work/plumb-q8.jsonl" --prompts "$work/prompts.jsonl" "${chat[@]}"
