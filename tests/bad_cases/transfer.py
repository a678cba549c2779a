"""Bad input for course_lib.transfer: a split rate given as a percentage, an event name misspelt, a model with no
place to cut, a one-cycle start past the end."""
import torch
import torch.nn.functional as F
from torch import nn
from bad_cases import Bad
from course_lib.callbacks import DataBunch
from course_lib.learner import Learner
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.transfer import random_splitter, DebugCallback, adapt_model, sched_1cycle

def _no_pool():
    ds = Dataset(torch.randn(4, 1, 8, 8), torch.arange(4) % 2)
    data = DataBunch(DataLoader(ds, Sampler(ds, 2)), DataLoader(ds, Sampler(ds, 2)), c=2)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(2))
    adapt_model(Learner(model, data, F.cross_entropy), data)

CASES = [
    Bad('random-splitter-percent', lambda: random_splitter('a.png', p_valid=10), ValueError, ('p_valid', '10')),
    Bad('random-splitter-negative', lambda: random_splitter('a.png', p_valid=-0.1), ValueError, ('p_valid', '-0.1')),
    Bad('debug-callback-event-misspelt', lambda: DebugCallback('after_bacth'), ValueError,
        ('cb_name', 'after_bacth')),
    Bad('adapt-model-no-pool', _no_pool, ValueError, ('nn.AdaptiveAvgPool2d', 'cut=')),
    Bad('sched-1cycle-pct-start-past-1', lambda: sched_1cycle(1e-2, pct_start=1.3), ValueError, ('pcts', '1.3')),
]
