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
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:16], y[:16]), 16, generator=torch.Generator().manual_seed(0)), c=3)
    model = nn.Sequential(nn.Linear(6, nh), nn.ReLU(), nn.Linear(nh, 3))
    return Learner(model, (opt or partial(torch.optim.SGD, lr=0.1))(model.parameters()), nn.functional.cross_entropy, data)


def _fit_with(cb, stats=True):
    run = Runner(cbs=cb, cb_funcs=[partial(AvgStatsCallback, accuracy)] if stats else None)
    run.logger = lambda line: None
    run.fit(1, _learner())


def _load_bytes(data, name='broken.pth'):
    "load_checkpoint on a file holding `data`."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)/name
        path.write_bytes(data)
        load_checkpoint(_learner(), path)


def _load_other(name, make):
    "load_checkpoint of a checkpoint of learner `make()` into a default learner."
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(make(), Path(tmp)/name, 1)
        load_checkpoint(_learner(), path)


CASES = [
    Bad('lr-find-max-iter-small', lambda: LR_Find(max_iter=1), ValueError, ('max_iter', '1')),
    Bad('lr-find-max-iter-float', lambda: LR_Find(max_iter=2.5), TypeError, ('max_iter', '2.5')),
    Bad('lr-find-min-lr-zero', lambda: LR_Find(min_lr=0), ValueError, ('min_lr', '0')),
    Bad('lr-find-min-lr-negative', lambda: LR_Find(min_lr=-1e-3), ValueError, ('min_lr', '-0.001')),
    Bad('lr-find-max-lr-nan', lambda: LR_Find(max_lr=float('nan')), ValueError, ('max_lr', 'nan')),
    Bad('lr-find-range-reversed', lambda: LR_Find(min_lr=1., max_lr=0.1), ValueError, ('min_lr', 'max_lr', '1.0', '0.1')),
    Bad('lr-find-max-lr-str', lambda: LR_Find(max_lr='10'), TypeError, ('max_lr', "'10'")),
    Bad('lr-find-course-optimizer', lambda: lr_find(_learner(opt=Optimizer)), TypeError, ('learn.opt', 'Optimizer')),
    Bad('lr-find-plot-skip-last', lambda: LRFinderResult([1e-3, 1e-2], [1., 2.], 1e-3).plot(skip_last=-1), ValueError, ('skip_last', '-1')),
    Bad('early-stopping-patience-negative', lambda: EarlyStoppingCallback(patience=-1), ValueError, ('patience', '-1')),
    Bad('early-stopping-patience-float', lambda: EarlyStoppingCallback(patience=1.5), TypeError, ('patience', '1.5')),
    Bad('early-stopping-monitor-type', lambda: EarlyStoppingCallback(monitor=3), TypeError, ('monitor', '3')),
    Bad('early-stopping-min-delta', lambda: EarlyStoppingCallback(min_delta=-0.1), ValueError, ('min_delta', '-0.1')),
    Bad('early-stopping-comp', lambda: EarlyStoppingCallback(comp='lt'), TypeError, ('comp', "'lt'")),
    Bad('early-stopping-unknown-monitor', lambda: _fit_with(EarlyStoppingCallback('valid_acc')), ValueError, ("'valid_acc'", "'valid_accuracy'", "'valid_loss'")),
    Bad('early-stopping-no-avg-stats', lambda: _fit_with(EarlyStoppingCallback(), stats=False), ValueError, ("'valid_loss'", 'AvgStatsCallback')),
    Bad('save-model-fname', lambda: SaveModelCallback(fname=5), TypeError, ('fname', '5')),
    Bad('save-model-unknown-monitor', lambda: _fit_with(SaveModelCallback(monitor='train_acc')), ValueError, ("'train_acc'", "'train_accuracy'")),
    Bad('checkpoint-epoch-negative', lambda: save_checkpoint(_learner(), Path(tempfile.gettempdir())/'never.pth', -1), ValueError, ('epoch', '-1')),
    Bad('checkpoint-epoch-float', lambda: save_checkpoint(_learner(), Path(tempfile.gettempdir())/'never.pth', 1.5), TypeError, ('epoch', '1.5')),
    Bad('checkpoint-garbage', lambda: _load_bytes(b'not a checkpoint at all'), ValueError, ('broken.pth',)),
    Bad('checkpoint-empty', lambda: _load_bytes(b'', 'empty.pth'), ValueError, ('empty.pth',)),
    Bad('checkpoint-other-model', lambda: _load_other('wide.pth', lambda: _learner(nh=12)), ValueError, ('wide.pth', 'shapes', '(12, 6)', '(8, 6)')),
    Bad('checkpoint-other-optimizer', lambda: _load_other('adam.pth', lambda: _learner(opt=torch.optim.Adam)), ValueError, ('adam.pth', 'Adam', 'SGD')),
    Bad('set-seed-negative', lambda: set_seed(-1), ValueError, ('seed', '-1')),
    Bad('set-seed-too-big', lambda: set_seed(2**32), ValueError, ('seed', str(2**32))),
    Bad('set-seed-float', lambda: set_seed(1.5), TypeError, ('seed', '1.5')),
    Bad('set-seed-deterministic', lambda: set_seed(0, deterministic='yes'), TypeError, ('deterministic', "'yes'")),
]
