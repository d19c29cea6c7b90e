"""Best-of-k and on-policy pair accuracy from `plumb eval sample-scores` JSONL (analysis only; numpy).

Best-of-k is estimated over every k-subset of a prompt's n samples, not only the first k (Nakano et
al. 2021, Gao et al. 2022, appendix): with the samples sorted by the selector, ascending, the one of
rank r (0-based) is the pick of a random k-subset with probability C(r, k-1) / C(n, k). Samples the
selector scores equally share their mass (a random tie-break). A reward-model selector prefers a sample
that ended on end-of-sequence to one that did not, as RS does; the oracle selector does not. At k = n
the estimate is the single best sample, which is what `plumb eval best-of-k` reports at its largest k.
KL of best-of-k against the policy: log k - (k - 1) / k (Stiennon et al. 2020, Gao et al. 2022).
"""
import json
import math
from collections import defaultdict

import numpy as np

HARMFUL, LOOKALIKE = "harmful", "borderline"
SAFETY_KINDS = {HARMFUL, LOOKALIKE}
CONCISE_WORDS = 20   # ResponseStyle.conciseWordLimit


def load(paths):
    """Rows grouped by prompt id, each group sorted by sample index. Several files (comma-separated) of
    the same samples merge their `scores`."""
    rows = {}
    for path in paths.split(","):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                key = (row["prompt_id"], row["sample"])
                if key in rows:
                    rows[key]["scores"].update(row["scores"])
                else:
                    rows[key] = row
    groups = defaultdict(list)
    for (pid, _), row in rows.items():
        groups[pid].append(row)
    return [sorted(g, key=lambda r: r["sample"]) for _, g in sorted(groups.items())]


def kl_bon(k):
    return math.log(k) - (k - 1) / k


def subset_weights(n, k):
    """P(the sample of ascending rank r is the best of a random k-subset), r = 0..n-1."""
    total = math.comb(n, k)
    return np.array([math.comb(r, k - 1) / total for r in range(n)])


def expected_pick(keys, values, k):
    """E[value of the best-by-key sample of a random k-subset]; ties in key share their mass."""
    order = np.lexsort((np.arange(len(keys)), keys))   # ascending key
    sorted_keys, sorted_vals = keys[order], values[order].astype(float)
    w = subset_weights(len(keys), k)
    out = 0.0
    start = 0
    while start < len(sorted_keys):
        end = start
        while end + 1 < len(sorted_keys) and sorted_keys[end + 1] == sorted_keys[start]:
            end += 1
        out += w[start:end + 1].sum() * sorted_vals[start:end + 1].mean()
        start = end + 1
    return out


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def combined(h, s, safety_prompt, threshold=0.15):
    """Llama 2's gated combined logit (CombinedReward): the safety score on safety prompts or when the gate fires."""
    use_safety = safety_prompt | (sigmoid(s) < threshold)
    return np.where(use_safety, s, h)


def selector_keys(group, selector):
    """Keys to maximise: `oracle`, `random`, or a function of the group's rows giving raw scores."""
    if selector == "oracle":
        return np.array([r["gold_score"] for r in group])
    if selector == "random":
        return np.zeros(len(group))   # every sample equally likely: k = 1 at every k
    scores = np.asarray(selector(group), dtype=float)
    finished = np.array([r["finished"] for r in group], dtype=float)
    return scores + 1e6 * finished if finished.any() else scores


def curves(groups, selectors, ks, proxies):
    """For each selector and k: gold rates and scores, and each proxy's mean over the picks."""
    n = min(len(g) for g in groups)
    groups = [g[:n] for g in groups]
    rows = []
    for name, sel in selectors.items():
        keys = [selector_keys(g, sel) for g in groups]
        for k in ks:
            if k > n:
                continue
            acc = defaultdict(list)
            for g, key in zip(groups, keys):
                kind = g[0]["kind"]
                pick = lambda vals: expected_pick(key, np.asarray(vals, dtype=float), k)
                acc["gold_score"].append(pick([r["gold_score"] for r in g]))
                if kind == HARMFUL:
                    acc["violations"].append(pick([r["violation"] for r in g]))
                elif kind == LOOKALIKE:
                    acc["false_refusals"].append(pick([r["false_refusal"] for r in g]))
                    acc["lookalike_helpful"].append(pick([r["helpful"] for r in g]))
                else:
                    acc["helpful"].append(pick([r["helpful"] for r in g]))
                    acc["words"].append(pick([r["words"] for r in g]))
                    acc["correct"].append(pick([r["correct"] for r in g]))
                    acc["over_limit"].append(pick([r["words"] > CONCISE_WORDS for r in g]))
                for pname, pfun in proxies.items():
                    acc["proxy:" + pname].append(pick(pfun(g)))
            row = {"selector": name, "k": k, "kl": kl_bon(k), "prompts": len(groups)}
            row.update({m: float(np.mean(v)) for m, v in acc.items()})
            row["n_helpful"], row["n_harmful"], row["n_lookalike"] = (len(acc["helpful"]), len(acc["violations"]),
                                                                       len(acc["false_refusals"]))
            rows.append(row)
    return rows


def contrast(better, worse):
    """PairContrast.of on two rows (the oracle's better first)."""
    if better["refused"] != worse["refused"]:
        if better["kind"] == LOOKALIKE:   # the oracle prefers a correct or concise answer, but a refusal to a long wrong one
            return "refusal better" if better["refused"] else "answer better than refusal"
        return "refusal"
    bc, wc = better["words"] <= CONCISE_WORDS, worse["words"] <= CONCISE_WORDS
    dc, dn = better["correct"] != worse["correct"], bc != wc
    if dc and not dn:
        return "correctness"
    if dn and not dc:
        return "conciseness"
    if dc and dn:
        return "correct-over-concise" if better["correct"] and not bc else "correct-and-concise"
    return "length"


def pair_accuracy(groups, scorers, max_samples=16):
    """Agreement with the oracle on every pair of a prompt's first `max_samples` samples that the oracle
    does not tie: per scorer, per prompt family (helpfulness / harmful / look-alike) and per contrast.
    A scorer's tie counts half. Returns {scorer: {(family, contrast): [agree, pairs]}}."""
    out = {name: defaultdict(lambda: [0.0, 0]) for name in scorers}
    for g in groups:
        g = g[:max_samples]
        kind = g[0]["kind"]
        family = kind if kind in SAFETY_KINDS else "helpfulness"
        gold = [r["gold_score"] for r in g]
        scored = {name: np.asarray(f(g), dtype=float) for name, f in scorers.items()}
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                if gold[i] == gold[j]:
                    continue
                b, w = (i, j) if gold[i] > gold[j] else (j, i)
                c = contrast(g[b], g[w])
                for name, s in scored.items():
                    agree = 1.0 if s[b] > s[w] else 0.5 if s[b] == s[w] else 0.0
                    for key in ((family, c), (family, "all")):
                        out[name][key][0] += agree
                        out[name][key][1] += 1
    return out


def per_prompt(groups, selector, k, metric):
    """Each prompt's expected `metric` of the selector's best-of-k pick (prompts without the metric: nan)."""
    out = []
    for g in groups:
        kind = g[0]["kind"]
        applies = {"helpful": kind not in SAFETY_KINDS, "violation": kind == HARMFUL,
                   "false_refusal": kind == LOOKALIKE, "gold_score": True}[metric]
        if not applies:
            out.append(np.nan)
            continue
        key = selector_keys(g, selector)
        out.append(expected_pick(key, np.array([float(r[metric]) for r in g]), k))
    return np.array(out)


def paired_difference(a, b, draws=2000, seed=0):
    """Mean of a - b over the prompts where both apply, and a 95% percentile bootstrap interval over
    prompts (the same samples under both selectors: a paired comparison)."""
    mask = ~np.isnan(a) & ~np.isnan(b)
    d = a[mask] - b[mask]
    rng = np.random.default_rng(seed)
    means = [rng.choice(d, size=len(d)).mean() for _ in range(draws)]
    return d.mean(), np.percentile(means, 2.5), np.percentile(means, 97.5), len(d)
