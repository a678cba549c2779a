from bad_cases import Bad
import os
import torch
from torch import nn
import torch.nn.functional as F
from course_lib.cnn import *
from course_lib.callbacks import DataBunch, Learner, Runner
from course_lib.minibatch import Dataset, get_dls

def _with_env(name, value, f):
    "Call `f()` with the environment variable `name` set to `value`, then restore it."
    old = os.environ.get(name)
    os.environ[name] = value
    try: return f()
    finally:
        if old is None: del os.environ[name]
        else: os.environ[name] = old

class _Data:
    "Just what `get_cnn_layers` reads: the number of classes `c`."
    def __init__(self, c): self.c = c
    def __repr__(self): return f"_Data(c={self.c})"

_f = lambda hook, mod, inp, outp: None

def _fit_recording(modules_of):
    "Fit a small model one epoch with an `ActivationStats` over `modules_of(model)`."
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x, y), 8), c=2)
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data)
    Runner(cbs=[ActivationStats(modules_of(model))]).fit(1, learn)

_u8 = torch.zeros(4, 784, dtype=torch.uint8)

CASES = [
    Bad('normalize_to-two-scales', lambda: normalize_to(_u8, _u8.float() / 255), TypeError, ('uint8', 'float32')),
    Bad('hooks-empty', lambda: Hooks([], _f), ValueError, ('ms', 'empty')),
    Bad('hooks-empty-generator', lambda: Hooks((m for m in []), _f), ValueError, ('ms', 'empty')),
    Bad('device-fake-name', lambda: default_device('gpu0'), ValueError, ('device', "'gpu0'")),
    Bad('device-callback-fake-name', lambda: DeviceCallback('cuda:x'), ValueError, ('device', "'cuda:x'")),
    Bad('device-env-fake-name', lambda: _with_env('COURSE_LIB_DEVICE', 'tpu', default_device), ValueError,
        ('COURSE_LIB_DEVICE', "'tpu'")),
    Bad('cnn-no-c', lambda: get_cnn_model(_Data(None)), TypeError, ('data.c', 'None')),
    Bad('cnn-c-zero', lambda: get_cnn_model(_Data(0)), ValueError, ('data.c', '0')),
    Bad('cnn-c-float', lambda: get_cnn_layers(_Data(10.), [8]), TypeError, ('data.c', '10.0')),
    Bad('cnn-c-str', lambda: get_learn_run([8], _Data('10'), 0.1, conv2d), TypeError, ('data.c', "'10'")),
    Bad('cnn-nfs-empty', lambda: get_cnn_model(_Data(10), nfs=[]), ValueError, ('nfs', '[]')),
    Bad('act-bins-zero', lambda: ActivationStats(bins=0), ValueError, ('bins', '0')),
    Bad('act-bins-absurd', lambda: ActivationStats(bins=10**9), ValueError, ('bins', '1000000000')),
    Bad('act-bins-bool', lambda: ActivationStats(bins=True), TypeError, ('bins', 'True')),
    Bad('act-hist-range-reversed', lambda: ActivationStats(hist_range=(5, 1)), ValueError, ('hist_range', '(5, 1)')),
    Bad('act-hist-range-empty', lambda: ActivationStats(hist_range=(2, 2)), ValueError, ('hist_range', '(2, 2)')),
    Bad('act-every-zero', lambda: ActivationStats(every=0), ValueError, ('every', '0')),
    Bad('act-max-iters-negative', lambda: ActivationStats(max_iters=-1), ValueError, ('max_iters', '-1')),
    Bad('act-max-iters-zero', lambda: ActivationStats(max_iters=0), ValueError, ('max_iters', '0')),
    Bad('act-read-before-fit', lambda: ActivationStats().hists, ValueError, ('fit',)),
    Bad('act-modules-of-another-model', lambda: _fit_recording(lambda m: [nn.Linear(4, 8)]), ValueError,
        ('not layers of the model being fitted', 'Linear')),
]
