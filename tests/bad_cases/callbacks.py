"Bad input for course_lib.callbacks: the Runner, its learner and callbacks, AvgStats and get_model."
from functools import partial
from types import SimpleNamespace
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.callbacks import *

def _data(n=12, c=3):
    x, y = torch.randn(n, 4), torch.arange(n) % c
    ds = torch.utils.data.TensorDataset(x, y)
    dl = torch.utils.data.DataLoader(ds, batch_size=4)
    return DataBunch(dl, dl, c=c)

def _learn(**parts):
    data = _data()
    model, opt = get_model(data, lr=0.1, nh=5)
    kw = dict(model=model, opt=opt, loss_func=F.cross_entropy, data=data)
    kw.update(parts)
    return Learner(**kw)

def _fit(*a, **k): return Runner().fit(*a, **k)

class Loss(Callback): pass                      # its name, 'loss', would hide the runner's loss

def _batch(n, loss, pred=None):
    pred = torch.zeros(n, 3) if pred is None else pred
    return SimpleNamespace(xb=torch.zeros(n, 4), yb=torch.zeros(n, dtype=torch.long), pred=pred, loss=loss)

def _short_last_batch():
    s = AvgStats([], True)
    s.accumulate(_batch(3, torch.tensor(1.)))
    s.accumulate(_batch(1, torch.ones(1)))      # a per-sample loss of a 1-sample batch: still refused

def per_sample_acc(p, t): return (p.argmax(-1) == t).float()

def _remove_stranger(): Runner().remove_cbs(AvgStatsCallback([]))

CASES = [
    Bad('cb-runner-class', lambda: Runner(cbs=TrainEvalCallback), TypeError, ('cbs', 'TrainEvalCallback()')),
    Bad('cb-runner-object', lambda: Runner(cbs=[object()]), TypeError, ('cbs', 'object')),
    Bad('cb-runner-str', lambda: Runner(cbs='AvgStatsCallback'), TypeError, ('cbs', 'str')),
    Bad('cb-runner-name-clash', lambda: Runner(cbs=Loss()), ValueError, ('cbs', "'loss'")),
    Bad('cb-funcs-int', lambda: Runner(cb_funcs=3), TypeError, ('cb_funcs[0]', '3')),
    Bad('cb-funcs-instance', lambda: Runner(cb_funcs=[AvgStatsCallback([])]), TypeError, ('cb_funcs[0]', 'AvgStatsCallback')),
    Bad('cb-add-cbs-none-item', lambda: Runner().add_cbs([None]), TypeError, ('cbs', 'NoneType')),
    Bad('cb-fit-epochs-float', lambda: _fit(1.5, _learn()), TypeError, ('epochs', '1.5')),
    Bad('cb-fit-epochs-negative', lambda: _fit(-1, _learn()), ValueError, ('epochs', '-1')),
    Bad('cb-fit-epochs-bool', lambda: _fit(True, _learn()), TypeError, ('epochs', 'True')),
    Bad('cb-fit-epochs-str', lambda: _fit('3', _learn()), TypeError, ('epochs', "'3'")),
    Bad('cb-fit-start-past-end', lambda: _fit(2, _learn(), start_epoch=3), ValueError, ('start_epoch', '3')),
    Bad('cb-fit-start-negative', lambda: _fit(2, _learn(), start_epoch=-1), ValueError, ('start_epoch', '-1')),
    Bad('cb-fit-start-float', lambda: _fit(2, _learn(), start_epoch=0.5), TypeError, ('start_epoch', '0.5')),
    Bad('cb-fit-learn-object', lambda: _fit(1, object()), TypeError, ('learn', 'lacks')),
    Bad('cb-fit-learn-none', lambda: _fit(1, None), TypeError, ('learn', 'NoneType')),
    Bad('cb-fit-learn-model', lambda: _fit(1, _learn().model), TypeError, ('learn', 'Sequential')),
    Bad('cb-fit-data-none', lambda: _fit(1, _learn(data=None)), TypeError, ('learn', "'data'")),
    Bad('cb-fit-opt-none', lambda: _fit(1, _learn(opt=None)), TypeError, ('learn', "'opt'")),
    Bad('cb-fit-data-not-bunch', lambda: _fit(1, _learn(data=[1, 2])), TypeError, ('learn.data', 'list')),
    Bad('cb-event-unknown', lambda: Runner()('begin_bacth'), ValueError, ('event', "'begin_bacth'")),
    Bad('cb-remove-stranger', _remove_stranger, ValueError, ('cbs', 'never added')),
    Bad('cb-avgstats-metric-str', lambda: AvgStats(['accuracy'], True), TypeError, ('metrics[0]', "'accuracy'")),
    Bad('cb-avgstats-metric-second', lambda: AvgStats([per_sample_acc, 'acc'], True), TypeError, ('metrics[1]', "'acc'")),
    Bad('cb-avgstatscb-metric-str', lambda: AvgStatsCallback('accuracy'), TypeError, ('metrics[0]', "'accuracy'")),
    Bad('cb-avgstats-unreduced-loss', lambda: AvgStats([], True).accumulate(_batch(3, torch.ones(3))), ValueError, ('loss', '(3,)')),
    Bad('cb-avgstats-short-last-batch', _short_last_batch, ValueError, ('loss', '(1,)')),
    Bad('cb-avgstats-per-sample-metric', lambda: AvgStats([per_sample_acc], True).accumulate(_batch(3, torch.tensor(1.))), ValueError, ('per_sample_acc', '(3,)')),
    Bad('cb-get-model-no-c', lambda: get_model(DataBunch(_data().train_dl, _data().valid_dl)), ValueError, ('data.c', 'None')),
    Bad('cb-get-model-c-zero', lambda: get_model(DataBunch(_data().train_dl, _data().valid_dl, c=0)), ValueError, ('data.c', '0')),
    Bad('cb-get-model-c-float', lambda: get_model(DataBunch(_data().train_dl, _data().valid_dl, c=2.5)), TypeError, ('data.c', '2.5')),
    Bad('cb-get-model-lr-negative', lambda: get_model(_data(), lr=-1), ValueError, ('lr', '-1')),
    Bad('cb-get-model-lr-str', lambda: get_model(_data(), lr='fast'), TypeError, ('lr', "'fast'")),
    Bad('cb-get-model-lr-nan', lambda: get_model(_data(), lr=float('nan')), ValueError, ('lr', 'nan')),
    Bad('cb-get-model-nh-zero', lambda: get_model(_data(), nh=0), ValueError, ('nh', '0')),
    Bad('cb-get-model-nh-float', lambda: get_model(_data(), nh=2.5), TypeError, ('nh', '2.5')),
    Bad('cb-get-model-data-none', lambda: get_model(None), TypeError, ('data', 'NoneType')),
    Bad('cb-get-model-empty-train', lambda: get_model(DataBunch(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(0, 4), torch.zeros(0))), None, c=2)), ValueError, ('data', 'empty')),
    Bad('cb-databunch-train-ds', lambda: DataBunch([(1, 2)], [(1, 2)], c=2).train_ds, TypeError, ('train_dl', 'list')),
    Bad('cb-databunch-valid-ds', lambda: DataBunch(_data().train_dl, 5, c=2).valid_ds, TypeError, ('valid_dl', 'int')),
    Bad('cb-camel2snake-int', lambda: camel2snake(3), TypeError, ('name', '3')),
    Bad('cb-show-loop-none', lambda: show_training_loop(None), TypeError, ('run', 'NoneType')),
]
