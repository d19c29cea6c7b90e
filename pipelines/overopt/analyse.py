"""Over-optimisation tables and plots from `plumb eval sample-scores` files (analysis only).

  python analyse.py bok FILE [--ks 1,2,4,...] [--variant NAME=H,S[,T[,PER_TOKEN]]] [--plot OUT.png] [--json OUT.json]
  python analyse.py pairs FILE [--variant NAME=H,S[,T[,PER_TOKEN]]] [--max-samples 16]
  python analyse.py compare FILE A B [--ks 4,16,64]     (A, B: variants; paired bootstrap over prompts)

A variant names the helpfulness and safety scores to combine (`stored` = the rs stage's own, or a
`--model` name given to sample-scores), optionally the gate threshold (default 0.15) and a penalty per
response token subtracted from the combined logit (default 0): NAME=H,S[,T[,PER_TOKEN]].
"""
import argparse
import json
import math

import numpy as np

import bestofk as B


def score_fn(name, which):
    if name == "stored":
        return lambda g: [r[which] for r in g]
    return lambda g: [r["scores"][name] for r in g]


def variant_fns(spec):
    """NAME=H,S[,T] -> (name, combined selector, helpfulness fn, safety fn)."""
    name, rest = spec.split("=", 1)
    parts = rest.split(",")
    h, s = score_fn(parts[0], "helpfulness"), score_fn(parts[1], "safety")
    t = float(parts[2]) if len(parts) > 2 else 0.15
    per_token = float(parts[3]) if len(parts) > 3 else 0.0

    def comb(g):
        sp = np.array([r["safety_prompt"] for r in g])
        tokens = np.array([r["tokens"] for r in g], dtype=float)
        return B.combined(np.asarray(h(g), float), np.asarray(s(g), float), sp, t) - per_token * tokens
    return name, comb, h, s


def bok(args):
    groups = B.load(args.file)
    ks = [int(k) for k in args.ks.split(",")]
    selectors, proxies = {"oracle": "oracle"}, {}
    for spec in args.variant or ["stored=stored,stored"]:
        name, comb, h, s = variant_fns(spec)
        selectors[name + ":combined"] = comb
        proxies[name + ":combined"] = comb
        if args.single:
            selectors[name + ":helpfulness"] = h
            selectors[name + ":safety"] = s
    rows = B.curves(groups, selectors, ks, proxies)
    cols = ["helpful", "violations", "false_refusals", "gold_score", "correct", "over_limit", "words"] + ["proxy:" + p for p in proxies]
    print("| selector | k | KL | sqrt KL | " + " | ".join(cols) + " |")
    print("|" + "---|" * (4 + len(cols)))
    for r in rows:
        print(f"| {r['selector']} | {r['k']} | {r['kl']:.2f} | {math.sqrt(r['kl']):.2f} | "
              + " | ".join(f"{r.get(c, float('nan')):.3f}" for c in cols) + " |")
    print(f"prompts {rows[0]['prompts']}: helpfulness {rows[0]['n_helpful']}, harmful {rows[0]['n_harmful']}, "
          f"look-alike {rows[0]['n_lookalike']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.plot:
        plot(rows, args.plot, args.title)


def plot(rows, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    metrics = [("helpful", "helpful (oracle)"), ("violations", "violations (oracle)"),
               ("false_refusals", "false refusals (oracle)"), ("gold_score", "gold score (oracle)")]
    fig, axes = plt.subplots(1, len(metrics) + 1, figsize=(4 * (len(metrics) + 1), 3.4))
    selectors = list(dict.fromkeys(r["selector"] for r in rows))
    colours = dict(zip(selectors, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3))
    for sel in selectors:
        rs = [r for r in rows if r["selector"] == sel]
        d = [math.sqrt(r["kl"]) for r in rs]
        for ax, (m, label) in zip(axes, metrics):
            ax.plot(d, [r[m] for r in rs], marker="o", ms=3, label=sel, color=colours[sel])
            ax.set_title(label, fontsize=9)
        if "proxy:" + sel in rows[0]:
            axes[-1].plot(d, [r["proxy:" + sel] for r in rs], marker="o", ms=3, label=sel, color=colours[sel])
    axes[-1].set_title("proxy: its own combined logit", fontsize=9)
    for ax in axes:
        ax.set_xlabel("d = sqrt(KL_bon)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6)
    fig.suptitle(title or "", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def pairs(args):
    groups = B.load(args.file)
    scorers = {}
    for spec in args.variant or ["stored=stored,stored"]:
        name, comb, h, s = variant_fns(spec)
        scorers[name + ":combined"], scorers[name + ":helpfulness"], scorers[name + ":safety"] = comb, h, s
    scorers["shorter"] = lambda g: [-r["words"] for r in g]
    acc = B.pair_accuracy(groups, scorers, args.max_samples)
    keys = sorted({k for d in acc.values() for k in d})
    print("| family | contrast | pairs | " + " | ".join(scorers) + " |")
    print("|" + "---|" * (3 + len(scorers)))
    for key in keys:
        n = next(iter(acc.values()))[key][1]
        print(f"| {key[0]} | {key[1]} | {n} | " + " | ".join(f"{acc[s][key][0] / max(acc[s][key][1], 1):.3f}" for s in scorers) + " |")


def compare(args):
    """Paired difference, variant A minus variant B, of each gold metric at each k (bootstrap over prompts)."""
    groups = B.load(args.file)
    n = min(len(g) for g in groups)
    groups = [g[:n] for g in groups]
    (na, ca, _, _), (nb, cb, _, _) = variant_fns(args.a), variant_fns(args.b)
    print(f"| k | metric | {na} | {nb} | {na} - {nb} [95% paired bootstrap] | prompts |")
    print("|---|---|---|---|---|---|")
    for k in [int(x) for x in args.ks.split(",")]:
        for metric in ("helpful", "violation", "false_refusal", "gold_score"):
            a, b = B.per_prompt(groups, ca, k, metric), B.per_prompt(groups, cb, k, metric)
            d, lo, hi, m = B.paired_difference(a, b)
            print(f"| {k} | {metric} | {np.nanmean(a):.3f} | {np.nanmean(b):.3f} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] | {m} |")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("bok")
    a.add_argument("file")
    a.add_argument("--ks", default="1,2,4,8,16,32,64")
    a.add_argument("--variant", action="append")
    a.add_argument("--single", action="store_true", help="also each reward model alone as a selector")
    a.add_argument("--plot")
    a.add_argument("--title")
    a.add_argument("--json")
    b = sub.add_parser("pairs")
    b.add_argument("file")
    b.add_argument("--variant", action="append")
    b.add_argument("--max-samples", type=int, default=16)
    c = sub.add_parser("compare")
    c.add_argument("file")
    c.add_argument("a", help="variant NAME=H,S[,T[,PER_TOKEN]]")
    c.add_argument("b", help="variant NAME=H,S[,T[,PER_TOKEN]]")
    c.add_argument("--ks", default="4,16,64")
    args = p.parse_args()
    {"bok": bok, "pairs": pairs, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
