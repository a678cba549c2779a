from bad_cases import Bad
import os
import torch
from torch import nn
from course_lib.cnn import *
from course_lib.callbacks import DataBunch

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

CASES = [
    Bad('view_tfm-no-size', lambda: view_tfm(), ValueError, ('size',)),
    Bad('view_tfm-zero', lambda: view_tfm(1, 0, 28), ValueError, ('size', '0')),
    Bad('view_tfm-float', lambda: view_tfm(1, 2.5), TypeError, ('size', '2.5')),
    Bad('view_tfm-batch-does-not-divide', lambda: view_tfm(1, 28, 28)(torch.zeros(4, 780)), ValueError, ('size=(1, 28, 28)', '(4, 780)')),
    Bad('view_tfm-twice-the-values', lambda: view_tfm(1, 28, 28)(torch.zeros(4, 1568)), ValueError, ('size=(1, 28, 28)', '1568')),
    Bad('hooks-empty', lambda: Hooks([], _f), ValueError, ('ms', 'empty')),
    Bad('hooks-not-modules', lambda: Hooks([nn.Linear(1, 1), 3], _f), TypeError, ('ms', '3')),
    Bad('hooks-not-iterable', lambda: Hooks(5, _f), TypeError, ('ms', 'int')),
    Bad('hook-not-module', lambda: Hook('layer', _f), TypeError, ('m', "'layer'")),
    Bad('hook-f-not-callable', lambda: Hook(nn.Linear(1, 1), 5), TypeError, ('f', '5')),
    Bad('grelu-maxv-negative', lambda: GeneralRelu(maxv=-1), ValueError, ('maxv', '-1')),
    Bad('grelu-leak-negative', lambda: GeneralRelu(leak=-0.1), ValueError, ('leak', '-0.1')),
    Bad('grelu-sub-str', lambda: GeneralRelu(sub='a'), TypeError, ('sub', "'a'")),
    Bad('grelu-maxv-nan', lambda: GeneralRelu(maxv=float('nan')), ValueError, ('maxv', 'nan')),
    Bad('device-fake-name', lambda: default_device('gpu0'), ValueError, ('device', "'gpu0'")),
    Bad('device-callback-fake-name', lambda: DeviceCallback('cuda:x'), ValueError, ('device', "'cuda:x'")),
    Bad('device-env-fake-name', lambda: _with_env('COURSE_LIB_DEVICE', 'tpu', default_device), ValueError, ('COURSE_LIB_DEVICE', "'tpu'")),
    Bad('conv2d-ni-zero', lambda: conv2d(0, 8), ValueError, ('ni', '0')),
    Bad('conv2d-ks-float', lambda: conv2d(1, 8, ks=2.5), TypeError, ('ks', '2.5')),
    Bad('conv_grelu-stride-zero', lambda: conv_grelu(1, 8, stride=0), ValueError, ('stride', '0')),
    Bad('conv_grelu-bad-maxv', lambda: conv_grelu(1, 8, maxv=-2), ValueError, ('maxv', '-2')),
    Bad('cnn-no-c', lambda: get_cnn_model(_Data(None)), ValueError, ('data.c', 'c=None')),
    Bad('cnn-nfs-empty', lambda: get_cnn_model(_Data(10), nfs=[]), ValueError, ('nfs', '[]')),
    Bad('cnn-nfs-negative', lambda: get_cnn_layers(_Data(10), [8, -1]), ValueError, ('nfs', '-1')),
    Bad('cnn-layer-not-callable', lambda: get_cnn_model(_Data(10), layer=3), TypeError, ('layer', '3')),
    Bad('init_cnn-not-module', lambda: init_cnn('model'), TypeError, ('m', "'model'")),
    Bad('init_cnn-a-negative', lambda: init_cnn(conv2d(1, 2), a=-1), ValueError, ('a', '-1')),
    Bad('children-not-module', lambda: children([1, 2]), TypeError, ('m', 'list')),
    Bad('lambda-not-callable', lambda: Lambda(3), TypeError, ('func', '3')),
    Bad('batch-tfm-not-callable', lambda: BatchTransformXCallback('view'), TypeError, ('tfm', "'view'")),
    Bad('act-bins-zero', lambda: ActivationStats(bins=0), ValueError, ('bins', '0')),
    Bad('act-hist-range-reversed', lambda: ActivationStats(hist_range=(5, 1)), ValueError, ('hist_range', '(5, 1)')),
    Bad('act-hist-range-not-pair', lambda: ActivationStats(hist_range=5), TypeError, ('hist_range', '5')),
    Bad('act-every-zero', lambda: ActivationStats(every=0), ValueError, ('every', '0')),
    Bad('act-max-iters-negative', lambda: ActivationStats(max_iters=-1), ValueError, ('max_iters', '-1')),
    Bad('act-near-zero-negative', lambda: ActivationStats(near_zero=-0.1), ValueError, ('near_zero', '-0.1')),
    Bad('act-read-before-fit', lambda: ActivationStats().hists, ValueError, ('fit',)),
    Bad('get_runner-not-module', lambda: get_runner('model', _Data(10)), TypeError, ('model', "'model'")),
]
