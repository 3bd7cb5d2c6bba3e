"""tb.contract's pairwise order against opt_einsum's path optimisers: path cost and planning time.

One run prints the environment (and the machine's GEMM peak and read bandwidth,
``_common.print_machine``, when it exists), then for opt_einsum's standard
families of expressions:

- **random**: ``opt_einsum.testing.rand_equation(n, regularity, n_out, d_min=2,
  d_max=9, seed)`` for n = 3..20 operands, regularity 2, 3 and 4, seeds 0 and 1
  (n_out = 2 with seed 0, 0 with seed 1): 6 expressions per n, 108 in all;
- **structured**: matrix chains (5, 10, 15 and 20 matrices, dimensions drawn in
  2..100), ladders (two rows of L tensors joined by rungs, closed: 8 to 20
  operands), an MPS-MPO-MPS expectation value (L = 4, 5, 6 sites: 12, 15, 18
  operands), square-ish grids (3x4, 4x4, 4x5) and the contractions of 5 to 7
  operands of opt_einsum's own test suite (``tests/test_contract.py``, with its
  ``build_shapes`` sizes).

For each expression it plans with ``tb.contraction_cost`` (the order
``tb.contract`` runs) and with ``opt_einsum.contract_path`` using ``auto``
(what ``opt_einsum.contract`` runs by default: ``optimal`` up to 4 operands,
``branch-all`` up to 6, ``branch-2`` up to 8, ``branch-1`` up to 14, ``greedy``
beyond), and beyond 12 operands (where tensorbook no longer searches every
order) ``random-greedy`` with 32 and 128 trials (each trial seeded by its
number, so deterministic); ``dp`` (opt_einsum's dynamic programme over
connected subgraphs) is planned once per expression for reference.

**Cost**: every path, tensorbook's included, is scored by one function,
opt_einsum's ``opt_cost`` (``contract_path(eq, *shapes, shapes=True,
optimize=path)``): the sum over pairwise steps of the size of the indices
involved, doubled when one is summed, which is tensorbook's own flop count
(the script checks that the two agree on tensorbook's path; they differ only
where an operand has an index nobody else has, as in some of the test-suite
expressions, which tensorbook sums first). Ratios are tensorbook / opt_einsum:
below 1, tensorbook's order is cheaper.

**Planning time**: one call of ``tb.contraction_cost`` with tensorbook's plan
memo emptied first (``_choose_path_cached.cache_clear()``: the first call for a
specification and shapes; ``tb.contract`` pays it once and then reuses the
plan), against one ``opt_einsum.contract_path`` (which has no memo); both parse
the specification and report their cost. Medians of ``--rounds`` (default 7)
interleaved rounds (tb, auto, random-greedy, ... in turn, after a warm-up
round), with the min-max spread. ``tb cached`` is the same call with the memo
warm. ``dp`` is one call. The planners are single-threaded Python.

The targets printed last, MET or NOT MET: tensorbook's path cost at most
``auto``'s on every expression (issue 16), and at most ``random-greedy``'s (32
trials) on every expression beyond 12 operands.

    .venv/bin/python benchmarks/contract_bench.py [--rounds 7] [--quick] [--check]

``--quick`` runs n = 3, 8, 13, 16, 20 with one seed and the smaller structured
cases, 3 rounds, without the GEMM peak and bandwidth (about 15 s; a full run
takes about 2 minutes); ``--check`` makes the exit code 1 when a target is not
met. Needs opt_einsum (the ``bench`` extra: ``pip install -e '.[bench]'``) and
pytest (``opt_einsum.testing`` imports it).
"""

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import tensorbook as tb
from tensorbook import contraction as C

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common

try:
    import opt_einsum as oe
    from opt_einsum.testing import build_shapes, rand_equation
except ImportError as exc:  # pragma: no cover - reported, not hidden
    sys.exit(f"contract_bench.py needs opt_einsum (pip install -e '.[bench]') and pytest: {exc}")

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
REGULARITIES = (2, 3, 4)

# The contractions of 5 to 7 operands of opt_einsum's tests/test_contract.py ("complex contractions").
OE_TESTS = [
    "acdf,jbje,gihb,hfac,gfac,gifabc,hfac",
    "cd,bdhe,aidb,hgca,gc,hgibcd,hgac",
    "abhe,hidj,jgba,hiab,gab",
    "bde,cdh,agdb,hica,ibd,hgicd,hiac",
    "chd,bde,agbc,hiad,hgc,hgi,hiad",
    "chd,bde,agbc,hiad,bdi,cgh,agdb",
    "bdhe,acad,hiab,agac,hibd",
]


def chain(n, seed):
    """A chain of n matrices, dimensions drawn in 2..100: ``ab,bc,...->a?``."""
    d = np.random.default_rng(seed).integers(2, 101, size=n + 1)
    eq = ",".join(LETTERS[k:k + 2] for k in range(n)) + f"->{LETTERS[0]}{LETTERS[n]}"
    return eq, [(int(d[k]), int(d[k + 1])) for k in range(n)]


def ladder(length, bond=8, rung=4):
    """Two rows of ``length`` tensors, each joined to its row neighbours (bond) and to its partner (rung); closed."""
    top = [LETTERS[k] for k in range(length - 1)]
    bottom = [LETTERS[length - 1 + k] for k in range(length - 1)]
    rungs = [LETTERS[2 * length - 2 + k] for k in range(length)]
    terms, shapes = [], []
    for row in (top, bottom):
        for k in range(length):
            legs = ([row[k - 1]] if k else []) + ([row[k]] if k < length - 1 else []) + [rungs[k]]
            terms.append("".join(legs))
            shapes.append(tuple(rung if c in rungs else bond for c in legs))
    return ",".join(terms) + "->", shapes


def mps_mpo_mps(sites, chi=16, d=2, w=4):
    """<psi| O |psi>: an MPS (bond chi, physical d), an MPO (bond w) and the MPS again, open ends."""
    it = iter(LETTERS)
    a = [next(it) for _ in range(sites - 1)]
    b = [next(it) for _ in range(sites - 1)]
    o = [next(it) for _ in range(sites - 1)]
    p = [next(it) for _ in range(sites)]
    q = [next(it) for _ in range(sites)]
    size = {**{c: chi for c in a + b}, **{c: w for c in o}, **{c: d for c in p + q}}
    terms = []
    for bonds, phys in ((a, [p]), (o, [p, q]), (b, [q])):
        for k in range(sites):
            legs = ([bonds[k - 1]] if k else []) + [ph[k] for ph in phys] + ([bonds[k]] if k < sites - 1 else [])
            terms.append("".join(legs))
    return ",".join(terms) + "->", [tuple(size[c] for c in t) for t in terms]


def grid(rows, cols, bond=3):
    """A rows x cols square lattice of tensors joined to their neighbours, closed (a PEPS norm-like scalar)."""
    it = iter(LETTERS)
    right = {(r, c): next(it) for r in range(rows) for c in range(cols - 1)}
    down = {(r, c): next(it) for r in range(rows - 1) for c in range(cols)}
    terms = []
    for r in range(rows):
        for c in range(cols):
            legs = [right.get((r, c - 1)), right.get((r, c)), down.get((r - 1, c)), down.get((r, c))]
            terms.append("".join(x for x in legs if x))
    return ",".join(terms) + "->", [(bond,) * len(t) for t in terms]


def expressions(quick):
    """(family, label, eq, shapes) for every expression of the run."""
    ns = (3, 8, 13, 16, 20) if quick else range(3, 21)
    seeds = (0,) if quick else (0, 1)
    for n in ns:
        for reg in REGULARITIES:
            for seed in seeds:
                n_out = 2 if seed == 0 else 0
                eq, shapes = rand_equation(n, reg, n_out=n_out, d_min=2, d_max=9, seed=seed)
                yield "random", f"rand_equation({n}, {reg}, n_out={n_out}, seed={seed})", eq, [tuple(s) for s in shapes]
    for n in ((5, 15) if quick else (5, 10, 15, 20)):
        yield ("structured", f"chain of {n} matrices", *chain(n, n))
    for length in ((4, 8) if quick else (4, 6, 7, 8, 10)):
        yield ("structured", f"ladder 2x{length}", *ladder(length))
    for sites in ((4, 6) if quick else (4, 5, 6)):
        yield ("structured", f"MPS-MPO-MPS, {sites} sites", *mps_mpo_mps(sites))
    for rows, cols in (((3, 4),) if quick else ((3, 4), (4, 4), (4, 5))):
        yield ("structured", f"grid {rows}x{cols}", *grid(rows, cols))
    for eq in (OE_TESTS[:2] if quick else OE_TESTS):
        yield "structured", f"opt_einsum test {eq}", eq, [tuple(s) for s in build_shapes(eq)]


def oe_cost(eq, shapes, path):
    """opt_einsum's opt_cost of ``path`` (positions in the current list, result appended: both libraries' format)."""
    return int(oe.contract_path(eq, *shapes, shapes=True, optimize=[tuple(p) for p in path])[1].opt_cost)


def measure(eq, shapes, rounds):
    """Costs and planning times of tensorbook and opt_einsum's optimisers on one expression."""
    n = len(shapes)
    C._choose_path_cached.cache_clear()
    cost = tb.contraction_cost(eq, *shapes)
    row = {"n": n, "method": cost.method, "tb_own": cost.optimal.flops, "tb": oe_cost(eq, shapes, cost.optimal.path)}
    optimisers = {"auto": "auto"}
    if n > C.MAX_OPTIMAL:
        optimisers.update({"rg32": "random-greedy", "rg128": "random-greedy-128"})
    for name, opt in optimisers.items():
        row[name] = int(oe.contract_path(eq, *shapes, shapes=True, optimize=opt)[1].opt_cost)

    def tb_first():
        C._choose_path_cached.cache_clear()
        tb.contraction_cost(eq, *shapes)

    cases = {"tb": tb_first, "tb cached": lambda: tb.contraction_cost(eq, *shapes)}
    for name, opt in optimisers.items():
        cases[name] = lambda opt=opt: oe.contract_path(eq, *shapes, shapes=True, optimize=opt)
    row["ms"] = _common.interleaved_ms(cases, rounds)
    t0 = time.perf_counter()
    row["dp"] = int(oe.contract_path(eq, *shapes, shapes=True, optimize="dp")[1].opt_cost)
    row["ms"]["dp"] = ((time.perf_counter() - t0) * 1e3,) * 3
    return row


def fmt_ms(t):
    return f"{t[0]:.2f} ({t[1]:.2f}-{t[2]:.2f})"


def ratio(row, other):
    return row["tb"] / row[other] if row[other] else (1.0 if row["tb"] == 0 else float("inf"))


def print_random(rows):
    print("\nrandom: rand_equation(n, regularity 2/3/4, n_out, d_min=2, d_max=9, seed); cost ratios tb / opt_einsum"
          " (worst = largest; < 1: tb cheaper); planning ms: median over the n's expressions of each one's median"
          " [largest], and the median of the per-expression time ratios tb / auto")
    head = (f"{'n':>3} {'#':>2} | {'tb/auto worst':>13} {'median':>7} | {'tb/rg32':>7} {'tb/rg128':>8} {'tb/dp':>6}"
            f" | {'tb search':<16}| {'tb ms':>14} {'cached':>7} {'auto':>6} {'rg32':>6} {'rg128':>6} {'dp':>8}"
            f" | {'tb/auto time':>12}")
    print(head)
    print("-" * len(head))
    for n in sorted({r["n"] for r in rows}):
        group = [r for r in rows if r["n"] == n]
        methods = {}
        for r in group:
            methods[r["method"]] = methods.get(r["method"], 0) + 1
        search = " ".join(f"{k} {v}" for k, v in sorted(methods.items()))

        def med(key, group=group):
            return statistics.median(r["ms"][key][0] for r in group)

        big = n > C.MAX_OPTIMAL
        rg = (f"{max(ratio(r, 'rg32') for r in group):>7.3f} {max(ratio(r, 'rg128') for r in group):>8.3f}"
              if big else f"{'-':>7} {'-':>8}")
        tb_max = max(r["ms"]["tb"][0] for r in group)
        times = (f"{med('tb'):>6.2f} [{tb_max:>6.1f}] {med('tb cached'):>7.3f} {med('auto'):>6.2f} "
                 + (f"{med('rg32'):>6.1f} {med('rg128'):>6.1f}" if big else f"{'-':>6} {'-':>6}")
                 + f" {med('dp'):>8.2f}")
        time_ratio = statistics.median(r["ms"]["tb"][0] / r["ms"]["auto"][0] for r in group)
        worst, median = max(ratio(r, "auto") for r in group), statistics.median(ratio(r, "auto") for r in group)
        dp = max(ratio(r, "dp") for r in group)
        print(f"{n:>3} {len(group):>2} | {worst:>13.3f} {median:>7.3f} | {rg} {dp:>6.3f}"
              f" | {search:<16}| {times} | {time_ratio:>11.1f}x")


def print_structured(rows):
    print("\nstructured: path cost (opt_einsum's opt_cost) and planning time per expression; ratios tb / opt_einsum;"
          " ms = median (min-max) of the interleaved rounds, dp one call")
    for r in rows:
        rg = (f"; random-greedy 32 {r['rg32']:.3e} ({ratio(r, 'rg32'):.3f}),"
              f" 128 {r['rg128']:.3e} ({ratio(r, 'rg128'):.3f})" if "rg32" in r else "")
        own = "" if r["tb_own"] == r["tb"] else f" (tb's own count {r['tb_own']:.3e}: it sums lone indices first)"
        print(f"  {r['label']} [{r['n']} operands]\n"
              f"      cost: tb {r['tb']:.3e} ({r['method']}){own}; auto {r['auto']:.3e} ({ratio(r, 'auto'):.3f});"
              f" dp {r['dp']:.3e} ({ratio(r, 'dp'):.3f}){rg}\n"
              f"      ms: tb {fmt_ms(r['ms']['tb'])}, cached {r['ms']['tb cached'][0]:.3f};"
              f" auto {fmt_ms(r['ms']['auto'])}"
              + (f"; rg32 {fmt_ms(r['ms']['rg32'])}; rg128 {fmt_ms(r['ms']['rg128'])}" if "rg32" in r else "")
              + f"; dp {r['ms']['dp'][0]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="interleaved timing rounds per expression (>= 7 to quote)")
    parser.add_argument("--quick", action="store_true", help="fewer expressions, 3 rounds (about 15 s)")
    parser.add_argument("--check", action="store_true", help="exit with 1 if a target is not met")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds

    if hasattr(_common, "print_machine") and not args.quick:
        _common.print_machine()
    else:
        _common.print_environment()
    print(f"Python {platform.python_version()}, opt_einsum {oe.__version__}, NumPy {np.__version__};"
          f" tensorbook MAX_OPTIMAL = {C.MAX_OPTIMAL}, DP_BUDGET = {C.DP_BUDGET:,}, GREEDY_TRIALS = {C.GREEDY_TRIALS}")
    start = _common.cpu_snapshot()
    t_start = time.perf_counter()
    rows = []
    for family, label, eq, shapes in expressions(args.quick):
        row = measure(eq, shapes, rounds)
        row.update(family=family, label=label)
        rows.append(row)
    random_rows = [r for r in rows if r["family"] == "random"]
    print_random(random_rows)
    print_structured([r for r in rows if r["family"] == "structured"])

    disagree = [r for r in random_rows if r["tb_own"] != r["tb"]]
    print(f"\ntb's own flop count equals opt_einsum's opt_cost of tb's path on {len(random_rows) - len(disagree)}"
          f" of {len(random_rows)} random expressions")
    cheaper = [r for r in rows if r["tb"] < r["auto"]]
    print(f"tb's path against auto's: cheaper on {len(cheaper)}, as cheap on"
          f" {sum(r['tb'] == r['auto'] for r in rows)}, dearer on {sum(r['tb'] > r['auto'] for r in rows)}"
          f" of {len(rows)} expressions; where cheaper, tb/auto median"
          f" {statistics.median(ratio(r, 'auto') for r in cheaper) if cheaper else float('nan'):.3f},"
          f" lowest {min((ratio(r, 'auto') for r in cheaper), default=float('nan')):.4f}")
    big = [r for r in rows if "rg32" in r]
    print(f"Beyond {C.MAX_OPTIMAL} operands ({len(big)} expressions), tb's search: "
          + ", ".join(f"{m} {sum(r['method'] == m for r in big)}" for m in ("dp", "greedy")))

    results = []

    def target(met, text):
        results.append(met)
        print(f"  {'MET    ' if met else 'NOT MET'}  {text}")

    print(f"\nTargets ({len(rows)} expressions, {time.perf_counter() - t_start:.0f} s):")
    w = max(rows, key=lambda r: ratio(r, "auto"))
    target(ratio(w, "auto") <= 1.0, f"tb path cost <= opt_einsum auto's on every expression: worst tb/auto"
           f" {ratio(w, 'auto'):.3f} ({w['label']}); median {statistics.median(ratio(r, 'auto') for r in rows):.3f}")
    if big:
        w = max(big, key=lambda r: ratio(r, "rg32"))
        w128 = max(big, key=lambda r: ratio(r, "rg128"))
        target(ratio(w, "rg32") <= 1.0, f"tb path cost <= random-greedy (32 trials) beyond {C.MAX_OPTIMAL} operands:"
               f" worst tb/rg32 {ratio(w, 'rg32'):.3f} ({w['label']}); against 128 trials worst"
               f" {ratio(w128, 'rg128'):.3f} ({w128['label']})")
    times = [r["ms"]["tb"][0] / r["ms"]["auto"][0] for r in rows]
    slowest = max(rows, key=lambda r: r["ms"]["tb"][0])
    print(f"  (reported) planning time, first call, tb / auto: median {statistics.median(times):.1f}x,"
          f" range {min(times):.1f}-{max(times):.0f}x; slowest tb plan {slowest['ms']['tb'][0]:.0f} ms"
          f" ({slowest['label']}, auto {slowest['ms']['auto'][0]:.1f} ms"
          + (f", random-greedy 128 {slowest['ms']['rg128'][0]:.0f} ms" if "rg128" in slowest["ms"] else "")
          + f", dp {slowest['ms']['dp'][0]:.0f} ms)")
    others = _common.other_cpus(start)
    if others is not None:
        print(f"\nOther processes kept {others:.2f} CPUs busy on average during the run"
              + (" (above 0.1: rerun on an idle machine to quote the times)" if others > _common.OTHERS_MAX else ""))
    return 1 if args.check and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
