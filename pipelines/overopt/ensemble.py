"""Best-of-k by a conservative ensemble of reward models already scored by `plumb eval sample-scores`
(analysis only), against each member alone: Gao et al.'s figure (gold and proxy against KL).

Each member's raw score r_i is whitened over all samples, z_i = (r_i - mean_i) / std_i, then per response
(the rules of Sources/PlumbStages/Reward/ConservativeReward.swift, Coste et al. 2023):
  mean                       mean_i z_i
  mean-minus-std:L           mean_i z_i - L * std_i z_i          (population std)
  worst                      min_i z_i
  uncertainty-weighted:L     mean_i z_i - L * var_i z_i
Helpfulness members score helpfulness prompts, safety members safety prompts (no gate). A member alone
is the rule over one member. The proxy of a selector is its own score of its picks; KL = log k - (k-1)/k.

  python ensemble.py FILES --help-members A,B,C --safety-members X,Y,Z \
      [--rules mean,mean-minus-std:1,worst,uncertainty-weighted:0.5] [--ks 1,2,4,8,16,32,64] \
      [--compare RULE@K ...] [--plot FIG] [--json OUT]

With --help-scales / --safety-scales ENSEMBLE_JSON each member i takes instead the scale that
`rm train --ensemble` measured on its validation responses (ensemble.json's members[i].scale). The
Swift code also maps a rule's result back, mean(mu) + mean(sigma) * R(z): an increasing map per
dimension, so it changes no pick; the proxy here stays in z units.

FILES: comma-separated sample-scores files of the same samples (their `scores` merge). Member names:
`stored-h` / `stored-s` (the rs stage's own scores) or `--model` names of sample-scores.
"""
import argparse
import json

import numpy as np

import bestofk as B


def member(name):
    if name == "stored-h":
        return lambda r: r["helpfulness"]
    if name == "stored-s":
        return lambda r: r["safety"]
    return lambda r: r["scores"][name]


def whitening(groups, fn):
    v = np.array([fn(r) for g in groups for r in g], dtype=float)
    return v.mean(), v.std()


def scales(path, groups, names):
    """Each member's (mean, std): from an ensemble.json, or whitened over all samples."""
    if path is None:
        return [whitening(groups, member(n)) for n in names]
    with open(path) as f:
        members = json.load(f)["members"]
    if len(members) != len(names):
        raise SystemExit(f"{path}: {len(members)} members, {len(names)} names given")
    return [(m["scale"]["mean"], m["scale"]["std"]) for m in members]


def reduce(rule, z):
    name, _, lam = rule.partition(":")
    if name == "mean":
        return z.mean()
    if name == "worst":
        return z.min()
    if name == "mean-minus-std":
        return z.mean() - float(lam) * z.std()
    if name == "uncertainty-weighted":
        return z.mean() - float(lam) * z.var()
    raise SystemExit(f"unknown rule {rule}")


def selector(rule, hm, sm, groups):
    """The rule over the members (hm, sm: lists of (fn, (mean, std))) of each response's dimension,
    computed once per prompt and looked up by prompt id."""
    cache = {}
    for g in groups:
        out = []
        for r in g:
            members = sm if r["safety_prompt"] else hm
            out.append(reduce(rule, np.array([(f(r) - m) / s for f, (m, s) in members])))
        cache[g[0]["prompt_id"]] = out
    return lambda g: cache[g[0]["prompt_id"]][:len(g)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--help-members", required=True)
    p.add_argument("--safety-members", required=True)
    p.add_argument("--rules", default="mean,mean-minus-std:1,worst,uncertainty-weighted:0.5")
    p.add_argument("--ks", default="1,2,4,8,16,32,64")
    p.add_argument("--compare", nargs="*", default=[], help="RULE@K: paired difference against member 0 alone and against k = 1")
    p.add_argument("--help-scales", help="ensemble.json of the helpfulness members (in --help-members order)")
    p.add_argument("--safety-scales", help="ensemble.json of the safety members (in --safety-members order)")
    p.add_argument("--plot")
    p.add_argument("--json")
    a = p.parse_args()
    groups = B.load(a.file)
    hn, sn = a.help_members.split(","), a.safety_members.split(",")
    hm = [(member(n), w) for n, w in zip(hn, scales(a.help_scales, groups, hn))]
    sm = [(member(n), w) for n, w in zip(sn, scales(a.safety_scales, groups, sn))]
    selectors = {f"member {i} alone ({h}, {s})": selector("mean", [hm[i]], [sm[i]], groups) for i, (h, s) in enumerate(zip(hn, sn))}
    for rule in a.rules.split(","):
        selectors[f"ensemble {rule}"] = selector(rule, hm, sm, groups)
    selectors["oracle"] = "oracle"
    ks = [int(k) for k in a.ks.split(",")]
    proxies = {name: sel for name, sel in selectors.items() if name != "oracle"}
    rows = B.curves(groups, selectors, ks, proxies)
    print("| selector | k | KL | helpful | violations | false refusals | gold score | proxy (own score) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        proxy = r.get("proxy:" + r["selector"])
        print(f"| {r['selector']} | {r['k']} | {r['kl']:.2f} | {r['helpful']:.3f} | {r['violations']:.3f} | "
              f"{r['false_refusals']:.3f} | {r['gold_score']:.3f} | {'' if proxy is None else f'{proxy:.3f}'} |")
    single = next(iter(selectors))
    for spec in a.compare:
        rule, _, k = spec.rpartition("@")
        sel, k = selectors[f"ensemble {rule}"], int(k)
        for metric in ["helpful", "violation", "gold_score"]:
            ens = B.per_prompt(groups, sel, k, metric)
            d1 = B.paired_difference(ens, B.per_prompt(groups, selectors[single], k, metric))
            d0 = B.paired_difference(ens, B.per_prompt(groups, "random", 1, metric))
            print(f"{rule} k={k} {metric}: minus {single} at k={k} {d1[0]:+.3f} [{d1[1]:+.3f}, {d1[2]:+.3f}]; "
                  f"minus k=1 {d0[0]:+.3f} [{d0[1]:+.3f}, {d0[2]:+.3f}] ({d0[3]} prompts)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if a.plot:
        plot(rows, a.plot)


def plot(rows, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [("helpful", "helpful (oracle)"), ("gold_score", "gold score (oracle)"), ("violations", "violations (oracle)")]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(16, 3.6))
    for sel in dict.fromkeys(r["selector"] for r in rows):
        rs = [r for r in rows if r["selector"] == sel]
        style = dict(marker="o", ms=3, label=sel, ls="--" if sel.startswith("member") else "-")
        if sel == "oracle":
            style["color"] = "black"
        for ax, (m, title) in zip(axes, panels):
            ax.plot([r["kl"] for r in rs], [r[m] for r in rs], **style)
            ax.set_title(title, fontsize=9)
        if "proxy:" + sel in rs[0]:
            axes[-1].plot([r["kl"] for r in rs], [r["proxy:" + sel] for r in rs], **style)
    axes[-1].set_title("proxy: the selector's own score (z units)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("KL of best-of-k (nats)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=80)


if __name__ == "__main__":
    main()
