#!/usr/bin/env python
"""Images per second from files to batches: lesson 08's pipeline (`ImageList` -> transforms -> `LabeledData` ->
PyTorch `DataLoader`) against the floor, the same files decoded with PIL into the same tensors in a plain loop.

Two workloads: the offline digits as PNG files (28x28 grey: decoding is cheap, so the pipeline's own costs show)
and the colour stand-in folder (JPEGs with a shorter side of 160 pixels, made RGB and resized to 128x128: decoding
dominates). Each epoch reads every file once and ends with float32 batches of 64 (channels first, in [0, 1]) and their
labels; the bench checks that every contender makes the same last batch before timing. The contenders:

* the floor: PIL in a plain loop, bytes stacked and turned into floats once per batch;
* the lesson: `to_byte_tensor` per image, `to_float_tensor` once per batch (the lesson's default);
* the 2019 way: `to_byte_tensor` and `to_float_tensor` per image, as the course listed them;
* the lesson again under another name (A/A): its ratio to the lesson is the noise floor (ideally 1.00).

They run in interleaved rounds (the order rotates every round), one torch thread, timed by this process's CPU time.

Then worker processes (`num_workers` 1 and 2, persistent, so their start-up is paid once, before timing), on the
colour workload, several epochs per timing, with an A/A row (1 worker again). Workers do the work outside this process,
so these rows are timed by the wall clock, and also by the CPU time of this process plus its workers (read from
/proc: `getrusage(RUSAGE_CHILDREN)` counts only children that have ended, and persistent workers have not).

    python bench/data_block.py            # full run (about two minutes)
    python bench/data_block.py --quick    # smoke run (a few seconds)
"""
import argparse, multiprocessing, os, statistics, time
import numpy as np
import torch
from PIL import Image
from course_lib.data_block import (CategoryProcessor, ImageList, LabeledData, ResizeFixed, SplitData,
                                   digits_folder, grandparent_splitter, imagenette_folder, label_by_func, make_rgb,
                                   parent_labeler, to_byte_tensor, to_float_tensor)

BS = 64
TICK = os.sysconf('SC_CLK_TCK')

def labelled(path, tfms, valid_name, n):
    "The first `n` training items of the folder at `path`, labelled by folder, as `LabeledData`."
    il = ImageList.from_files(path, tfms=tfms)
    sd = SplitData.split_by_func(il, lambda fn: grandparent_splitter(fn, valid_name=valid_name))
    tr = label_by_func(sd, parent_labeler, proc_y=CategoryProcessor()).train
    return LabeledData(tr.x.new(tr.x.items[:n]), tr.y.new(tr.y.items[:n]))

def floor_epoch(fns, labels, prep):
    "Decode every file with PIL (`prep` does the workload's conversions) into float batches: no framework at all."
    for i in range(0, len(fns), BS):
        xs = torch.stack([torch.from_numpy(np.array(prep(Image.open(f)))) for f in fns[i:i + BS]])
        xb = (xs[:, None] if xs.ndim == 3 else xs.permute(0, 3, 1, 2)).float().div_(255)
        yb = torch.tensor(labels[i:i + BS])
    return xb, yb

def loader_epoch(dl, epochs=1):
    "`epochs` passes over `dl`, each batch's inputs made floats (a no-op on floats already): the last batch."
    for _ in range(epochs):
        for xb, yb in dl: xb = to_float_tensor(xb)
    return xb, yb

def workers_cpu():
    "CPU seconds used so far by this process's live child processes (the loader's workers)."
    total = 0
    for p in multiprocessing.active_children():
        try:
            with open(f'/proc/{p.pid}/stat') as f: total += sum(map(int, f.read().rsplit(')', 1)[1].split()[11:13]))
        except OSError: pass
    return total / TICK

CLOCKS = {'cpu': time.process_time, 'wall': time.perf_counter,
          'cpu+workers': lambda: time.process_time() + workers_cpu()}

def interleaved(group, rounds, clocks):
    "Time each callable of `group` `rounds` times, the order rotating every round: {clock: {name: [seconds]}}."
    names, times = list(group), {c: {k: [] for k in group} for c in clocks}
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t0 = {c: CLOCKS[c]() for c in clocks}
            group[k]()
            for c in clocks: times[c][k].append(CLOCKS[c]() - t0[c])
    return times

def ratio(times, ref):
    "Speed ratio to `ref`: the median and IQR of the per-round ratios of `ref`'s time to `times`."
    ratios = [r / t for t, r in zip(times, ref)]
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return f"{statistics.median(ratios):.2f} ({q[0]:.2f}–{q[2]:.2f})"

def summary(times, ref, n):
    "Images/s (median) | speed ratio to `ref`."
    return f"{n / statistics.median(times):,.0f} | {ratio(times, ref)}"

def table(title, times, n, ref=None):
    names = list(times)
    ref = ref or names[0]
    print(f"\n{title}\n| contender | images/s (median) | speed ratio to {ref} (median, IQR) |\n|:--|--:|--:|")
    for k in names: print(f"| {k} | {summary(times[k], times[ref], n)} |")

def same_batches(batches):
    assert all(torch.equal(x, batches[0][0]) and torch.equal(y, batches[0][1]) for x, y in batches), \
        "every contender must make the same last batch"

def one_process(name, path, tfms, valid_name, n, prep, rounds):
    "The floor, the lesson, the 2019 way and an A/A row, in this process: CPU time."
    lesson, course = labelled(path, tfms, valid_name, n), labelled(path, tfms + [to_float_tensor], valid_name, n)
    fns, labels = lesson.x.items, lesson.y.items
    dl, dl_2019 = torch.utils.data.DataLoader(lesson, BS), torch.utils.data.DataLoader(course, BS)
    group = {'floor: PIL in a plain loop': lambda: floor_epoch(fns, labels, prep),
             'the lesson: bytes per image, float per batch': lambda: loader_epoch(dl),
             'the 2019 way: float per image': lambda: loader_epoch(dl_2019),
             'the lesson (A/A)': lambda: loader_epoch(dl)}
    same_batches([f() for f in group.values()])                       # also the warm-up: the file cache
    times = interleaved(group, rounds, ['cpu'])['cpu']
    table(f"{name}: {len(fns):,} files, batches of {BS}, {rounds} interleaved rounds, 1 thread, process CPU time",
          times, len(fns))
    names = list(times)
    print(f"\nthe 2019 way's speed ratio to the lesson's (median, IQR): {ratio(times[names[2]], times[names[1]])}")

def with_workers(name, path, tfms, valid_name, n, rounds, epochs):
    "1 and 2 persistent workers and an A/A row, `epochs` epochs a timing: wall clock and CPU time with the workers'."
    ds = labelled(path, tfms, valid_name, n)
    dl = lambda k: torch.utils.data.DataLoader(ds, BS, num_workers=k, persistent_workers=True)
    dl1, dl2 = dl(1), dl(2)
    group = {'1 worker': lambda: loader_epoch(dl1, epochs), '2 workers': lambda: loader_epoch(dl2, epochs),
             '1 worker (A/A)': lambda: loader_epoch(dl1, epochs)}
    same_batches([f() for f in group.values()])                       # also starts the workers
    times = interleaved(group, rounds, ['wall', 'cpu+workers'])
    what = f"{len(ds):,} files x {epochs} epochs, batches of {BS}, {rounds} interleaved rounds, persistent workers"
    table(f"{name}, worker processes: {what}, wall clock", times['wall'], len(ds) * epochs)
    table(f"{name}, the same timings by CPU time (this process and its workers; a higher speed ratio means less "
          "CPU a picture)", times['cpu+workers'], len(ds) * epochs)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true'); ap.add_argument('--rounds', type=int)
    ap.add_argument('--epochs', type=int, help='epochs per timing of the worker rows (default 3)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    (n_digits, n_colour), rounds = ((128, 32), a.rounds or 2) if a.quick else ((4000, None), a.rounds or 15)
    one_process('digits, PNG 28x28 grey', digits_folder(), [to_byte_tensor], 'valid', n_digits, lambda im: im, rounds)
    size, nette = ResizeFixed(128), imagenette_folder()
    colour = ([make_rgb, size, to_byte_tensor], 'val', n_colour)
    one_process('colour stand-in, JPEG with shorter side 160 -> RGB 128x128', nette, *colour,
                lambda im: size(im.convert('RGB')), rounds)
    with_workers('colour stand-in', nette, *colour, rounds, a.epochs or (1 if a.quick else 3))

if __name__ == '__main__': main()
