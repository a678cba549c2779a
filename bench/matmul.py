#!/usr/bin/env python
"""The matrix-multiplication ladder of `nbs/01_matmul.ipynb`, timed side by side in one run.

Shapes are the lesson's: 5 rows of MNIST `x_valid` (5x784) times a 784x10 float32 weight matrix.
Every rung (three loops, elementwise, broadcasting, einsum) and `a @ b` is timed in interleaved rounds
(the order rotates every round), single-threaded. We report the median time per call, the median of the
per-round ratios to `a @ b` (with its interquartile range), and GFLOP/s (2*m*k*n flops per call).
`a @ b` is timed a second time under another name: that A/A row's ratio shows the noise floor (ideally 1.00).

The physical reference is the machine's practical peak: a large float32 `torch.matmul` (2048x2048 by default),
on 1 thread and on all threads.

    python bench/matmul.py            # full run (about half a minute)
    python bench/matmul.py --quick    # smoke run (a few seconds)
    python bench/matmul.py --save     # also write the table to bench/results/matmul.md
"""
import argparse, datetime, pathlib, platform, statistics, time
import torch
from course_lib.data import get_data
from course_lib.matmul import matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum

def per_call(f, number):
    "Seconds per call of `f()`, averaged over `number` back-to-back calls."
    t0 = time.perf_counter()
    for _ in range(number): f()
    return (time.perf_counter() - t0) / number

def calibrate(f, target):
    "How many calls make one timing sample last about `target` seconds (at least 1)."
    f()  # warm-up
    t = per_call(f, 1)
    return max(1, int(target / max(t, 1e-7)))

def quartiles(xs):
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else xs * 3
    return q[0], q[2]

def fmt_time(s): return f"{s*1e6:.1f} µs" if s < 1e-3 else f"{s*1e3:.2f} ms" if s < 1 else f"{s:.2f} s"

def ladder(a, b, rounds, target):
    "Interleaved timings of each rung; returns {name: (median seconds, median ratio to @, q1, q3)}."
    rungs = {'three loops': lambda: matmul_loops(a, b), 'elementwise': lambda: matmul_elementwise(a, b),
             'broadcasting': lambda: matmul_broadcast(a, b), 'einsum': lambda: matmul_einsum(a, b),
             'a @ b': lambda: a @ b, 'a @ b (A/A control)': lambda: a @ b}
    numbers = {name: calibrate(f, target) for name, f in rungs.items()}
    names, times = list(rungs), {name: [] for name in rungs}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:   # rotate the order every round
            times[name].append(per_call(rungs[name], numbers[name]))
    res = {}
    for name in names:
        ratios = [t / ref for t, ref in zip(times[name], times['a @ b'])]
        res[name] = (statistics.median(times[name]), statistics.median(ratios), *quartiles(ratios))
    return res

def peak(size, threads, repeats):
    "Median seconds for one `size`x`size` float32 matmul on `threads` threads."
    torch.set_num_threads(threads)
    x, y = torch.randn(size, size), torch.randn(size, size)
    x @ y  # warm-up
    ts = [per_call(lambda: x @ y, 1) for _ in range(repeats)]
    return statistics.median(ts)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='short smoke run: 3 rounds, 1024x1024 peak')
    p.add_argument('--save', action='store_true', help='also write the table to bench/results/matmul.md')
    args = p.parse_args()
    rounds, target, size, repeats = (3, 0.002, 1024, 3) if args.quick else (15, 0.02, 2048, 7)

    all_threads = torch.get_num_threads()
    x_train, y_train, x_valid, y_valid = get_data()
    torch.manual_seed(42)
    a, b = x_valid[:5].contiguous(), torch.randn(784, 10)
    (m, k), n = a.shape, b.shape[1]
    flops = 2 * m * k * n

    peak1 = peak(size, 1, repeats)
    peakn = peak(size, all_threads, repeats) if all_threads > 1 else peak1
    torch.set_num_threads(1)
    res = ladder(a, b, rounds, target)
    torch.set_num_threads(all_threads)

    big = 2 * size ** 3
    gf1 = big / peak1 / 1e9
    lines = [f"matmul ladder: {m}x{k} @ {k}x{n} float32 (MNIST x_valid rows), 1 thread, {rounds} interleaved rounds"
             f"{' (--quick)' if args.quick else ''}",
             f"torch {torch.__version__}, {platform.machine()}, {all_threads} threads available, "
             f"{datetime.datetime.now():%Y-%m-%d %H:%M}", '',
             '| variant | time per call (median) | ratio to `a @ b` (median [IQR]) | GFLOP/s | % of 1-thread peak |',
             '|---|---:|---:|---:|---:|']
    for name, (t, ratio, q1, q3) in res.items():
        g = flops / t / 1e9
        lines.append(f"| {name} | {fmt_time(t)} | {ratio:,.2f} [{q1:,.2f}–{q3:,.2f}] | {g:.3g} | {100*g/gf1:.2g}% |")
    for label, t in [(f'peak: {size}² float32 `torch.matmul`, 1 thread', peak1),
                     (f'peak: {size}² float32 `torch.matmul`, {all_threads} threads', peakn)]:
        lines.append(f"| {label} | {fmt_time(t)} | – | {big/t/1e9:.0f} | {100*peak1/t:.0f}% |")
    table = '\n'.join(lines)
    print(table)
    if args.save:
        out = pathlib.Path(__file__).parent / 'results' / 'matmul.md'
        out.parent.mkdir(exist_ok=True)
        out.write_text(table + '\n')
        print(f"\nwrote {out}")

if __name__ == '__main__': main()
