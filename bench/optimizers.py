"""A step of course_lib's Adam against a step of `torch.optim.Adam` with its default settings, side by side.

The model: lesson 09's CNN (`get_cnn_model` of `batchnorm.conv_layer` blocks, 8-16-32-32 channels, the GeneralRelu
settings of the lessons) for 10 classes: 14 parameter tensors, about 15,000 numbers. Every parameter gets a fixed
random gradient once; one call = `n_steps` calls of `opt.step()` (the gradients stay, the Adam state evolves).

Contenders, all with PyTorch's hyper-parameters (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, no weight decay), so they do
the same arithmetic (the script prints their largest parameter difference after the same steps first):

* `optim.Adam (default)` -- `torch.optim.Adam(params, lr=1e-3)`: PyTorch picks its implementation (on the CPU the
  single-tensor loop, on CUDA the multi-tensor `foreach` one). The base, and its A/A row (the base again under a
  second name: the noise floor);
* `adam_opt()` -- `course_lib.optimizers.adam_opt()` with the same hyper-parameters: steppers and statistics, each
  one multi-tensor `torch._foreach_*` call per group;
* `optim.Adam (foreach)` -- PyTorch's multi-tensor implementation asked for explicitly (on the CPU it is not the
  default): the fastest PyTorch alternative.

Method (CPU): one thread, interleaved repeats (forward then reverse order), medians of per-repeat ratios to the base,
process CPU time by default (`train_loop.compare`). On CUDA (`--device cuda`) the wall clock, with the device
synchronised at the end of every call.

    python bench/optimizers.py            # 21 repeats of 200 steps
    python bench/optimizers.py --quick    # 3 repeats of 5 steps: a smoke run, not a measurement
"""
import argparse, os, platform, sys
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import optim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare                                     # noqa: E402

from course_lib.cnn import get_cnn_model                                   # noqa: E402
from course_lib.batchnorm import conv_layer                                # noqa: E402
from course_lib.optimizers import adam_opt                                 # noqa: E402

NFS = [8, 16, 32, 32]
TORCH = dict(mom=0.9, sqr_mom=0.999, eps=1e-8)      # PyTorch's Adam defaults, in our names


def make_params(device, seed=0):
    "The lesson's CNN's parameters on `device`, each with a fixed random gradient."
    torch.manual_seed(seed)
    model = get_cnn_model(SimpleNamespace(c=10), NFS, conv_layer, leak=0.1, sub=0.4, maxv=6.).to(device)
    for p in model.parameters(): p.grad = torch.randn_like(p)
    return list(model.parameters())


OPTS = {'optim.Adam (default)': lambda ps: optim.Adam(ps, lr=1e-3),
        'adam_opt()': lambda ps: adam_opt()(ps, lr=1e-3, **TORCH),
        'optim.Adam (foreach)': lambda ps: optim.Adam(ps, lr=1e-3, foreach=True)}


def steps(opt, n, sync):
    "A zero-argument callable: `n` optimizer steps (then wait for the device, if `sync`)."
    def run():
        for _ in range(n): opt.step()
        if sync: torch.cuda.synchronize()
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats of 5 steps: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 21, or 3 with --quick)')
    p.add_argument('--steps', type=int, default=None, help='optimizer steps per call (default 200, or 5 with --quick)')
    p.add_argument('--device', default='cpu', help="'cpu' (default) or 'cuda'")
    p.add_argument('--clock', choices=list(CLOCKS), default=None, help='cpu (default on the CPU) or wall (on CUDA)')
    a = p.parse_args()
    repeats, n = a.repeats or (3 if a.quick else 21), a.steps or (5 if a.quick else 200)
    cuda = a.device.startswith('cuda')
    clock = a.clock or ('wall' if cuda else 'cpu')
    torch.set_num_threads(1)
    n_tensors = len(make_params(a.device))
    n_numbers = sum(q.numel() for q in make_params(a.device))
    where = torch.cuda.get_device_name() if cuda else platform.processor() or platform.machine()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {where}, {os.cpu_count()} CPUs, '
          f'python {platform.python_version()}; {n_tensors} parameter tensors ({n_numbers:,} numbers); '
          f'{n} steps per call, {repeats} interleaved repeats, {clock} clock')
    finals = {}
    for name, make in OPTS.items():
        ps = make_params(a.device)
        steps(make(ps), 20, cuda)()
        finals[name] = torch.cat([q.detach().flatten() for q in ps])
    base = next(iter(finals.values()))
    print('largest parameter difference from optim.Adam after 20 steps: '
          + ', '.join(f'{k} {(v - base).abs().max().item():.1e}' for k, v in finals.items()))
    cands = {name: steps(make(make_params(a.device)), n, cuda) for name, make in OPTS.items()}
    compare(cands, repeats=repeats, warmup=1, clock=clock,
            title=f'### {n} Adam steps on the lesson-09 CNN ({a.device}), ratios to optim.Adam (default)')


if __name__ == '__main__':
    main()
