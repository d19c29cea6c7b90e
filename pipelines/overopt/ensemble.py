"""Best-of-k by a conservative ensemble of reward models already scored by `plumb eval sample-scores`
(analysis only): each member's raw score whitened over all samples, then per response
  mean - lambda * std   (Coste et al. 2023, uncertainty-weighted optimisation) or the worst member.
Helpfulness members score helpfulness prompts, safety members safety prompts (no gate).

  python ensemble.py FILE --help-members A,B,C --safety-members X,Y [--lam 0,0.5,1] [--ks 1,4,16,64]

Member names: `stored-h` / `stored-s` (the rs stage's own scores) or `--model` names of sample-scores.
"""
import argparse

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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--help-members", required=True)
    p.add_argument("--safety-members", required=True)
    p.add_argument("--lam", default="0,1")
    p.add_argument("--worst", action="store_true")
    p.add_argument("--ks", default="1,4,16,64")
    a = p.parse_args()
    groups = B.load(a.file)
    hm = [member(n) for n in a.help_members.split(",")]
    sm = [member(n) for n in a.safety_members.split(",")]
    hw, sw = [whitening(groups, f) for f in hm], [whitening(groups, f) for f in sm]

    def selector(lam, worst):
        def sel(g):
            out = []
            for r in g:
                fns, ws = (sm, sw) if r["safety_prompt"] else (hm, hw)
                z = np.array([(f(r) - m) / s for f, (m, s) in zip(fns, ws)])
                out.append(z.min() if worst else z.mean() - lam * z.std())
            return out
        return sel

    selectors = {f"mean-{lam}std": selector(float(lam), False) for lam in a.lam.split(",")}
    if a.worst:
        selectors["worst"] = selector(0, True)
    rows = B.curves(groups, selectors, [int(k) for k in a.ks.split(",")], {})
    print("| selector | k | helpful | violations | false refusals | gold score |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['selector']} | {r['k']} | {r['helpful']:.3f} | {r['violations']:.3f} | {r['false_refusals']:.3f} | {r['gold_score']:.3f} |")


if __name__ == "__main__":
    main()
