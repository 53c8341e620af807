#!/usr/bin/python3
"""Fit the rational approximation of erf(x/sqrt 2) that the Go engine's SIMD GELU uses.

    /usr/bin/python3 inference/train/fit_gelu.py     # needs python3-mpmath; under a minute

erf(x/sqrt 2) ~ x*P(x^2)/Q(x^2) on 0 <= x <= 4*sqrt 2 (beyond, erf rounds to 1 in
float32), P of degree 6 and Q of degree 5 with Q(0) = 1. The fit is linear least
squares on 600 Chebyshev points, iterated with weights 1/Q (Sanathanan-Koerner) and,
after 10 rounds, Lawson's reweighting towards the minimax solution. It prints P's and
Q's coefficients (paste them into geluTable in inference/llm_simd.go) and, on stderr,
the largest error of each round (1.5e-9 at the end, in exact arithmetic).
"""

import sys

import mpmath as mp

mp.mp.dps = 40
NP, NQ, N, ROUNDS = 6, 5, 600, 40
C = 4 * mp.sqrt(2)
XS = [C * (1 - mp.cos(mp.pi * (i + mp.mpf(0.5)) / N)) / 2 for i in range(N)]
FS = [mp.erf(x / mp.sqrt(2)) for x in XS]


def horner(coef, t):
    s = mp.mpf(0)
    for a in reversed(coef):
        s = s * t + a
    return s


def evaluate(c, x):
    p, q = c[: NP + 1], [mp.mpf(1)] + c[NP + 1 :]
    qt = horner(q, x * x)
    return x * horner(p, x * x) / qt, qt


def main():
    w, qprev, c = [mp.mpf(1)] * N, [mp.mpf(1)] * N, None
    for rnd in range(ROUNDS):
        a, b = mp.matrix(N, NP + 1 + NQ), mp.matrix(N, 1)
        for i, (x, f) in enumerate(zip(XS, FS)):
            s, t = w[i] / qprev[i], x * x
            for j in range(NP + 1):
                a[i, j] = s * x * t**j
            for j in range(1, NQ + 1):
                a[i, NP + j] = -s * f * t**j
            b[i] = s * f
        sol, _ = mp.qr_solve(a, b)
        c = [sol[j] for j in range(NP + 1 + NQ)]
        errs = []
        for i, (x, f) in enumerate(zip(XS, FS)):
            v, qprev[i] = evaluate(c, x)
            errs.append(abs(v - f))
        worst = max(errs)
        if rnd >= 10:
            w = [w[i] * (errs[i] / worst) ** mp.mpf(0.5) + mp.mpf(1e-30) for i in range(N)]
            total = sum(w)
            w = [v / total * N for v in w]
        print(rnd, mp.nstr(worst, 4), file=sys.stderr)
    for v in c:
        print(mp.nstr(v, 17))


if __name__ == "__main__":
    main()
