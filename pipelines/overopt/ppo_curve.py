"""A PPO stage's proxy reward, KL and the oracle's judgements over its iterations, from metrics.jsonl
(analysis only).

  python ppo_curve.py PPO_STAGE_DIR [--every 5] [--plot OUT.png]

Proxy: objective/scores (mean whitened combined reward of the iteration's rollouts); KL: objective/kl
(summed per response, nats, against the reference policy), the same unit as best-of-k's
log k - (k - 1) / k. The oracle's figures are the greedy answers to the evaluation prompts at the
iterations the stage judged (`judge-every`).
"""
import argparse
import json
import math


def read(stage):
    steps, evals = {}, {}
    with open(stage + "/metrics.jsonl") as f:
        for line in f:
            o = json.loads(line)
            if "step" not in o:
                continue
            if o.get("event") == "step":
                steps[o["step"]] = o
            elif o.get("event") == "eval":
                evals[o["step"]] = o
    return steps, evals


def main():
    p = argparse.ArgumentParser()
    p.add_argument("stage")
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--plot")
    a = p.parse_args()
    steps, evals = read(a.stage)
    print("| iteration | proxy (whitened) | KL (nats) | sqrt KL | response tokens | helpful | violations | false refusals |")
    print("|---|---|---|---|---|---|---|---|")
    for i in sorted(set(steps) | set(evals)):
        if i % a.every and i not in evals:
            continue
        s, e = steps.get(i, {}), evals.get(i, {})
        kl = s.get("objective/kl")
        cells = [s.get("objective/scores"), kl, math.sqrt(max(kl, 0)) if kl is not None else None, s.get("response_length"),
                 e.get("oracle/helpfulness"), e.get("oracle/violations"), e.get("oracle/false_refusals")]
        print(f"| {i} | " + " | ".join("-" if c is None else f"{c:.3f}" for c in cells) + " |")
    if a.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        its = sorted(steps)
        fig, ax = plt.subplots(1, 2, figsize=(8, 3.2))
        ax[0].plot([math.sqrt(max(steps[i].get("objective/kl", 0), 0)) for i in its], [steps[i].get("objective/scores") for i in its], ".", ms=3)
        ax[0].set_xlabel("sqrt KL (nats)"); ax[0].set_title("proxy: whitened combined reward", fontsize=9)
        je = sorted(evals)
        d = [math.sqrt(max(steps.get(i, {}).get("objective/kl", 0) or 0, 0)) for i in je]
        for m in ("oracle/helpfulness", "oracle/violations", "oracle/false_refusals"):
            ax[1].plot(d, [evals[i].get(m) for i in je], marker="o", label=m.split("/")[1])
        ax[1].set_xlabel("sqrt KL (nats)"); ax[1].set_title("oracle (greedy, eval prompts)", fontsize=9); ax[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=80)


if __name__ == "__main__":
    main()
