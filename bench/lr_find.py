"""What `lr_find` costs: 100 iterations of the LR finder against 100 ordinary training batches, side by side.

Contenders (the first 100*bs rows of MNIST-shaped float32 training tensors from `train_loop.make_data`, the 784-50-10 model from
`train_loop.make_model_and_opt` rebuilt from the same seed every run, `F.cross_entropy`, `torch.optim.SGD`, batches
of bs from course_lib's `DataLoader` shuffled by a seeded generator):

* `Runner, 100 batches` -- `Runner().fit(1, learn)` on the first 100*bs samples: 100 ordinary training batches
  through the callback loop (the baseline; no validation samples, since the finder does not validate either);
* `hand loop, 100 batches` -- the same 100 batches in a bare Python loop (pred, loss, backward, step, zero_grad);
* `lr_find(100)` -- `course_lib.early_stopping.lr_find(learn, max_iter=100, min_lr=1e-4, max_lr=0.5)` on the same
  100*bs samples: 100 batches with the lr set before each, the loss read after each (one `.item()`), and the model,
  optimizer and random states copied before and restored after. The range is chosen so that the loss never
  explodes and all 100 iterations run (checked);
* `Runner + LR_Find, no restore` -- the callback alone (`Runner(cbs=LR_Find(...)).fit`), to split lr_find's cost
  between the finder's per-batch work and the snapshot/restore.

Method: one thread, interleaved repeats (forward then reverse order), median of per-repeat ratios to the first
candidate, process CPU time by default (`train_loop.compare`); `... (A/A)` is the baseline again under a second name,
its ratio is the noise floor.

    python bench/lr_find.py            # 21 repeats at bs 64 and 512
    python bench/lr_find.py --quick    # 3 repeats at bs 64: a smoke run, not a measurement
"""
import argparse, math, platform, sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare, make_data, make_model_and_opt              # noqa: E402

from course_lib.callbacks import DataBunch, Learner, Runner                         # noqa: E402
from course_lib.minibatch import Dataset, get_dls                                    # noqa: E402
from course_lib.early_stopping import LR_Find, lr_find                               # noqa: E402

N_ITER = 100


def candidates_for(data, bs, lr=0.1, seed=0):
    "The contenders at batch size `bs`, each a zero-argument callable from a fresh model; each returns the number of batches it trained."
    x, y, xv, yv = data
    first = Dataset(x[:N_ITER * bs], y[:N_ITER * bs])   # every contender trains on the same 100 batches
    empty = Dataset(xv[:0], yv[:0])
    gen = lambda: torch.Generator().manual_seed(seed)

    def learner(ds):
        model, opt = make_model_and_opt(lr, seed)
        return Learner(model, opt, F.cross_entropy, DataBunch(*get_dls(ds, empty, bs, generator=gen()), c=10))

    def runner():
        learn = learner(first)
        run = Runner()
        run.fit(1, learn)
        return run.n_iter

    def hand():
        learn = learner(first)
        model, opt, n = learn.model, learn.opt, 0
        model.train()
        for xb, yb in learn.data.train_dl:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            n += 1
        return n

    def finder():
        return len(lr_find(learner(first), max_iter=N_ITER, min_lr=1e-4, max_lr=0.5).losses)

    def callback_only():
        cb = LR_Find(max_iter=N_ITER, min_lr=1e-4, max_lr=0.5)
        learn = learner(first)
        Runner(cbs=cb).fit(math.ceil(N_ITER / len(learn.data.train_dl)), learn)
        return len(cb.losses)

    return {f'Runner, {N_ITER} batches': runner, f'hand loop, {N_ITER} batches': hand,
            f'lr_find({N_ITER})': finder, 'Runner + LR_Find, no restore': callback_only}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats per candidate (default 21, or 3 with --quick)')
    p.add_argument('--bs', type=int, nargs='+', default=None, help='batch sizes (default 64 and 512, or 64 with --quick)')
    p.add_argument('--clock', choices=list(CLOCKS), default='cpu', help='cpu: process CPU time (default); wall: elapsed time')
    a = p.parse_args()
    repeats, bss = a.repeats or (3 if a.quick else 21), a.bs or ([64] if a.quick else [64, 512])
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    data = make_data(n_train=N_ITER * max(bss), n_valid=0)   # room for 100 batches of the largest bs; no validation
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread, {platform.processor() or platform.machine()}, '
          f'python {platform.python_version()}; train {tuple(data[0].shape)}; {repeats} interleaved repeats, {a.clock} clock')
    for bs in bss:
        cands = candidates_for(data, bs)
        for name, fn in cands.items():
            n = fn()
            if n != N_ITER: raise SystemExit(f'{name} trained {n} batches, not {N_ITER}: the comparison would be unfair')
        compare(cands, repeats=repeats, warmup=1, clock=a.clock, title=f'### bs = {bs}: {N_ITER} training batches')


if __name__ == '__main__':
    main()
