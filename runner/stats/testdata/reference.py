#!/usr/bin/python3
"""Writes reference.json: Mann-Whitney U statistics and p-values computed by
scipy.stats.mannwhitneyu, and Hodges-Lehmann intervals computed by brute force
(every split of the pooled ranks enumerated), for the tests of package stats.

    /usr/bin/python3 testdata/reference.py > testdata/reference.json

Needs python3-scipy (Debian); the Go tests only read the JSON it writes."""
import itertools, json, math, random

import numpy as np
import scipy
from scipy.stats import mannwhitneyu

rnd = random.Random(7)

def vec(n, mu, sd, rnd, decimals=None):
    v = [rnd.gauss(mu, sd) for _ in range(n)]
    return [round(x, decimals) for x in v] if decimals is not None else v

cases = [
    ("identical-3x3", [1.0, 2.0, 3.0], [1.5, 2.5, 3.5]),
    ("separated-3x3", [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),
    ("separated-5x5", [10.1, 10.4, 9.8, 10.0, 10.2], [12.0, 11.7, 12.3, 11.9, 12.1]),
    ("overlap-5x5", [10.1, 10.4, 9.8, 10.0, 10.2], [10.3, 10.5, 9.9, 10.6, 10.05]),
    ("uneven-4x7", [3.2, 2.9, 3.5, 3.1], [3.3, 3.6, 3.0, 3.8, 3.4, 3.7, 3.9]),
    ("ties-5x5", [1, 2, 2, 3, 4], [2, 3, 3, 4, 5]),
    ("ties-6x6", [5, 5, 5, 6, 6, 7], [5, 6, 6, 7, 7, 8]),
    ("normal-10x10", vec(10, 100, 10, rnd), vec(10, 110, 10, rnd)),
    ("normal-20x15", vec(20, 50, 5, rnd), vec(15, 52, 5, rnd)),
    ("rounded-30x30", vec(30, 20, 2, rnd, 0), vec(30, 20.5, 2, rnd, 0)),
    ("exact-8x12", vec(8, 1, 0.1, rnd), vec(12, 1.08, 0.1, rnd)),
]

def exact_pmf(n1, n2):
    """P(U = u) by enumerating which pooled positions belong to the first sample."""
    counts = {}
    total = 0
    for pos in itertools.combinations(range(n1 + n2), n1):
        # U counts pairs where the first sample's value is larger: position p of
        # the first sample beats the p - (its index) second-sample values below it.
        u = sum(p - i for i, p in enumerate(pos))
        counts[u] = counts.get(u, 0) + 1
        total += 1
    return [counts.get(u, 0) / total for u in range(n1 * n2 + 1)]

def hodges_lehmann(x, y, alpha):
    d = sorted(b - a for b in y for a in x)
    est = float(np.median(d))
    pmf = exact_pmf(len(x), len(y))
    k, cum = 0, 0.0
    for u, p in enumerate(pmf):
        if cum + p > alpha / 2 + 1e-12:
            break
        cum += p
        k = u + 1
    if k == 0:
        return {"estimate": est, "lo": None, "hi": None, "confidence": None}
    return {"estimate": est, "lo": d[k - 1], "hi": d[len(d) - k], "confidence": 1 - 2 * cum}

out = {"scipy": scipy.__version__, "mannwhitney": [], "hodges_lehmann": []}
for name, x, y in cases:
    x, y = [float(v) for v in x], [float(v) for v in y]
    for method in ("auto", "exact", "asymptotic"):
        if method == "exact" and len(x) * len(y) > 100:
            continue
        r = mannwhitneyu(x, y, alternative="two-sided", method=method, use_continuity=True)
        out["mannwhitney"].append({"name": name, "method": method, "x": x, "y": y,
                                   "u": float(r.statistic), "p": float(r.pvalue)})
    if math.comb(len(x) + len(y), len(x)) <= 200000:
        for alpha in (0.05, 0.10):
            h = hodges_lehmann(x, y, alpha)
            h.update({"name": name, "alpha": alpha, "x": x, "y": y})
            out["hodges_lehmann"].append(h)
print(json.dumps(out, indent=1))
