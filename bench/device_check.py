"""The device checks of lessons 06 and 10c in one run: the Runner against hand loops, and mixed precision.

Part 06 -- one epoch of the lesson-06 CNN on the best available device: the Runner against hand loops, side by side.

The model is `course_lib.cnn.get_cnn_model(data, [8, 16, 32, 32], conv_grelu, leak=0.1, sub=0.4, maxv=6.)` with
`init_cnn`, SGD with momentum 0.9, `F.cross_entropy`, training batches of bs and validation batches of 2*bs, on
MNIST-shaped synthetic data (`train_loop.make_data`: flat 784-pixel rows viewed as 1x28x28 images). Every candidate
trains one epoch from the same seed and then validates. Contenders:

* `hand loop, data on device` -- the whole data set moved to the device once; each step slices a shuffled permutation
  there (the floor: no host-to-device copies at all).
* `hand loop, copy each batch` -- the data stays on the CPU; each batch is indexed there and copied with `.to(device)`.
  Its extra time over the floor is the *data transfer share*.
* `hand loop, pinned + non_blocking` (CUDA only) -- each batch copied into pinned memory, then sent with
  `non_blocking=True`, so the copy can overlap the GPU's work: does pinning help?
* `Runner + DeviceCallback` -- `course_lib`'s Runner with `DeviceCallback`, `BatchTransformXCallback(view_tfm(1, 28, 28))`
  and `AvgStatsCallback(accuracy)` over course_lib `DataLoader`s on the CPU data: compare with `copy each batch`.
* `Runner, data on device` -- the same Runner over loaders whose data already lives on the device: compare with the floor.

On CUDA it also counts the host synchronisations one Runner epoch makes (`torch.cuda.set_sync_debug_mode`): the
default callbacks keep their sums on the device, so there should be a handful per epoch, not several per batch.

Method: `train_loop.compare` (interleaved repeats, forward then reverse order, medians of per-repeat ratios to the
first candidate, an A/A row for the noise floor). On the CPU: one thread, process CPU time; on a GPU: wall time with a
`synchronize` at the end of each candidate.

Part 10c -- mixed precision on the device (`bench/fp16.py`'s `WAYS`: float32, `MixedPrecision`, autocast +
`GradScaler`; float16 on CUDA): time per epoch of lesson 10c's CNN (the course's BatchNorm in its blocks) on the same
50,000 synthetic samples, already on the device, at each batch size, beside the float32 A/A row; then the accuracy
check: 3 seeds x 2 epochs of each way on the offline digits (synthetic data where the sample is not installed), and
whether each 16-bit way's mean accuracy is within 2 points of float32's. On a CPU the 16-bit type is bfloat16 and
`bench/fp16.py` is the measurement, so without `--quick` part 10c runs only on a GPU.

One command runs both parts in about three minutes on one GPU; `--only 06` or `--only 10c` runs one.

    python bench/device_check.py            # 50,000 samples, 5 repeats
    python bench/device_check.py --quick    # 2,000 samples (256 for 10c), 2 repeats: a smoke run (seconds on a CPU)
"""
import argparse, os, platform, statistics, sys, warnings
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import optim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare, make_data                                                        # noqa: E402
import fp16 as fp16_bench                                                                         # noqa: E402

from course_lib.callbacks import AvgStatsCallback, DataBunch, Learner, Runner                     # noqa: E402
from course_lib.cnn import (BatchTransformXCallback, DeviceCallback, conv_grelu, default_device,   # noqa: E402
                            get_cnn_model, init_cnn, view_tfm)
from course_lib.minibatch import Dataset, accuracy, get_dls                                       # noqa: E402

NFS = [8, 16, 32, 32]


def make_model_and_opt(device, lr=0.1, seed=0):
    "The lesson's GeneralRelu CNN with Kaiming init, on `device`, and SGD with momentum."
    torch.manual_seed(seed)
    model = init_cnn(get_cnn_model(DataBunch(None, None, c=10), NFS, conv_grelu, leak=0.1, sub=0.4, maxv=6.)).to(device)
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def hand_epoch(model, opt, x, y, xv, yv, bs, device, copy=None, generator=None):
    """One epoch by hand: slices of a shuffled permutation, then validation. `copy` moves a batch to `device`
    (None: the data is there already). Returns (valid loss, valid accuracy) as floats, read once at the end."""
    copy = copy or (lambda t: t)
    perm = torch.randperm(len(x), generator=generator).to(x.device)
    model.train()
    for i in range(0, len(x), bs):
        idx = perm[i:i + bs]
        xb, yb = copy(x[idx]), copy(y[idx])
        loss = F.cross_entropy(model(xb.view(-1, 1, 28, 28)), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    tot = torch.zeros(2, device=device, dtype=torch.float64)
    with torch.no_grad():
        for i in range(0, len(xv), 2 * bs):
            xb, yb = copy(xv[i:i + 2 * bs]), copy(yv[i:i + 2 * bs])
            pred = model(xb.view(-1, 1, 28, 28))
            tot += torch.stack([F.cross_entropy(pred, yb, reduction='sum'), (pred.argmax(-1) == yb).sum()]).double()
    return tuple((tot / len(xv)).tolist())


def runner_epoch(model, opt, train_ds, valid_ds, bs, device, generator=None):
    "One epoch with the Runner, DeviceCallback, the view transform and AvgStatsCallback; returns (valid loss, accuracy)."
    data = DataBunch(*get_dls(train_ds, valid_ds, bs, generator=generator), c=10)
    run = Runner(cbs=[DeviceCallback(device), BatchTransformXCallback(view_tfm(1, 28, 28)), AvgStatsCallback(accuracy)])
    run.logger = lambda line: None
    run.fit(1, Learner(model, opt, F.cross_entropy, data))
    log = run.avg_stats.log
    return log['valid_loss'], log['valid_accuracy']


def candidates(data, device, bs, seed=0):
    "name -> zero-argument callable running one epoch from a fresh model (and synchronising the device at the end)."
    x, y, xv, yv = data
    dev_data = [t.to(device) for t in data]
    gen = lambda: torch.Generator().manual_seed(seed)
    cuda = device.type == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def timed(f):
        def g():
            r = f()
            sync()
            return r
        return g

    def hand(on_device=False, copy=None):
        model, opt = make_model_and_opt(device, seed=seed)
        xs = dev_data if on_device else data
        return hand_epoch(model, opt, *xs, bs, device, copy=copy, generator=gen())

    def runner(on_device=False):
        model, opt = make_model_and_opt(device, seed=seed)
        xs = dev_data if on_device else data
        return runner_epoch(model, opt, Dataset(xs[0], xs[1]), Dataset(xs[2], xs[3]), bs, device, generator=gen())

    cands = {'hand loop, data on device': partial(hand, True),
             'hand loop, copy each batch': partial(hand, False, lambda t: t.to(device))}
    if cuda: cands['hand loop, pinned + non_blocking'] = partial(hand, False, lambda t: t.pin_memory().to(device, non_blocking=True))
    cands['Runner + DeviceCallback'] = runner
    cands['Runner, data on device'] = partial(runner, True)
    return {k: timed(f) for k, f in cands.items()}


def count_syncs(data, device, bs):
    "Host synchronisations in one Runner epoch (CUDA only): warnings from `torch.cuda.set_sync_debug_mode('warn')`."
    x, y, xv, yv = data
    model, opt = make_model_and_opt(device)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try: runner_epoch(model, opt, Dataset(x, y), Dataset(xv, yv), bs, device)
        finally: torch.cuda.set_sync_debug_mode(0)
    return sum('synchroniz' in str(m.message) for m in w)


def ratio(res, a, b):
    "Median over repeats of time(a) / time(b) in the same repeat."
    return statistics.median(ta / tb for ta, tb in zip(res[a]['times'], res[b]['times']))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='2,000 samples, 2 repeats: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 5, or 2 with --quick)')
    p.add_argument('--n-train', type=int, default=None, help='training samples (default 50,000, or 2,000 with --quick)')
    p.add_argument('--bs', type=int, nargs='+', default=[64, 512])
    p.add_argument('--device', default=None, help='cpu, cuda, mps...; default: course_lib.cnn.default_device()')
    p.add_argument('--only', choices=['06', '10c'], default=None, help="run one part (default: both)")
    a = p.parse_args()
    repeats = a.repeats or (2 if a.quick else 5)
    n_train = a.n_train or (2_000 if a.quick else 50_000)
    bss = [64] if a.quick and a.bs == [64, 512] else a.bs
    device = default_device(a.device)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    clock = 'cpu' if device.type == 'cpu' else 'wall'
    data = make_data(n_train=n_train, n_valid=max(n_train // 5, 1))
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else (platform.processor() or platform.machine())
    print(f'device {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} CPU thread, {os.cpu_count()} CPUs, '
          f'python {platform.python_version()}; train {tuple(data[0].shape)}, valid {tuple(data[2].shape)}; '
          f'{repeats} interleaved repeats, {clock} clock')
    if a.only != '10c': check_06(data, device, bss, repeats, n_train, clock)
    if a.only != '06': check_10c(data, device, bss, repeats, a.quick)


def check_06(data, device, bss, repeats, n_train, clock):
    "Part 06: the Runner against hand loops, one epoch at each batch size."
    print('\n## Part 06: the Runner against hand loops')
    if device.type == 'cpu': print('no GPU here: every copy to the device is a no-op, so the copy rows measure only the loop')
    for bs in bss:
        cands = candidates(data, device, bs)
        for k, f in cands.items(): print(f'bs {bs}, {k}: valid loss, accuracy after one epoch = {tuple(round(v, 4) for v in f())}')
        res = compare(cands, repeats=repeats, warmup=0, clock=clock,
                      title=f'### bs = {bs}: one epoch of the CNN ({n_train:,} train + {len(data[2]):,} valid) on {device}, ratios to the data-on-device hand loop')
        floor, copy = 'hand loop, data on device', 'hand loop, copy each batch'
        if device.type == 'cpu': print('\ndata transfer share: none on the CPU (`.to(cpu)` returns the same tensor), so the copy row is a second control')
        else: print(f'\ndata transfer share (1 - data on device / copy each batch): {max(1 - ratio(res, floor, copy), 0):.1%} of the epoch')
        if 'hand loop, pinned + non_blocking' in res:
            print(f"pinned + non_blocking / plain copies: {ratio(res, 'hand loop, pinned + non_blocking', copy):.3f}x")
        print(f"Runner + DeviceCallback / copying hand loop: {ratio(res, 'Runner + DeviceCallback', copy):.3f}x; "
              f"Runner, data on device / hand loop, data on device: {ratio(res, 'Runner, data on device', floor):.3f}x; "
              f"A/A: {ratio(res, floor + ' (A/A)', floor):.3f}x")
        if device.type == 'cuda':
            print(f'host synchronisations in one Runner epoch ({(n_train - 1) // bs + 1} training batches): {count_syncs(data, device, bs)}')


def check_10c(data, device, bss, repeats, quick):
    "Part 10c: float32 against the two 16-bit ways, time per epoch at each batch size, then the accuracy check."
    print('\n## Part 10c: mixed precision')
    if device.type == 'cpu' and not quick:
        print('no GPU here: bench/fp16.py measures bfloat16 on the CPU; part 10c runs on a GPU (or with --quick)')
        return
    n = 256 if quick else len(data[0])
    dev_data = [t[:n].to(device) for t in data[:2]] + [t[:max(n // 5, 1)].to(device) for t in data[2:]]
    for bs in bss: fp16_bench.timing(dev_data, device, bs, repeats, f'{n:,} synthetic train, data on the device')
    digits, source = fp16_bench.digits(256 if quick else None)
    print(f'\naccuracy check on the {source}:')
    ok = fp16_bench.accuracy_check([t.to(device) for t in digits], device, seeds=(0,) if quick else (0, 1, 2),
                                   epochs=1 if quick else 2)
    print(f"16-bit training within 2 points of float32: {'yes' if ok else 'NO'}{' (smoke run: meaningless)' if quick else ''}")


if __name__ == '__main__':
    main()
