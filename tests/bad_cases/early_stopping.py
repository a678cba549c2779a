from bad_cases import Bad
import tempfile
from functools import partial
from pathlib import Path
import torch
from torch import nn
from course_lib.callbacks import AvgStatsCallback, DataBunch, Learner, Runner
from course_lib.minibatch import Dataset, Optimizer, accuracy, get_dls
from course_lib.early_stopping import *


def _learner(nh=8, opt=None, n=64):
    "A tiny learner on random data (nh hidden units; torch SGD unless `opt` makes another optimizer)."
    x, y = torch.randn(n, 6), torch.randint(0, 3, (n,))
    dls = get_dls(Dataset(x, y), Dataset(x[:16], y[:16]), 16, generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(nn.Linear(6, nh), nn.ReLU(), nn.Linear(nh, 3))
    opt = (opt or partial(torch.optim.SGD, lr=0.1))(model.parameters())
    return Learner(model, opt, nn.functional.cross_entropy, DataBunch(*dls, c=3))


def _fit_with(cb, stats=True, learn=None):
    run = Runner(cbs=cb, cb_funcs=[partial(AvgStatsCallback, accuracy)] if stats else None)
    run.logger = lambda line: None
    run.fit(1, learn or _learner())


def _load_bytes(data, name='broken.pth'):
    "load_checkpoint on a file holding `data`."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)/name
        path.write_bytes(data)
        load_checkpoint(_learner(), path)


def _load_other(name, make, change=None):
    "load_checkpoint of a checkpoint of learner `make()` (the saved dict passed through `change`) into a default learner."
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(make(), Path(tmp)/name, 1)
        if change: torch.save(change(torch.load(path, weights_only=True)), path)
        load_checkpoint(_learner(), path)


def _huge_rng_view(ck):
    "The torch random state replaced by a view that repeats one byte 2**33 times (8 GiB if copied; a tiny file)."
    ck['rng']['torch'] = torch.zeros(1, dtype=torch.uint8).expand(2**33)
    return ck


def _load_weights_file():
    "load_checkpoint of a plain weights file, as SaveModelCallback writes."
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(_learner().model.state_dict(), Path(tmp)/'model.pth')
        load_checkpoint(_learner(), Path(tmp)/'model.pth')


_NOWHERE = Path(tempfile.gettempdir())/'never.pth'


def _load_into_course_optimizer():
    "load_checkpoint of a torch SGD learner's checkpoint into a learner with lesson 03's Optimizer."
    with tempfile.TemporaryDirectory() as tmp:
        load_checkpoint(_learner(opt=Optimizer), save_checkpoint(_learner(), Path(tmp)/'ck.pth', 1))

class _NoStateDict:
    "An optimizer without `state_dict` (CheckpointCallback stops it before any step)."
    def __init__(self, params): self.param_groups = [{'params': list(params), 'lr': 0.1}]
    def step(self): pass
    def zero_grad(self): pass

CASES = [
    Bad('lr-find-max-iter-small', lambda: LR_Find(max_iter=1), ValueError, ('max_iter', '1')),
    Bad('lr-find-min-lr-zero', lambda: LR_Find(min_lr=0), ValueError, ('min_lr', '0')),
    Bad('lr-find-min-lr-negative', lambda: LR_Find(min_lr=-1e-3), ValueError, ('min_lr', '-0.001')),
    Bad('lr-find-max-lr-nan', lambda: LR_Find(max_lr=float('nan')), ValueError, ('max_lr', 'nan')),
    Bad('lr-find-range-reversed', lambda: LR_Find(min_lr=1., max_lr=0.1), ValueError, ('min_lr', 'max_lr', '1.0', '0.1')),
    Bad('early-stopping-min-delta', lambda: EarlyStoppingCallback(min_delta=-0.1), ValueError, ('min_delta', '-0.1')),
    Bad('early-stopping-comp', lambda: EarlyStoppingCallback(comp='lt'), TypeError, ('comp', "'lt'")),
    Bad('early-stopping-unknown-monitor', lambda: _fit_with(EarlyStoppingCallback('valid_acc')), ValueError,
        ("'valid_acc'", "'valid_accuracy'", "'valid_loss'")),
    Bad('early-stopping-no-avg-stats', lambda: _fit_with(EarlyStoppingCallback(), stats=False), ValueError,
        ("'valid_loss'", 'AvgStatsCallback')),
    Bad('save-model-unknown-monitor', lambda: _fit_with(SaveModelCallback(monitor='train_acc')), ValueError,
        ("'train_acc'", "'train_accuracy'")),
    Bad('checkpoint-epoch-negative', lambda: save_checkpoint(_learner(), _NOWHERE, -1), ValueError, ('epoch', '-1')),
    Bad('checkpoint-epoch-float', lambda: save_checkpoint(_learner(), _NOWHERE, 1.5), TypeError, ('epoch', '1.5')),
    Bad('checkpoint-load-course-optimizer', _load_into_course_optimizer, ValueError,
        ('cannot go into this learner', 'opt_type', "'SGD'", "'Optimizer'")),
    Bad('checkpoint-callback-no-state-dict', lambda: _fit_with(CheckpointCallback(_NOWHERE), learn=_learner(opt=_NoStateDict)),
        TypeError, ('CheckpointCallback', 'learn.opt', 'state_dict')),
    Bad('checkpoint-garbage', lambda: _load_bytes(b'not a checkpoint at all'), ValueError, ('broken.pth',)),
    Bad('checkpoint-empty', lambda: _load_bytes(b'', 'empty.pth'), ValueError, ('empty.pth',)),
    Bad('checkpoint-weights-file', _load_weights_file, ValueError, ('model.pth', 'not a course_lib checkpoint')),
    Bad('checkpoint-other-model', lambda: _load_other('wide.pth', lambda: _learner(nh=12)), ValueError,
        ('wide.pth', '/model/0.weight', '(12, 6)', '(8, 6)')),
    Bad('checkpoint-other-optimizer', lambda: _load_other('adam.pth', lambda: _learner(opt=torch.optim.Adam)), ValueError,
        ('adam.pth', 'Adam', 'SGD')),
    Bad('checkpoint-huge-view', lambda: _load_other('view.pth', _learner, _huge_rng_view), ValueError,
        ('view.pth', '/rng/torch', str(2**33), '(5056,)')),
    Bad('set-seed-negative', lambda: set_seed(-1), ValueError, ('Seed', '2**32 - 1')),
    Bad('set-seed-too-big', lambda: set_seed(2**32), ValueError, ('Seed', '2**32 - 1')),
    Bad('set-seed-deterministic', lambda: set_seed(0, deterministic='yes'), TypeError, ('bool', 'str')),
]
