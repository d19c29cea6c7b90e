"""Reward models' agreement with the annotators on on-policy comparisons, from `rm eval --json` outputs
(analysis only). Ties the oracle cannot separate are labelled by noise, so the ceiling is below 1.

  python annotated.py NAME=EVAL.json ...
"""
import json
import sys

KEYS = [("all", "accuracy", "pairs"),
        ("helpfulness pairs", "accuracy.dimension.helpfulness", "pairs.dimension.helpfulness"),
        ("safety pairs", "accuracy.dimension.safety", "pairs.dimension.safety"),
        ("safety pairs, harmful prompts", "accuracy.dimension_tag.safety.harmful", "pairs.dimension_tag.safety.harmful"),
        ("safety pairs, look-alike prompts", "accuracy.dimension_tag.safety.borderline", "pairs.dimension_tag.safety.borderline"),
        ("prefer shorter", "baseline.prefer_shorter", None)]


def main():
    table = {}
    for spec in sys.argv[1:]:
        name, path = spec.split("=", 1)
        with open(path) as f:
            table[name] = json.load(f)
    first = next(iter(table.values()))
    print("| pairs | n | " + " | ".join(table) + " |")
    print("|" + "---|" * (2 + len(table)))
    for label, key, count in KEYS:
        n = first.get(count, "") if count else ""
        print(f"| {label} | {n} | " + " | ".join(f"{d.get(key, float('nan')):.3f}" for d in table.values()) + " |")


if __name__ == "__main__":
    main()
