#!/usr/bin/env python
"""Loading a course-format MNIST file: `load_course_file` (bounded, restricted unpickling plus checks) against the
2019 course's `pickle.load(gzip.open(path), encoding='latin1')`, which runs whatever the file says.

The file is written by `save_course_file` at the real file's sizes, 50,000 / 10,000 / 10,000 rows of 784 float32
pixels, from synthetic pixels that are 80 % zeros (as MNIST's are), so it compresses roughly like the real file. Both loaders are timed in interleaved rounds (the order
rotates every round), single-threaded; `load_course_file` is timed a second time under another name, and that A/A
row's ratio shows the noise floor (ideally 1.00). Peak traced memory (tracemalloc) is measured once per loader.

    python bench/data_load.py            # full run (a minute or two)
    python bench/data_load.py --quick    # smoke run (a few seconds: 2,000 / 500 / 500 rows)
"""
import argparse, gzip, pickle, statistics, tempfile, time, tracemalloc
from pathlib import Path
import numpy as np
import torch
from course_lib.data import load_course_file, save_course_file

def plain_load(path):
    "The course's loader: trusts the file completely."
    with gzip.open(path, 'rb') as f: return pickle.load(f, encoding='latin1')

def make_file(folder, sizes, seed=0):
    "A course-format file with `sizes` rows per split: pixels 80 % zeros, the rest in [0, 1), like MNIST's."
    rng = np.random.default_rng(seed)
    def split(n):
        x = rng.random((n, 784), dtype=np.float32)
        return np.where(x < 0.8, np.float32(0), (x - 0.8) * 5).astype(np.float32), rng.integers(0, 10, n)
    return save_course_file(Path(folder)/'mnist.pkl.gz', *(split(n) for n in sizes))

def seconds(f):
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0

def peak_bytes(f):
    tracemalloc.start(); f(); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop(); return peak

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true'); ap.add_argument('--rounds', type=int)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sizes, rounds = ((2000, 500, 500), a.rounds or 3) if a.quick else ((50000, 10000, 10000), a.rounds or 15)
    with tempfile.TemporaryDirectory() as d:
        p = make_file(d, sizes)
        loaders = {'pickle.load (the course, unsafe)': lambda: plain_load(p), 'load_course_file': lambda: load_course_file(p),
                   'load_course_file (A/A control)': lambda: load_course_file(p)}
        names, times = list(loaders), {n: [] for n in loaders}
        for f in loaders.values(): f()   # warm-up
        for r in range(rounds):
            for n in names[r % len(names):] + names[:r % len(names)]: times[n].append(seconds(loaders[n]))
        peaks = {n: peak_bytes(f) for n, f in list(loaders.items())[:2]}
        print(f"course-format file: {' / '.join(f'{n:,}' for n in sizes)} rows, {p.stat().st_size / 1e6:.1f} MB on disk, "
              f"{rounds} interleaved rounds, 1 thread")
        print(f"| loader | median time | ratio to pickle.load (median, IQR) | peak traced memory |\n|:--|--:|--:|--:|")
        ref = times[names[0]]
        for n in names:
            ratios = [t / b for t, b in zip(times[n], ref)]
            q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            mem = f"{peaks[n] / 1e6:.0f} MB" if n in peaks else ''
            print(f"| {n} | {statistics.median(times[n]):.3f} s | {statistics.median(ratios):.2f} ({q[0]:.2f}–{q[2]:.2f}) | {mem} |")

if __name__ == '__main__': main()
