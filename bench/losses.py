"""Lesson 10b's `LabelSmoothingCrossEntropy` against PyTorch's `F.cross_entropy(label_smoothing=)`, side by side.

One call = `n_calls` forward and backward passes of the loss on fixed logits (gradients with respect to the logits),
for three shapes: a batch of the digits at bs 64 and at bs 512 (10 classes), and a per-position input of 16 x 10
classes x 784 positions (a prediction per pixel, as in segmentation).

Contenders, all with ε = 0.1 and `reduction='mean'` (the script prints their largest difference in value and in
gradient first):

* `F.cross_entropy(label_smoothing=0.1)` -- PyTorch's fused loss: the base, and its A/A row (the base again under a
  second name: the noise floor);
* `LabelSmoothingCrossEntropy(0.1)` -- `course_lib.mixup`: `log_softmax`, a mean over the classes, `nll_loss`, and
  their blend, each a separate PyTorch call;
* `F.cross_entropy` -- plain cross-entropy without smoothing, for what the smoothing itself costs PyTorch.

Method: one thread, interleaved repeats (forward then reverse order), medians of per-repeat ratios to the base,
process CPU time (`train_loop.compare`).

    python bench/losses.py            # 21 repeats of 200 calls (20 for the per-position shape)
    python bench/losses.py --quick    # 3 repeats of 3 calls: a smoke run, not a measurement
"""
import argparse, os, platform, sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare                                             # noqa: E402

from course_lib.mixup import LabelSmoothingCrossEntropy                    # noqa: E402

EPS = 0.1
SHAPES = {'digits bs 64': (64, 10), 'digits bs 512': (512, 10), 'per position 16x10x784': (16, 10, 784)}
LOSSES = {f'F.cross_entropy(label_smoothing={EPS})': lambda o, t: F.cross_entropy(o, t, label_smoothing=EPS),
          f'LabelSmoothingCrossEntropy({EPS})': LabelSmoothingCrossEntropy(EPS),
          'F.cross_entropy': F.cross_entropy}


def inputs(shape, seed=0):
    "Logits of `shape` that require grad, and class-index targets (classes on axis 1)."
    g = torch.Generator().manual_seed(seed)
    out = (torch.randn(shape, generator=g) * 3).requires_grad_()
    return out, torch.randint(0, shape[1], shape[:1] + shape[2:], generator=g)


def calls(loss_func, out, targ, n):
    "A zero-argument callable: `n` forward and backward passes of `loss_func` on `out`, `targ`."
    def run():
        for _ in range(n):
            out.grad = None
            loss_func(out, targ).backward()
    return run


def agreement(out, targ):
    "Each contender's largest difference from the base, in value and in gradient."
    res = {}
    for name, lf in LOSSES.items():
        out.grad = None
        v = lf(out, targ)
        v.backward()
        res[name] = (v.detach(), out.grad.clone())
    base = next(iter(res.values()))
    return {k: ((v - base[0]).abs().item(), (g - base[1]).abs().max().item()) for k, (v, g) in res.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats of 3 calls: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 21, or 3 with --quick)')
    a = p.parse_args()
    repeats = a.repeats or (3 if a.quick else 21)
    torch.set_num_threads(1)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs, python {platform.python_version()}; {repeats} interleaved repeats, cpu clock')
    for title, shape in SHAPES.items():
        out, targ = inputs(shape)
        n = 3 if a.quick else (20 if len(shape) > 2 else 200)
        diffs = agreement(out, targ)
        print(f'\n{title} {tuple(shape)}: largest difference from the base, value / gradient: '
              + ', '.join(f'{k} {v:.1e} / {g:.1e}' for k, (v, g) in diffs.items() if k != next(iter(LOSSES))))
        compare({name: calls(lf, out, targ, n) for name, lf in LOSSES.items()}, repeats=repeats, warmup=1,
                title=f'### {n} forward + backward passes, {title} {tuple(shape)}, ratios to the PyTorch smoothed loss')


if __name__ == '__main__':
    main()
