"""A small training run for the distributed tests: the same code runs in one process or under torchrun.

python tests/dist_train.py --samples 64 --bs 16 --out one.pt
torchrun --standalone --nproc_per_node 2 tests/dist_train.py --samples 64 --bs 8 --out two.pt
Rank 0 saves the final weights and the last epoch's statistics to --out. --fail-rank R makes rank R raise in after_batch.
--learner trains with the Learner of 09b instead of lesson 04's Runner and Learner."""
import argparse, os, sys
from functools import partial
import torch
from torch import nn
import torch.nn.functional as F
from course_lib.minibatch import Dataset, DataLoader, Sampler, accuracy
from course_lib.callbacks import Learner, DataBunch, Runner, Callback
from course_lib.distributed import DistributedCallback, rank_and_world, on_rank0
from course_lib.early_stopping import SaveModelCallback
from course_lib.progress import AvgStatsCallback, ProgressCallback
import course_lib.learner

class FailAt(Callback):
    "Raise in `after_batch` of batch `it` on rank `rank` (a fault to recover from)."
    def __init__(self, rank, it=2): self.rank, self.it = rank, it
    def after_batch(self):
        if self.in_train and rank_and_world()[0] == self.rank and self.iter == self.it: raise RuntimeError(f"rank {self.rank} fails on purpose")

def make_data(n, n_valid, bs, shuffle=False, d=12, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, xv = torch.randn(n, d, generator=g), torch.randn(n_valid, d, generator=g)
    w = torch.randn(d, c, generator=g)
    y, yv = (x @ w).argmax(1), (xv @ w).argmax(1)
    tr, va = Dataset(x, y), Dataset(xv, yv)
    return DataBunch(DataLoader(tr, Sampler(tr, bs, shuffle=shuffle)), DataLoader(va, Sampler(va, bs)), c=c)

def train(n=64, n_valid=40, bs=16, epochs=2, shuffle=False, fail_rank=None, timeout=60., lr=0.1, mom=0.9, save=None, progress=False,
          learner=False):
    "Train; return (learn, run): lesson 04's Learner and Runner, or with `learner` the 09b Learner twice (it is its own runner)."
    data = make_data(n, n_valid, bs, shuffle)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    cbs = [AvgStatsCallback([accuracy]), DistributedCallback(timeout=timeout)] + ([FailAt(fail_rank)] if fail_rank is not None else [])
    if save: cbs.append(SaveModelCallback(fname='best', path=save))
    if progress: cbs.append(ProgressCallback(bars=False))
    if learner:
        learn = course_lib.learner.Learner(model, data, F.cross_entropy, partial(torch.optim.SGD, momentum=mom), lr, cbs=cbs)
        learn.fit(epochs)
        return learn, learn
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=lr, momentum=mom), F.cross_entropy, data)
    run = Runner(cbs=cbs)
    run.fit(epochs, learn)
    return learn, run

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    for a, t, d in (('--samples', int, 64), ('--valid-samples', int, 40), ('--bs', int, 16), ('--epochs', int, 2), ('--fail-rank', int, None), ('--timeout', float, 60.)):
        ap.add_argument(a, type=t, default=d)
    ap.add_argument('--shuffle', action='store_true'); ap.add_argument('--out'); ap.add_argument('--save'); ap.add_argument('--progress', action='store_true')
    ap.add_argument('--learner', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(1)
    learn, run = train(a.samples, a.valid_samples, a.bs, a.epochs, a.shuffle, a.fail_rank, a.timeout, save=a.save, progress=a.progress,
                       learner=a.learner)
    if a.out: on_rank0(torch.save, {'state': learn.model.state_dict(), 'log': run.avg_stats.log, 'world': int(os.environ.get('WORLD_SIZE', 1)),
                                    'type': type(learn.model).__name__}, a.out)
