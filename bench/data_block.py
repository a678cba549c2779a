#!/usr/bin/env python
"""Images per second from files to batches: lesson 08's pipeline (`ImageList` -> transforms -> `LabeledData` ->
PyTorch `DataLoader`) against the floor, the same files decoded with PIL into the same tensors in a plain loop.

Two workloads: the offline digits as PNG files (28x28 grey: decoding is cheap, so the pipeline's own overhead shows)
and the colour stand-in folder (JPEGs with a shorter side of 160 pixels, made RGB and resized to 128x128: decoding
dominates). Each epoch reads every file once and stacks batches of 64 (float32, channels first) with their labels.
Contenders run in interleaved rounds (the order rotates every round), one torch thread, timed by process CPU time;
time under another name, and that A/A row's ratio shows the noise floor (ideally 1.00). Then the pipeline with 1 and
with 2 worker processes (`num_workers`, persistent, so start-up is excluded), against each other. Times are
wall-clock: worker processes do the work outside this process, so its CPU time would not count it.

    python bench/data_block.py            # full run (a minute or two)
    python bench/data_block.py --quick    # smoke run (a few seconds)
"""
import argparse, statistics, time
import numpy as np
import torch
from PIL import Image
from course_lib.data_block import (CategoryProcessor, ImageList, LabeledData, ResizeFixed, SplitData,
                                   digits_folder, grandparent_splitter, imagenette_folder, label_by_func, make_rgb,
                                   parent_labeler, to_byte_tensor, to_float_tensor)

BS = 64

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

def loader_epoch(dl, float_batch=False):
    for xb, yb in dl:
        if float_batch: xb = xb.float().div_(255)
    return xb, yb

def seconds(f, clock):
    t0 = clock(); f(); return clock() - t0

def summary(times, ref, n):
    ratios = [r / t for t, r in zip(times, ref)]          # speed ratio: images/s over the reference's images/s
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return f"{n / statistics.median(times):,.0f} | {statistics.median(ratios):.2f} ({q[0]:.2f}–{q[2]:.2f})"

def run(name, ds, bytes_ds, prep, rounds):
    "Print the single-process table (CPU time) and the worker table (wall-clock) for one workload."
    fns, labels = ds.x.items, ds.y.items
    dl = lambda d, k=0: torch.utils.data.DataLoader(d, BS, num_workers=k, persistent_workers=k > 0)
    dl0, dlb, dl1, dl2 = dl(ds), dl(bytes_ds), dl(ds, 1), dl(ds, 2)
    one = {'floor: PIL in a plain loop': lambda: floor_epoch(fns, labels, prep),
           'ImageList -> DataLoader, float per item (the lesson)': lambda: loader_epoch(dl0),
           'ImageList -> DataLoader, float per batch': lambda: loader_epoch(dlb, float_batch=True),
           'ImageList -> DataLoader, float per item (A/A)': lambda: loader_epoch(dl0)}
    workers = {'1 worker': lambda: loader_epoch(dl1), '2 workers': lambda: loader_epoch(dl2),
               '1 worker (A/A)': lambda: loader_epoch(dl1)}
    batches = [f() for f in one.values()] + [f() for f in workers.values()]    # warm-up: file cache, workers
    assert all(torch.equal(x, batches[0][0]) and torch.equal(y, batches[0][1]) for x, y in batches), \
        "every contender must make the same last batch"
    for group, clock in ((one, time.process_time), (workers, time.perf_counter)):
        names, times = list(group), {k: [] for k in group}
        for r in range(rounds):
            for k in names[r % len(names):] + names[:r % len(names)]: times[k].append(seconds(group[k], clock))
        ref, what = names[0], 'process CPU time' if clock is time.process_time else 'wall-clock time'
        print(f"\n{name}: {len(fns):,} files, batches of {BS}, {rounds} interleaved rounds, 1 thread, {what}")
        print(f"| contender | images/s (median) | speed ratio to {ref} (median, IQR) |\n|:--|--:|--:|")
        for k in names: print(f"| {k} | {summary(times[k], times[ref], len(fns))} |")

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true'); ap.add_argument('--rounds', type=int)
    a = ap.parse_args()
    torch.set_num_threads(1)
    n_digits, rounds = (128, a.rounds or 2) if a.quick else (4000, a.rounds or 15)
    path, tfms = digits_folder(), [to_byte_tensor, to_float_tensor]
    run('digits, PNG 28x28 grey', labelled(path, tfms, 'valid', n_digits), labelled(path, tfms[:1], 'valid', n_digits),
        lambda im: im, rounds)
    size, path = ResizeFixed(128), imagenette_folder()
    tfms, n = [make_rgb, size, to_byte_tensor, to_float_tensor], 32 if a.quick else None
    run('colour stand-in, JPEG with shorter side 160 -> RGB 128x128', labelled(path, tfms, 'val', n),
        labelled(path, tfms[:3], 'val', n), lambda im: size(im.convert('RGB')), rounds)

if __name__ == '__main__': main()
