"""Checks of bestofk.py's estimator against brute force (run: python check_bestofk.py; analysis only)."""
import itertools
import math

import numpy as np

import bestofk as B

rng = np.random.default_rng(0)
for trial in range(200):
    n = int(rng.integers(2, 9))
    keys = rng.integers(0, 4, n).astype(float)      # many ties
    vals = rng.normal(size=n)
    for k in range(1, n + 1):
        brute = []
        for subset in itertools.combinations(range(n), k):
            best = max(keys[list(subset)])
            brute.append(np.mean([vals[i] for i in subset if keys[i] == best]))
        est = B.expected_pick(keys, vals, k)
        assert abs(est - np.mean(brute)) < 1e-9, (keys, vals, k, est, np.mean(brute))
assert abs(B.kl_bon(1)) < 1e-12 and abs(B.kl_bon(16) - (math.log(16) - 15 / 16)) < 1e-12
print("bestofk estimator: 200 random cases with ties agree with the enumeration of every k-subset to 1e-9")
