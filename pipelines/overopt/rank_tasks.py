"""Every prompt of an rs stage as a human ranking task, as `plumb rs --human-rank-share 1` writes them
(HumanTasks.write: each prompt's distinct finished non-blank samples, item ids s<sample>, at least two), so
that `plumb task annotate --as comparisons` can compare the samples of a stage that routed only a share of
its prompts to humans (analysis only).

  python rank_tasks.py RS_STAGE_DIR OUT.json [--prompts N]
"""
import argparse
import glob
import json
import subprocess
from collections import OrderedDict


def samples(stage):
    for shard in sorted(glob.glob(stage + "/samples-*.jsonl.zst")):
        out = subprocess.run(["zstdcat", shard], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            yield json.loads(line)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("stage")
    p.add_argument("out")
    p.add_argument("--prompts", type=int, default=None)
    a = p.parse_args()
    groups = OrderedDict()
    for s in samples(a.stage):
        groups.setdefault(s["prompt_id"], []).append(s)
    tasks = []
    for pid, group in groups.items():
        seen, items = set(), []
        for s in sorted(group, key=lambda s: s["sample"]):
            if s["stop"] == "eos" and s["text"].strip() and s["text"] not in seen:
                seen.add(s["text"])
                items.append({"id": f"s{s['sample']}", "body": s["text"]})
        if len(items) < 2:
            continue
        prompt = group[0]["prompt"]
        text = "\n\n".join(m["content"] for m in prompt["messages"] if m["role"] == "user")
        tasks.append({"data": {"prompt_id": pid, "prompt": text, "items": items, "tags": prompt.get("tags", [])}})
        if a.prompts and len(tasks) >= a.prompts:
            break
    with open(a.out, "w") as f:
        json.dump(tasks, f)
    print(f"{len(tasks)} ranking tasks from {len(groups)} prompts")


if __name__ == "__main__":
    main()
