#!/usr/bin/env bash
# Builds the libFuzzer binary and runs one target for SECONDS on one core.
#   fuzz/run.sh TARGET SECONDS [extra libFuzzer flags...]
# TARGET: json schema csv safetensors llama2c shard label-studio argilla records
# The build has its own scratch path (.build-fuzz) and is made only with PLUMB_FUZZ=1, so the normal
# build never sees the fuzz target. Seeds come from ../shared/data and small files made here; the
# corpus grows under .build-fuzz/corpus/TARGET, crash inputs go to .build-fuzz/crashes/TARGET and the
# log to .build-fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:?usage: fuzz/run.sh TARGET SECONDS}"
SECONDS_TO_RUN="${2:?usage: fuzz/run.sh TARGET SECONDS}"
shift 2
DATA="${PLUMB_SHARED_DATA:-../shared/data}"
[ -d "$DATA" ] || DATA=/work/shared/data
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

PLUMB_FUZZ=1 swift build --scratch-path .build-fuzz --product PlumbFuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >&2
BIN=.build-fuzz/debug/PlumbFuzz

SEEDS=.build-fuzz/seeds/$TARGET
CORPUS=.build-fuzz/corpus/$TARGET
CRASHES=.build-fuzz/crashes/$TARGET
mkdir -p "$SEEDS" "$CORPUS" "$CRASHES" .build-fuzz/logs

# Small seed files: real samples (cut to their first lines) and hand-made edge cases.
seed() { printf '%s' "$2" > "$SEEDS/$1"; }
head_lines() { { zcat -f "$1" || true; } | head -n "$2"; }
case "$TARGET" in
    json)
        head_lines "$DATA/hh-rlhf/harmless-base-test.head1500.jsonl.gz" 3 > "$SEEDS/hh.jsonl"
        head_lines "$DATA/pku-saferlhf/alpaca7b-test.first38.jsonl" 2 > "$SEEDS/pku.jsonl"
        head -c 4000 "$DATA/llama-factory/dpo_en_demo.json" > "$SEEDS/llama-factory-cut.json"
        cp "$DATA/torchtune/stack_exchange_paired_tiny.json" "$SEEDS/" 2>/dev/null || true
        seed array.json '[{"a":1},{"b":"x\"y"},[1,2,{"c":null}]]'
        seed object.json '{"chosen":"a","rejected":"b","prompt":"p"}'
        seed lines.jsonl $'{"a":1}\n\n{"b":[1,2]}\r\n{"c":"\\u00e9"}\n'
        ;;
    schema)
        seed plain '{"schema":"comparison/1","id":"x"}'
        seed nested '{"a":{"schema":"x/1"},"b":["}",{"c":"\\""}],"schema":"prompt/12"}'
        seed escaped '{"schema":"comparison\/1"}'
        seed missing '{"id":"x","n":[1,2,3]}'
        ;;
    csv)
        seed basic.csv $'prompt,chosen,rejected\nhi,"a, b","c ""q"""\n'
        seed multiline.csv $'\xef\xbb\xbfprompt,response\n"line 1\nline 2",x\r\nshort\n'
        ;;
    shard | safetensors | llama2c)
        PLUMB_FUZZ_TARGET="$TARGET" PLUMB_FUZZ_SEEDS="$SEEDS" "$BIN" -runs=0 "$SEEDS" >/dev/null 2>&1
        [ "$TARGET" = shard ] && head_lines "$DATA/pku-saferlhf/alpaca7b-test.first38.jsonl" 2 | zstd -q -c > "$SEEDS/plain-zstd.jsonl.zst"
        ;;
    label-studio)
        cp "$DATA/label-studio/rlhf-pairwise-export/ls_output_data.json" "$SEEDS/rlhf-pairwise.json"
        for kind in pairwise ranker ranker_buckets; do
            dir="$DATA/label-studio/editor-examples/$kind"
            for f in "$dir"/*; do cp "$f" "$SEEDS/$kind-$(basename "$f")"; done
            config=$(ls "$dir"/*.xml 2>/dev/null | head -n 1 || true)
            annotation=$(ls "$dir"/*.json 2>/dev/null | grep -v -i task | head -n 1 || true)
            if [ -n "$config" ] && [ -n "$annotation" ]; then
                { cat "$config"; printf '\0'; cat "$annotation"; } > "$SEEDS/$kind-with-config"
            fi
        done
        ;;
    argilla)
        for f in "$DATA"/argilla/*.json; do cp "$f" "$SEEDS/"; done
        seed v1.json '[{"fields":{"prompt":"p","response-1":"a","response-2":"b"},"responses":[{"status":"submitted","values":{"ranking":{"value":[{"value":"response-1","rank":1},{"value":"response-2","rank":2}]}}}]}]'
        seed hf.jsonl '{"prompt":"p","response-1":"a","response-2":"b","ranking":[{"user_id":"u","value":{"rank":[1,2],"value":["response-1","response-2"]},"status":"submitted"}]}'
        ;;
    records)
        F=Tests/PlumbDataTests/Fixtures
        for f in oasst-trees.jsonl oasst-messages.jsonl stack-exchange-preferences.jsonl nectar.jsonl helpsteer.jsonl \
                 kto.jsonl autoj-pairwise.jsonl mt-bench-human.jsonl aspects.jsonl; do cp "$F/$f" "$SEEDS/"; done
        head -c 3000 "$F/real/pandalm-testset-v1.sample.json" > "$SEEDS/pandalm-cut.json"
        seed oasst-deep.jsonl '{"prompt":{"message_id":"a","role":"prompter","text":"q","review_result":true,"replies":[{"message_id":"b","role":"assistant","text":"x","rank":0,"review_result":true,"replies":[]},{"message_id":"c","role":"assistant","text":"y","rank":1,"review_result":true}]}}'
        seed loop.jsonl $'{"message_id":"a","parent_id":"b","role":"prompter","text":"q"}\n{"message_id":"b","parent_id":"a","role":"assistant","text":"x"}\n'
        ;;
    *) echo "fuzz/run.sh: unknown target '$TARGET'" >&2; exit 2 ;;
esac

echo "fuzz/run.sh: $TARGET for $SECONDS_TO_RUN s, seeds $(ls "$SEEDS" | wc -l), corpus $(ls "$CORPUS" | wc -l)" >&2
# -workers=1 -jobs=1: one fuzzing process (libFuzzer runs it as a child that logs to fuzz-0.log).
ROOT=$(pwd)
LOGS=.build-fuzz/logs
rm -f "$LOGS/fuzz-0.log"
status=0
(cd "$LOGS" && PLUMB_FUZZ_TARGET="$TARGET" ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1" "$ROOT/$BIN" \
    -max_total_time="$SECONDS_TO_RUN" -workers=1 -jobs=1 -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$ROOT/$CRASHES/" "$@" "$ROOT/$CORPUS" "$ROOT/$SEEDS") || status=$?
mv "$LOGS/fuzz-0.log" "$LOGS/$TARGET.log"
grep -E "^(Done|stat::|==[0-9]+==ERROR|SUMMARY)|#[0-9]+.*DONE" "$LOGS/$TARGET.log" | tail -n 20 || true
echo "fuzz/run.sh: log $LOGS/$TARGET.log, crashes: $(ls "$CRASHES" | wc -l)" >&2
exit "$status"
