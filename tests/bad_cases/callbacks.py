"Bad input for course_lib.callbacks: the Runner's callbacks and learner, and get_model's `data.c`."
import math
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.callbacks import *

def _data(n=12, c=3, ds=None):
    x, y = torch.randn(n, 4), torch.arange(n) % c
    ds = torch.utils.data.TensorDataset(x, y) if ds is None else ds
    return DataBunch(torch.utils.data.DataLoader(ds, batch_size=4), torch.utils.data.DataLoader(ds, batch_size=4), c=c)

def _learn(data=None):
    data = _data() if data is None else data
    model, opt = get_model(_data(), lr=0.1, nh=5)
    return Learner(model, opt, F.cross_entropy, data)

def _fit(learn): Runner().fit(1, learn)

class Loss(Callback): pass                      # its name, 'loss', would hide the runner's loss
class NaNOrder(Callback): _order = math.nan
class InfOrder(Callback): _order = -math.inf
class StrOrder(Callback): _order = 'first'

def _frozen():
    learn = _learn()
    for p in learn.model.parameters(): p.requires_grad_(False)
    return learn

def _order_changed_after_adding():
    run, cb = Runner(), Callback()
    run.add_cbs(cb)
    cb._order = math.nan
    run.fit(1, _learn())

class Dicts(torch.utils.data.Dataset):
    def __len__(self): return 8
    def __getitem__(self, i): return {'x': torch.zeros(4), 'y': 0}

_cb = Callback()

CASES = [
    Bad('cb-runner-class', lambda: Runner(cbs=TrainEvalCallback), TypeError, ('cbs', 'TrainEvalCallback')),
    Bad('cb-runner-object', lambda: Runner(cbs=[object()]), TypeError, ('cbs', 'object')),
    Bad('cb-runner-str', lambda: Runner(cbs='AvgStatsCallback'), TypeError, ('cbs', "'AvgStatsCallback'")),
    Bad('cb-add-cbs-none-item', lambda: Runner().add_cbs([None]), TypeError, ('cbs', 'None')),
    Bad('cb-runner-name-clash', lambda: Runner(cbs=Loss()), ValueError, ('cbs', "'loss'")),
    Bad('cb-same-instance-twice', lambda: Runner(cbs=[_cb, _cb]), ValueError, ('cbs', 'twice')),
    Bad('cb-added-again', lambda: Runner(cbs=_cb).add_cbs(_cb), ValueError, ('cbs', 'twice')),
    Bad('cb-second-train-eval', lambda: Runner(cbs=TrainEvalCallback()), ValueError, ('TrainEvalCallback', 'twice')),
    Bad('cb-order-nan', lambda: Runner(cbs=NaNOrder()), ValueError, ('_order', 'nan')),
    Bad('cb-order-inf', lambda: Runner(cbs=InfOrder()), ValueError, ('_order', 'inf')),
    Bad('cb-order-str', lambda: Runner(cbs=StrOrder()), ValueError, ('_order', "'first'")),
    Bad('cb-order-changed-before-fit', _order_changed_after_adding, ValueError, ('_order', 'nan')),
    Bad('cb-fit-nothing-to-train', lambda: _fit(_frozen()), ValueError, ('learn.model', 'requires grad')),
    Bad('cb-fit-samples-tensors', lambda: _fit(_learn(_data(ds=torch.zeros(8, 4)))), TypeError, ('learn.data', 'Tensor')),
    Bad('cb-fit-samples-dicts', lambda: _fit(_learn(_data(ds=Dicts()))), TypeError, ('learn.data', 'dict')),
    Bad('cb-get-model-no-c', lambda: get_model(DataBunch(_data().train_dl, _data().valid_dl)), TypeError, ('data.c', 'None')),
    Bad('cb-get-model-c-zero', lambda: get_model(DataBunch(_data().train_dl, None, c=0)), ValueError, ('data.c', '0')),
    Bad('cb-get-model-c-float', lambda: get_model(DataBunch(_data().train_dl, None, c=2.5)), TypeError, ('data.c', '2.5')),
    Bad('cb-get-model-lr-negative', lambda: get_model(_data(), lr=-1), ValueError, ('learning rate', '-1')),
]
