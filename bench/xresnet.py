"""Lesson 11's XResNet on Fashion-MNIST: `cnn_learner` + callbacks against a hand loop, and two CPU levers.

The model: the lesson's full-run XResNet (`XResNet.create(1, [1, 1, 1, 1], widths=(16, 32, 64, 128), pool=False)`,
one input channel, 10 outputs), Adam (`adam_opt(mom=0.9, sqr_mom=0.99, eps=1e-6, wd=1e-2)`) with the one-cycle
schedules of the learning rate and the momentum, `LabelSmoothingCrossEntropy`, batches of 256. The data: the first
images of Debian's Fashion-MNIST, or random images of its shape where it is not installed.

**Table 1, the training loop.** One epoch (training and validation) from the same seed, so the same weights and
the same batch order:

* `hand loop` -- a plain `for` loop: sets `lr` and `mom` from the schedules, predicts, loss, backward, step,
  zero_grad, and keeps the same per-batch statistics as `AvgStatsCallback` (sums of loss and accuracy times the batch
  size, as tensors); then the validation pass without gradients;
* `cnn_learner + callbacks` -- `cnn_learner(..., progress=False)` (`TrainEvalCallback`, `AvgStatsCallback(accuracy)`,
  `DeviceCallback`) and two `ParamScheduler`s, `learn.fit(1)`.

Both end with the same statistics (printed before the table: they must agree).

**Table 2, CPU levers.** The training step alone (forward, loss, backward, step, zero_grad) over the same batches,
on a model kept between repeats: `eager` (the default memory format), `channels_last` (model and batches in NHWC),
and `torch.compile` (the model compiled with the default inductor backend; its compile time is printed apart and
is not in the table). `--quick` skips `torch.compile`.

Method: `train_loop.compare` (interleaved repeats, forward then reverse order, medians of per-repeat ratios to the
first row, an A/A row), one torch thread, process CPU time.

    python bench/xresnet.py            # 1,024 + 512 images, 15 repeats
    python bench/xresnet.py --quick    # a smoke run: a smaller XResNet, 256 + 256 images, 2 repeats, no compile
"""
import argparse, platform, statistics, sys, time
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare                                                                  # noqa: E402

from course_lib.anneal import ParamScheduler, combine_scheds, cos_1cycle_anneal                 # noqa: E402
from course_lib.callbacks import DataBunch                                                      # noqa: E402
from course_lib.download import FASHION_MNIST_DIR, get_fashion_mnist                             # noqa: E402
from course_lib.minibatch import DataLoader, Dataset, Sampler, accuracy                         # noqa: E402
from course_lib.mixup import LabelSmoothingCrossEntropy                                        # noqa: E402
from course_lib.optimizers import adam_opt                                                      # noqa: E402
from course_lib.xresnet import XResNet, cnn_learner, create_phases                              # noqa: E402

LESSON_ARCH = partial(XResNet.create, 1, [1, 1, 1, 1], widths=(16, 32, 64, 128), pool=False)
QUICK_ARCH = partial(XResNet.create, 1, [1, 1, 1], widths=(8, 16, 32))
OPT = adam_opt(mom=0.9, sqr_mom=0.99, eps=1e-6, wd=1e-2)
LR, BS = 1e-2, 256


def images(n_train, n_valid):
    "Fashion-MNIST's first images, normalised, `(n, 1, 28, 28)`, or random ones of that shape; and the source."
    if FASHION_MNIST_DIR.is_dir():
        x, y, xv, yv = get_fashion_mnist()
        source = 'Fashion-MNIST'
    else:
        g = torch.Generator().manual_seed(0)
        x, y, xv, yv = torch.rand(n_train, 784, generator=g), torch.randint(0, 10, (n_train,), generator=g), \
            torch.rand(n_valid, 784, generator=g), torch.randint(0, 10, (n_valid,), generator=g)
        source = 'random images (Fashion-MNIST not installed)'
    m, s = x.mean(), x.std()
    x, xv = ((x[:n_train] - m) / s).view(-1, 1, 28, 28), ((xv[:n_valid] - m) / s).view(-1, 1, 28, 28)
    return (x, y[:n_train], xv, yv[:n_valid]), source


def databunch(data, seed=0):
    x, y, xv, yv = data
    tds, vds = Dataset(x, y), Dataset(xv, yv)
    train_dl = DataLoader(tds, Sampler(tds, BS, shuffle=True, generator=torch.Generator().manual_seed(seed)))
    return DataBunch(train_dl, DataLoader(vds, Sampler(vds, 2 * BS)), c_in=1, c_out=10)


def schedules():
    phases = create_phases(0.3)
    return (combine_scheds(phases, cos_1cycle_anneal(LR / 25, LR, LR / 25e4)),
            combine_scheds(phases, cos_1cycle_anneal(0.95, 0.85, 0.95)))


def learner(arch, data, seed=0):
    torch.manual_seed(seed)
    learn = cnn_learner(arch, databunch(data, seed), LabelSmoothingCrossEntropy(), OPT, lr=LR, progress=False)
    learn.logger = lambda line: None
    return learn


def with_callbacks(arch, data):
    "One epoch with `cnn_learner`'s callbacks and two `ParamScheduler`s; the epoch's statistics."
    learn = learner(arch, data)
    sched_lr, sched_mom = schedules()
    learn.fit(1, cbs=[ParamScheduler('lr', sched_lr), ParamScheduler('mom', sched_mom)])
    return learn.avg_stats.train_stats.avg_stats + learn.avg_stats.valid_stats.avg_stats


def _pass(model, dl, loss_func, opt=None, scheds=None):
    sums, n = torch.zeros(2, dtype=torch.float64), 0
    for i, (xb, yb) in enumerate(dl):
        if opt is not None:
            for pg in opt.param_groups: pg['lr'], pg['mom'] = (f(i / len(dl)) for f in scheds)
        pred = model(xb)
        loss = loss_func(pred, yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        sums.add_(torch.stack([loss.detach(), accuracy(pred.detach(), yb)]), alpha=len(xb))
        n += len(xb)
    return (sums / n).tolist()


def hand_loop(arch, data):
    "The same epoch as a plain loop: the same model, optimizer, schedules and per-batch statistics."
    learn = learner(arch, data)     # the same model (seed), batches and optimizer; its `fit` is not called
    model, loss_func, opt, scheds = learn.model, learn.loss_func, learn.opt, schedules()
    model.train()
    train = _pass(model, learn.data.train_dl, loss_func, opt, scheds)
    model.eval()
    with torch.no_grad(): valid = _pass(model, learn.data.valid_dl, loss_func)
    return train + valid


def stepper(arch, data, lever):
    "A training step over every training batch of `data` on one model kept between calls, with `lever` applied."
    learn = learner(arch, data)
    model, loss_func, opt = learn.model, learn.loss_func, learn.opt
    batches = list(learn.data.train_dl)
    if lever == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
        batches = [(xb.contiguous(memory_format=torch.channels_last), yb) for xb, yb in batches]
    if lever == 'torch.compile': model = torch.compile(model)
    def run():
        for xb, yb in batches:
            loss_func(model(xb), yb).backward()
            opt.step()
            opt.zero_grad()
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='a smaller XResNet, 256 + 256 images, 2 repeats, no compile')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 15, or 2 with --quick)')
    args = p.parse_args()
    torch.set_num_threads(1)
    repeats = args.repeats or (2 if args.quick else 15)
    arch, (n_train, n_valid) = (QUICK_ARCH, (256, 256)) if args.quick else (LESSON_ARCH, (1024, 512))
    data, source = images(n_train, n_valid)
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}, 1 thread; "
          f"{source}: {n_train:,} training + {n_valid:,} validation images, bs {BS}; {repeats} repeats")

    a, b = hand_loop(arch, data), with_callbacks(arch, data)
    print("epoch statistics (train loss, accuracy, valid loss, accuracy):")
    print(f"  hand loop               {' '.join(f'{v:.6f}' for v in a)}")
    print(f"  cnn_learner + callbacks {' '.join(f'{v:.6f}' for v in b)}  -> "
          f"{'identical' if a == b else 'max difference %.2e' % max(abs(u - v) for u, v in zip(a, b))}")
    loops = {'hand loop': partial(hand_loop, arch, data), 'cnn_learner + callbacks': partial(with_callbacks, arch, data)}
    compare(loops,
            repeats=repeats, warmup=1, title='### One epoch: the Learner and its callbacks against a hand loop')

    levers = ['eager', 'channels_last'] + ([] if args.quick else ['torch.compile'])
    steps = {}
    for lever in levers:
        steps[lever] = stepper(arch, data, lever)
        t0 = time.perf_counter()
        steps[lever]()      # the first call: compiles, for torch.compile
        print(f"first training pass, {lever}: {time.perf_counter() - t0:.1f} s wall")
    res = compare(steps, repeats=repeats, warmup=1,
                  title=f'### The training step over {n_train:,} images: memory format and torch.compile')
    med = lambda k: statistics.median(t / e for t, e in zip(res[k]['times'], res['eager']['times']))
    print('\n' + ', '.join(f"{k} / eager {med(k):.2f}x" for k in res if k != 'eager'))


if __name__ == '__main__':
    main()
