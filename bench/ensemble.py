"""What training many small networks side by side buys: `train_ensemble` against training them one after another.

The workload is one method of 05c's experiment 1: M copies of `mlp(784, nh, 8)`, each on its own 2,400 examples
(300 per known class of the offline digits, or random images when they are not to hand), one-hot targets, soft
cross-entropy, SGD with momentum 0.9, `n_batches` batches per epoch, for `epochs` epochs.

Contenders:

* `ensemble (vmap)` -- `course_lib.experiments.train_ensemble`: the M models stacked by `Ensemble` and run in one
  `vmap` call per step, through our `Runner` with its `ParamScheduler` (one-cycle schedule).
* `one by one, hand loop` -- the best plain alternative: the same M models trained one after another, each with
  its own `torch.optim.SGD` and a hand-written loop over the same number of batches (no Runner, no schedule: less
  work per step than the ensemble does).
* `one by one, Runner` -- `train_ensemble` called once per model (an ensemble of one): what the experiments would
  cost without stacking.

Method: one thread, interleaved repeats (forward then reverse order), median of per-repeat ratios to the ensemble,
process CPU time (`train_loop.compare`); `ensemble (vmap) (A/A)` is the ensemble again under a second name, its
ratio is the noise floor.

    python bench/ensemble.py            # 15 repeats, M = 20 models
    python bench/ensemble.py --quick    # 3 repeats, M = 4: a smoke run, not a measurement
"""
import argparse, platform, sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import compare   # noqa: E402

from course_lib.experiments import soft_cross_entropy, train_ensemble   # noqa: E402
from course_lib.minibatch import mlp                                     # noqa: E402


def make_work(n_models, n=2400, n_out=8, seed=0):
    "Pool `x` (n_models * n images), per-model indices `idx` (n_models, n) and one-hot targets (n_models, n, n_out)."
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_models * n, 784, generator=g)
    idx = torch.arange(n_models * n).view(n_models, n)
    targets = torch.eye(n_out)[torch.randint(0, n_out, (n_models, n), generator=g)]
    return x, idx, targets


def hand_train(x, idx, targets, lr, seed, epochs, n_batches, nh):
    "One model, trained alone by a plain loop: per epoch a fresh order, `n_batches` batches, SGD with momentum."
    torch.manual_seed(seed)
    model = mlp(x.shape[1], nh, targets.shape[-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for cols in torch.randperm(len(idx), generator=g).tensor_split(n_batches):
            loss = soft_cross_entropy(model(x[idx[cols]]), targets[cols])
            loss.backward(); opt.step(); opt.zero_grad()
    return model


def candidates(work, epochs, n_batches, nh, lr=0.1):
    x, idx, targets = work
    seeds = list(range(len(idx)))
    return {
        'ensemble (vmap)': lambda: train_ensemble(x, idx, targets, soft_cross_entropy, lr, seeds, epochs, n_batches, nh),
        'one by one, hand loop': lambda: [hand_train(x, idx[m], targets[m], lr, m, epochs, n_batches, nh) for m in seeds],
        'one by one, Runner': lambda: [train_ensemble(x, idx[m:m + 1], targets[m:m + 1], soft_cross_entropy, lr, [m], epochs, n_batches, nh) for m in seeds],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='3 repeats with 4 models: a smoke run')
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--models', type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(1)
    repeats, n_models = (3, 4) if a.quick else (a.repeats, a.models)
    epochs, n_batches, nh = (1, 5, 50) if a.quick else (2, 25, 50)
    print(f"torch {torch.__version__}, {platform.machine()}, 1 thread; {n_models} models of mlp(784, {nh}, 8), "
          f"2,400 examples each, {epochs} epoch(s) of {n_batches} batches")
    compare(candidates(make_work(n_models), epochs, n_batches, nh), repeats=repeats,
            title=f"#### {n_models} models trained side by side or one by one: ratios to the ensemble")


if __name__ == '__main__': main()
