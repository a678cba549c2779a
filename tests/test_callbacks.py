"Tests of course_lib.callbacks: the Runner's event contract, cancel/exception handling, callback plumbing and AvgStats."
import copy, pickle, re, traceback
from types import SimpleNamespace
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from hypothesis import given, strategies as st

from course_lib.callbacks import (EVENTS, AvgStats, AvgStatsCallback, Callback, CancelBatchException, CancelEpochException,
                                  CancelTrainException, DataBunch, Learner, Runner, TrainEvalCallback, camel2snake,
                                  get_model, show_training_loop)


# ---------------------------------------------------------------- a tiny learner that logs its default actions
class Loader:
    "Minimal loader: `len`, iteration over in-order slices, and `dataset` (all the Runner may rely on)."
    def __init__(self, x, y, bs): self.x, self.y, self.bs, self.dataset = x, y, bs, list(zip(x, y))
    def __len__(self): return (len(self.x) - 1) // self.bs + 1
    def __iter__(self):
        for i in range(0, len(self.x), self.bs): yield self.x[i:i + self.bs], self.y[i:i + self.bs]


class LogModel(nn.Module):
    def __init__(self, log, n_in=4, n_out=3):
        super().__init__()
        self.log, self.lin = log, nn.Linear(n_in, n_out)
        self.lin.weight.register_hook(lambda g: self.log.append('backward'))
    def forward(self, x):
        self.log.append('model')
        return self.lin(x)


class LogOpt:
    "Wraps torch's SGD, logging `step` and `zero_grad`."
    def __init__(self, params, log, lr=0.1): self.opt, self.log = torch.optim.SGD(params, lr=lr), log
    @property
    def param_groups(self): return self.opt.param_groups
    def step(self): self.log.append('step'); self.opt.step()
    def zero_grad(self): self.log.append('zero_grad'); self.opt.zero_grad()


def synth(n, n_in=4, n_out=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    y = (x @ torch.randn(n_in, n_out, generator=g)).argmax(1)
    return x, y


def tiny_learner(log, n_train=6, n_valid=4, bs=3, vbs=4):
    "2 training batches and 1 validation batch per epoch; model, loss and optimizer write their actions to `log`."
    torch.manual_seed(0)
    (x, y), (xv, yv) = synth(n_train), synth(n_valid, seed=1)
    data = DataBunch(Loader(x, y, bs), Loader(xv, yv, vbs), c=3)
    model = LogModel(log)
    def loss_func(pred, yb):
        log.append('loss')
        return F.cross_entropy(pred, yb)
    return Learner(model, LogOpt(model.parameters(), log), loss_func, data)


class Tracer(Callback):
    "Logs every event; at the `nth` occurrence of event `at` it returns `action()` (which may raise)."
    def __init__(self, log, at=None, action=None, nth=1): self.log, self.at, self.action, self.nth, self.seen = log, at, action, nth, 0
    def _event(self, e):
        self.log.append(e)
        if e == self.at:
            self.seen += 1
            if self.seen == self.nth: return self.action()

for _e in EVENTS: setattr(Tracer, _e, (lambda e: lambda self: self._event(e))(_e))


def raiser(exc):
    def f(): raise exc
    return f


def run_trace(epochs=2, **kw):
    "Fit the tiny learner with a Tracer; the trace of events and default actions, and the exception (or None)."
    log = []
    learn = tiny_learner(log)
    run = Runner(cbs=Tracer(log, **kw))
    err = None
    try: run.fit(epochs, learn)
    except BaseException as e: err = e
    return log, err


# ---------------------------------------------------------------- the expected traces
TB = ['begin_batch', 'model', 'after_pred', 'loss', 'after_loss', 'backward', 'after_backward', 'step', 'after_step',
      'zero_grad', 'after_batch']
VB = ['begin_batch', 'model', 'after_pred', 'loss', 'after_loss', 'after_batch']
EPOCH = ['begin_epoch', *TB, *TB, 'begin_validate', *VB, 'after_epoch']
END = ['after_fit', 'zero_grad']                       # after_fit, then the clean-up's zero_grad
NORMAL = ['begin_fit', *EPOCH, *EPOCH, *END]


def nth_index(trace, event, nth=1):
    idx = [i for i, e in enumerate(trace) if e == event]
    return idx[nth - 1]

def upto(event, nth=1): return NORMAL[:nth_index(NORMAL, event, nth) + 1]
def after(event, nth=1): return NORMAL[nth_index(NORMAL, event, nth) + 1:]


def test_normal_trace_two_epochs():
    log, err = run_trace()
    assert err is None
    assert log == NORMAL
    assert [e for e in log if e in EVENTS] == (['begin_fit'] + (['begin_epoch'] + 2 * [
        'begin_batch', 'after_pred', 'after_loss', 'after_backward', 'after_step', 'after_batch'] + ['begin_validate'] + [
        'begin_batch', 'after_pred', 'after_loss', 'after_batch'] + ['after_epoch']) * 2 + ['after_fit'])


def test_zero_epochs():
    log, err = run_trace(epochs=0)
    assert err is None and log == ['begin_fit', *END]


# ---- CancelBatchException
TRAIN_BATCH_EVENTS = ['begin_batch', 'after_pred', 'after_loss', 'after_backward', 'after_step']

@pytest.mark.parametrize('event', TRAIN_BATCH_EVENTS)
def test_cancel_batch_in_training(event):
    log, err = run_trace(at=event, action=raiser(CancelBatchException()))
    assert err is None
    assert log == upto(event) + ['after_cancel_batch', 'after_batch'] + after('after_batch', 1)


@pytest.mark.parametrize('event', ['begin_batch', 'after_pred', 'after_loss'])
def test_cancel_batch_in_validation(event):
    nth = 3                                            # two training batches, then the validation batch
    log, err = run_trace(at=event, action=raiser(CancelBatchException()), nth=nth)
    assert err is None
    assert log == upto(event, nth) + ['after_cancel_batch', 'after_batch'] + after('after_batch', nth)


def test_cancel_batch_from_model_and_loss():
    for where in ('model', 'loss'):
        log = []
        learn = tiny_learner(log)
        if where == 'model':
            fwd = learn.model.forward
            def forward(x, _n=[0]):
                _n[0] += 1
                if _n[0] == 1: log.append('model'); raise CancelBatchException()
                return fwd(x)
            learn.model.forward = forward
        else:
            lf = learn.loss_func
            def loss_func(p, y, _n=[0]):
                _n[0] += 1
                if _n[0] == 1: log.append('loss'); raise CancelBatchException()
                return lf(p, y)
            learn.loss_func = loss_func
        Runner(cbs=Tracer(log)).fit(2, learn)
        assert log == upto(where) + ['after_cancel_batch', 'after_batch'] + after('after_batch', 1)


# ---- CancelEpochException
REST_OF_EPOCH_0 = ['begin_validate', *VB, 'after_epoch']

@pytest.mark.parametrize('event', TRAIN_BATCH_EVENTS + ['after_batch'])
def test_cancel_epoch_in_training_batch(event):
    log, err = run_trace(at=event, action=raiser(CancelEpochException()))
    assert err is None
    assert log == upto(event) + ['after_cancel_epoch', *REST_OF_EPOCH_0, *EPOCH, *END]


def test_cancel_epoch_in_begin_epoch_skips_training_pass_only():
    log, err = run_trace(at='begin_epoch', action=raiser(CancelEpochException()))
    assert err is None
    assert log == ['begin_fit', 'begin_epoch', 'after_cancel_epoch', *REST_OF_EPOCH_0, *EPOCH, *END]


def test_cancel_epoch_in_begin_validate():
    log, err = run_trace(at='begin_validate', action=raiser(CancelEpochException()))
    assert err is None
    assert log == upto('begin_validate') + ['after_cancel_epoch', 'after_epoch', *EPOCH, *END]


@pytest.mark.parametrize('event', ['begin_batch', 'after_loss', 'after_batch'])
def test_cancel_epoch_in_validation(event):
    log, err = run_trace(at=event, action=raiser(CancelEpochException()), nth=3)
    assert err is None
    assert log == upto(event, 3) + ['after_cancel_epoch', 'after_epoch', *EPOCH, *END]


# ---- CancelTrainException
@pytest.mark.parametrize('event', ['begin_fit', 'begin_epoch', *TRAIN_BATCH_EVENTS, 'after_batch', 'begin_validate', 'after_epoch'])
def test_cancel_train(event):
    log, err = run_trace(at=event, action=raiser(CancelTrainException()))
    assert err is None
    assert log == upto(event) + ['after_cancel_train', *END]


def test_cancel_train_in_validation_batch():
    log, err = run_trace(at='after_loss', action=raiser(CancelTrainException()), nth=3)
    assert err is None
    assert log == upto('after_loss', 3) + ['after_cancel_train', *END]


def test_cancel_inside_after_cancel_handlers():
    "A CancelEpochException from after_cancel_batch ends the pass; a CancelTrainException from after_cancel_epoch ends training."
    log = []
    learn = tiny_learner(log)
    run = Runner(cbs=[Tracer(log, at='after_pred', action=raiser(CancelBatchException())),
                      Tracer([], at='after_cancel_batch', action=raiser(CancelEpochException())),
                      Tracer([], at='after_cancel_epoch', action=raiser(CancelTrainException()))])
    run.fit(2, learn)
    assert log == upto('after_pred') + ['after_cancel_batch', 'after_cancel_epoch', 'after_cancel_train', *END]


# ---- exceptions raised where nothing of their kind runs, and ordinary exceptions
NOT_CAUGHT = [(CancelBatchException, e) for e in ('begin_fit', 'begin_epoch', 'after_batch', 'begin_validate', 'after_epoch', 'after_fit')] + \
             [(CancelEpochException, e) for e in ('begin_fit', 'after_epoch', 'after_fit')] + [(CancelTrainException, 'after_fit')]

@pytest.mark.parametrize('exc, event', NOT_CAUGHT)
def test_cancel_outside_its_scope_propagates(exc, event):
    boom = exc('out of scope')
    log, err = run_trace(at=event, action=raiser(boom))
    assert err is boom
    assert log == (NORMAL if event == 'after_fit' else upto(event) + END)


@pytest.mark.parametrize('event', [e for e in EVENTS if not e.startswith('after_cancel')])
def test_ordinary_exception_reraised_unchanged(event):
    boom = RuntimeError('boom')
    log, err = run_trace(at=event, action=raiser(boom))
    assert err is boom                                 # the same object, with nothing noted on it ...
    assert getattr(err, '__notes__', []) == []
    names = [f.name for f in traceback.extract_tb(err.__traceback__)]
    assert 'f' in names and 'fit' in names             # ... with its traceback, from the raising function up through fit
    assert log == (NORMAL if event == 'after_fit' else upto(event) + END)


def test_ordinary_exception_mid_batch_leaves_model_usable():
    log = []
    learn = tiny_learner(log)
    learn.model.eval()                                 # fit must restore whatever mode it found
    w_before = learn.model.lin.weight.detach().clone()
    run = Runner(cbs=Tracer(log, at='after_backward', action=raiser(ValueError('mid-batch'))))
    with pytest.raises(ValueError, match='mid-batch'): run.fit(2, learn)
    assert log == upto('after_backward') + END
    assert learn.model.training is False
    assert all(p.grad is None for p in learn.model.parameters())   # the half-done batch's gradients are gone
    assert torch.equal(learn.model.lin.weight, w_before)           # the failing batch never stepped
    assert run.learn is learn
    # and it trains normally afterwards
    x, y = synth(300)
    learn.data = DataBunch(Loader(x, y, 30), Loader(x, y, 100), c=3)
    run2 = Runner(cb_funcs=partial(AvgStatsCallback, []))
    before = F.cross_entropy(learn.model(x), y).item()
    run2.fit(3, learn)
    assert F.cross_entropy(learn.model(x), y).item() < before


def test_model_mode_restored_after_normal_fit():
    for mode in (True, False):
        log = []
        learn = tiny_learner(log)
        learn.model.train(mode)
        modes = []
        class Spy(Callback):
            def after_pred(self): modes.append((self.in_train, self.model.training))
        Runner(cbs=Spy()).fit(1, learn)
        assert modes == [(True, True), (True, True), (False, False)]
        assert learn.model.training is mode


def test_after_fit_handlers_all_run_even_if_one_raises():
    called = []
    class Bad(Callback):
        def after_fit(self): called.append('bad'); raise KeyError('bad after_fit')
    class Good(Callback):
        _order = 1
        def after_fit(self): called.append('good')
    # no other error: the after_fit error is raised, after every after_fit ran and the clean-up happened
    learn = tiny_learner([])
    with pytest.raises(KeyError): Runner(cbs=[Bad(), Good()]).fit(1, learn)
    assert called == ['bad', 'good'] and all(p.grad is None for p in learn.model.parameters())
    # with an original error: that one is re-raised, the after_fit error is noted on it
    called.clear()
    boom = RuntimeError('original')
    with pytest.raises(RuntimeError) as ei:
        Runner(cbs=[Bad(), Good(), Tracer([], at='begin_batch', action=raiser(boom))]).fit(1, tiny_learner([]))
    assert ei.value is boom and called == ['bad', 'good']
    assert any('bad after_fit' in n for n in ei.value.__notes__)


# ---- "return True" skips the default action after the event, and only that part
SKIPS = {
    'begin_batch':    ['begin_batch', 'after_batch'],
    'after_pred':     ['begin_batch', 'model', 'after_pred', 'after_batch'],
    'after_loss':     ['begin_batch', 'model', 'after_pred', 'loss', 'after_loss', 'after_batch'],
    'after_backward': ['begin_batch', 'model', 'after_pred', 'loss', 'after_loss', 'backward', 'after_backward', 'after_batch'],
    'after_step':     ['begin_batch', 'model', 'after_pred', 'loss', 'after_loss', 'backward', 'after_backward', 'step',
                       'after_step', 'after_batch'],
}

@pytest.mark.parametrize('event', list(SKIPS))
def test_return_true_ends_the_batch_there(event):
    log, err = run_trace(at=event, action=lambda: True)
    assert err is None
    assert log == ['begin_fit', 'begin_epoch', *SKIPS[event]] + NORMAL[1 + 1 + len(TB):]


def test_return_true_at_epoch_level():
    log, _ = run_trace(at='begin_fit', action=lambda: True)
    assert log == ['begin_fit', *END]
    log, _ = run_trace(at='begin_epoch', action=lambda: True)
    assert log == ['begin_fit', 'begin_epoch', *REST_OF_EPOCH_0, *EPOCH, *END]
    log, _ = run_trace(at='begin_validate', action=lambda: True)
    assert log == upto('begin_validate') + ['after_epoch', *EPOCH, *END]


@pytest.mark.parametrize('event', ['after_batch', 'after_epoch', 'after_fit'])
def test_return_true_from_after_events_changes_nothing(event):
    log, _ = run_trace(at=event, action=lambda: True)
    assert log == NORMAL


def test_return_true_stops_the_step_and_all_callbacks_are_called():
    x, y = synth(60)
    calls = []
    class Veto(Callback):
        def after_backward(self): calls.append('veto'); return True
    class Other(Callback):
        def after_backward(self): calls.append('other'); return False       # after a True: still called
    model = nn.Linear(4, 3)
    w0 = model.weight.detach().clone()
    data = DataBunch(Loader(x, y, 20), Loader(x, y, 60), c=3)
    Runner(cbs=[Veto(), Other()]).fit(1, Learner(model, torch.optim.SGD(model.parameters(), lr=0.5), F.cross_entropy, data))
    assert torch.equal(model.weight, w0)               # no step ever happened
    assert calls == ['veto', 'other'] * 3
    # a False/None result from the *first* callback does not hide a True from a later one (the 2019 `and` bug)
    calls.clear()
    Runner(cbs=[Other(), Veto()]).fit(1, Learner(model, torch.optim.SGD(model.parameters(), lr=0.5), F.cross_entropy, data))
    assert torch.equal(model.weight, w0) and calls == ['other', 'veto'] * 3


def test_gradient_accumulation_by_returning_true():
    x, y = synth(40)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    twin = copy.deepcopy(model)
    class Accumulate(Callback):
        def after_backward(self): return self.iter % 2 == 0
    data = DataBunch(Loader(x, y, 10), Loader(x, y, 40), c=3)
    Runner(cbs=Accumulate()).fit(1, Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data))
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    for i in (0, 20):                                  # two steps, each with the summed gradients of two batches
        (F.cross_entropy(twin(x[i:i + 10]), y[i:i + 10]) + F.cross_entropy(twin(x[i + 10:i + 20]), y[i + 10:i + 20])).backward()
        opt.step(); opt.zero_grad()
    assert torch.allclose(model.weight, twin.weight, atol=1e-6)


# ---------------------------------------------------------------- state available at events
def test_gradients_only_in_training_and_fractional_progress():
    seen = []
    class Spy(Callback):
        def begin_batch(self): seen.append(('bb', self.in_train, self.n_epochs, self.n_iter, self.iter, self.iters))
        def after_pred(self): seen.append(('ap', self.in_train, torch.is_grad_enabled(), self.pred.requires_grad))
    with torch.no_grad():                               # training must still get gradients
        run = Runner(cbs=Spy())
        run.fit(2, tiny_learner([]))
    bb = [s for s in seen if s[0] == 'bb' and s[1]]
    assert [s[2] for s in bb] == [0., 0.5, 1., 1.5] and [s[3] for s in bb] == [0, 1, 2, 3]
    assert [(s[4], s[5]) for s in bb] == [(0, 2), (1, 2)] * 2
    assert {s[1:] for s in seen if s[0] == 'ap'} == {(True, True, True), (False, False, False)}
    assert run.n_epochs == 2. and run.n_iter == 4 and run.epoch == 1 and run.epochs == 2
    # and without an outer no_grad: validation is still gradient-free, training is not
    seen.clear()
    Runner(cbs=Spy()).fit(1, tiny_learner([]))
    assert [s[1:] for s in seen if s[0] == 'ap'] == [(True, True, True)] * 2 + [(False, False, False)]


def test_state_at_events():
    seen = {}
    class Spy(Callback):
        def begin_fit(self): seen['begin_fit'] = (self.epochs, self.learn is learn, self.n_epochs, self.n_iter)
        def begin_epoch(self): seen.setdefault('begin_epoch', []).append((self.epoch, self.in_train, self.dl is learn.data.train_dl))
        def begin_batch(self): seen.setdefault('begin_batch', []).append((self.pred, self.loss, len(self.xb), len(self.yb)))
        def after_loss(self): seen.setdefault('after_loss', []).append(self.loss.item())
        def begin_validate(self): seen.setdefault('begin_validate', []).append((self.in_train, self.dl is learn.data.valid_dl, self.iters))
    learn = tiny_learner([])
    Runner(cbs=Spy()).fit(2, learn)
    assert seen['begin_fit'] == (2, True, 0., 0)
    assert seen['begin_epoch'] == [(0, True, True), (1, True, True)]
    assert seen['begin_batch'] == [(None, None, 3, 3), (None, None, 3, 3), (None, None, 4, 4)] * 2
    assert len(seen['after_loss']) == 6
    assert seen['begin_validate'] == [(False, True, 1)] * 2


# ---------------------------------------------------------------- callbacks: order, names, attribute fall-through
def test_order_ties_keep_insertion_order():
    log = []
    def cb(tag, order):
        C = type(f'C{tag}', (Callback,), {'_order': order, 'begin_fit': lambda self: log.append(tag)})
        return C()
    run = Runner(cbs=[cb('a', 0), cb('b', 1), cb('c', 0), cb('d', -1)], cb_funcs=[lambda: cb('e', 0)])
    run.fit(0, tiny_learner([]))
    assert log == ['d', 'a', 'c', 'e', 'b']
    assert [type(c).__name__ for c in run.cbs] == ['Cd', 'TrainEvalCallback', 'Ca', 'Cc', 'Ce', 'Cb']


def test_order_change_is_picked_up_at_fit():
    log = []
    class A(Callback):
        def begin_fit(self): log.append('a')
    class B(Callback):
        def begin_fit(self): log.append('b')
    a, b = A(), B()
    run = Runner(cbs=[a, b])
    b._order = -1
    run.fit(0, tiny_learner([]))
    assert log == ['b', 'a']


@pytest.mark.parametrize('name, expected', [('LR_Find', 'lr_find'), ('LRFind', 'lr_find'), ('AvgStats', 'avg_stats'),
                                            ('TrainEval', 'train_eval'), ('ParamScheduler', 'param_scheduler'),
                                            ('Recorder', 'recorder'), ('HTTP__Thing', 'http_thing')])
def test_camel2snake(name, expected): assert camel2snake(name) == expected


@given(st.lists(st.from_regex(r'[A-Z][a-z]{0,5}|[A-Z]{2,4}', fullmatch=True), min_size=1, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4))
def test_camel2snake_never_doubles_underscores(words, seps):
    name = ''.join(w + ('_' if s else '') for w, s in zip(words, seps)).rstrip('_')
    out = camel2snake(name)
    assert '__' not in out and out == out.lower() and out.replace('_', '') == name.replace('_', '').lower()


def test_callback_names_and_runner_attributes():
    class LR_FindCallback(Callback): pass
    class Recorder(Callback): pass
    assert LR_FindCallback().name == 'lr_find' and Recorder().name == 'recorder' and Callback().name == 'callback'
    assert AvgStatsCallback([]).name == 'avg_stats' and TrainEvalCallback().name == 'train_eval'
    run = Runner(cbs=[LR_FindCallback()], cb_funcs=[partial(AvgStatsCallback, []), Recorder])
    assert isinstance(run.avg_stats, AvgStatsCallback) and isinstance(run.recorder, Recorder)
    assert isinstance(run.lr_find, LR_FindCallback) and isinstance(run.train_eval, TrainEvalCallback)
    run.remove_cbs(run.recorder)
    assert not hasattr(run, 'recorder') and all(not isinstance(c, Recorder) for c in run.cbs)


def test_bad_callbacks():
    with pytest.raises(TypeError, match='AvgStatsCallback'): Runner(cbs=[AvgStatsCallback])
    with pytest.raises(TypeError, match='Callback instance'): Runner(cbs=[object()])
    class Loss(Callback): pass
    class FitCallback(Callback): pass
    with pytest.raises(ValueError, match="'loss'"): Runner(cbs=Loss())
    with pytest.raises(ValueError, match="'fit'"): Runner(cb_funcs=FitCallback)


def _weights_and_opt(learn):
    "A copy of the learner's weights and of its optimizer's state and hyper-parameters."
    return copy.deepcopy((learn.model.state_dict(), learn.opt.opt.state_dict()))

def _same(a, b):
    (wa, oa), (wb, ob) = a, b
    return all(torch.equal(wa[k], wb[k]) for k in wa) and oa == ob

class Refit(Callback):
    def begin_fit(self): self.run.fit(1, self.run.learn)

class NaNOrder(Callback): _order = float('nan')

def _frozen(learn):
    for p in learn.model.parameters(): p.requires_grad_(False)
    return learn

def _xy_triples(learn):
    x, y = synth(6)
    learn.data.train_dl = Loader(x, y, 3)
    learn.data.train_dl.dataset = [(a, b, b) for a, b in zip(x, y)]
    return learn

MISUSE = {   # name: (what the user does to a fresh tiny learner and runner, exception, words in its message)
    'same callback twice': (lambda run, learn: run.add_cbs([run.train_eval]), ValueError, 'twice'),
    'second TrainEvalCallback': (lambda run, learn: run.add_cbs(TrainEvalCallback()), ValueError, 'twice'),
    'callback class': (lambda run, learn: run.add_cbs(AvgStatsCallback), TypeError, 'not a Callback instance'),
    'nan _order': (lambda run, learn: run.add_cbs(NaNOrder()), ValueError, '_order'),
    'fit inside fit': (lambda run, learn: (run.add_cbs(Refit()), run.fit(1, learn)), RuntimeError, 'inside fit'),
    'nothing to train': (lambda run, learn: run.fit(1, _frozen(learn)), ValueError, 'requires grad'),
    'samples not (x, y)': (lambda run, learn: run.fit(1, _xy_triples(learn)), TypeError, '(x, y)'),
}

@pytest.mark.parametrize('case', MISUSE)
def test_runner_misuse_is_refused_before_the_first_batch(case):
    "Each misuse is a clear error before any batch: no model call, no step, weights and optimizer untouched."
    f, exc, words = MISUSE[case]
    log = []
    learn, run = tiny_learner(log), Runner()
    before = _weights_and_opt(learn)
    with pytest.raises(exc, match=re.escape(words)): f(run, learn)
    assert 'model' not in log and 'step' not in log and _same(before, _weights_and_opt(learn))
    if case not in ('nothing to train', 'samples not (x, y)', 'fit inside fit'):
        run.fit(1, learn)                                   # the runner itself is still usable
        assert log.count('step') == 2


@pytest.mark.parametrize('loss_func, shape', [(lambda p, y: F.cross_entropy(p, y).item(), '()'),
                                              (partial(F.cross_entropy, reduction='none'), '(3,)')])
@pytest.mark.parametrize('with_stats', [False, True])
def test_a_loss_that_is_not_one_number_fails_at_the_first_batch_with_a_note(loss_func, shape, with_stats):
    "A float or per-sample loss: the first batch raises, a note names what loss_func returned, nothing is stepped."
    log = []
    learn = tiny_learner(log)
    learn.loss_func = loss_func
    before = _weights_and_opt(learn)
    run = Runner(cb_funcs=partial(AvgStatsCallback, [acc]) if with_stats else None)
    with pytest.raises(Exception) as info: run.fit(1, learn)
    assert any('0-d tensor' in n and shape in n for n in info.value.__notes__)
    assert log.count('model') == 1 and 'step' not in log and _same(before, _weights_and_opt(learn))


def test_the_fit_inside_fit_flag_is_cleared_by_any_ending():
    "After an error, a cancel or a normal end, the runner can fit again."
    learn = tiny_learner([])
    run = Runner(cbs=Tracer([], at='begin_epoch', action=raiser(KeyError('x'))))
    with pytest.raises(KeyError): run.fit(1, learn)
    run.remove_cbs(run.tracer)
    run.fit(1, learn)
    run.fit(1, learn)
    assert run.n_iter == 2


def test_unattached_callback_attribute_error_not_recursion():
    cb = AvgStatsCallback([])
    with pytest.raises(AttributeError, match='loss'): cb.loss
    with pytest.raises(AttributeError, match='whatever'): Callback().whatever
    assert copy.deepcopy(cb).name == 'avg_stats'       # copy/pickle probe dunder attributes: must not recurse either
    assert pickle.loads(pickle.dumps(Callback())).run is None


def test_attached_callback_reads_runner_but_not_private_or_events():
    run = Runner()
    cb = run.train_eval
    run.foo = 42
    assert cb.foo == 42 and cb.run is run
    with pytest.raises(AttributeError, match='_handlers'): cb._handlers
    with pytest.raises(AttributeError, match='begin_batch'): cb.begin_batch
    with pytest.raises(AttributeError, match='nope'): cb.nope


def test_learner_reachable_after_fit_and_show_training_loop(capsys):
    learn = tiny_learner([])
    run = Runner(cb_funcs=partial(AvgStatsCallback, []))
    run.fit(1, learn)
    assert run.learn is learn and run.model is learn.model and run.opt is learn.opt and run.data is learn.data
    capsys.readouterr()
    show_training_loop(run)
    out = capsys.readouterr().out.splitlines()
    evs = [l.split()[0] for l in out if l.split()[0] in EVENTS]
    assert [e for e in dict.fromkeys(evs)] == list(EVENTS[:9]) + ['after_cancel_epoch', 'begin_validate', 'after_epoch', 'after_cancel_train', 'after_fit']
    line = next(l for l in out if l.split()[0] == 'after_loss')
    assert 'AvgStatsCallback' in line
    assert next(l for l in out if l.split()[0] == 'after_step').split()[-1] == '-'


def test_the_runner_checks_hold_under_python_O():
    "The checks are exceptions, not asserts: `python -O` (which drops asserts) still refuses a callback added twice."
    import subprocess, sys
    code = ("from course_lib.callbacks import *\ncb = AvgStatsCallback([])\n"
            "try: Runner(cbs=[cb, cb])\nexcept ValueError as e: print('refused:', e)")
    out = subprocess.run([sys.executable, '-O', '-c', code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith('refused:') and 'twice' in out.stdout, out.stderr


# ---------------------------------------------------------------- data, model
def test_databunch_and_get_model():
    x, y = synth(30, n_in=5)
    tdl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    data = DataBunch(tdl, Loader(x, y, 10), c=3)
    assert data.train_ds is tdl.dataset and data.valid_ds is data.valid_dl.dataset
    model, opt = get_model(data, lr=0.25, nh=7)
    assert [tuple(p.shape) for p in model.parameters()] == [(7, 5), (7,), (3, 7), (3,)]
    assert opt.param_groups[0]['lr'] == 0.25
    with pytest.raises(TypeError, match=r'data\.c.*None'): get_model(DataBunch(tdl, tdl))
    with pytest.raises(ValueError, match=r'data\.c.*0'): get_model(DataBunch(tdl, tdl, c=0))
    with pytest.raises(AttributeError, match='dataset'): DataBunch([(x, y)], [(x, y)], c=3).train_ds


def test_minibatch_pipeline_works_with_runner():
    import course_lib.minibatch as mb
    x, y = synth(200, n_in=6)
    tds, vds = mb.Dataset(x[:150], y[:150]), mb.Dataset(x[150:], y[150:])
    data = DataBunch(*mb.get_dls(tds, vds, 16), c=3)
    torch.manual_seed(0)
    learn = Learner(*get_model(data, lr=0.3, nh=8), mb.cross_entropy, data)
    run = Runner(cb_funcs=partial(AvgStatsCallback, [mb.accuracy]))
    run.fit(2, learn)
    assert run.n_iter == 2 * len(data.train_dl) and run.avg_stats.valid_stats.count == 50


# ---------------------------------------------------------------- AvgStats
def fake_batch(xb, yb, pred, loss): return type('B', (), dict(xb=xb, yb=yb, pred=pred, loss=loss))()

def acc(out, yb): return (out.argmax(-1) == yb).float().mean()


def test_avg_stats_empty_before_first_batch():
    s = AvgStats([acc], in_train=True)
    assert s.avg_stats == [] and s.all_stats == [0., 0.] and s.count == 0
    assert 'no batches' in repr(s)
    cb = AvgStatsCallback([acc])
    assert cb.train_stats.avg_stats == [] and cb.valid_stats.avg_stats == []


def test_avg_stats_uneven_batches_by_hand():
    s = AvgStats([acc], in_train=False)
    pred = torch.tensor([[1., 0], [1, 0], [0, 1], [0, 1], [1, 0]])
    y = torch.tensor([0, 0, 0, 0, 1])
    losses = [2., 2., 5.]                              # batches of 2, 2 and 1 samples
    for (a, b), l in zip([(0, 2), (2, 4), (4, 5)], losses):
        s.accumulate(fake_batch(pred[a:b], y[a:b], pred[a:b], torch.tensor(l)))
    assert s.count == 5
    assert s.avg_stats[0] == pytest.approx((2 * 2 + 2 * 2 + 5 * 1) / 5)    # 2.6, not the unweighted 3.0
    assert s.avg_stats[1] == pytest.approx(2 / 5)                            # batch accuracies 1, 0, 0 -> 0.4, not 1/3
    assert 'valid: loss 2.6000, acc 0.4000' == repr(s)
    s.reset()
    assert s.avg_stats == []


@given(st.integers(1, 60), st.integers(1, 25), st.integers(0, 2**16))
def test_avg_stats_weighted_mean_equals_whole_set(n, bs, seed):
    g = torch.Generator().manual_seed(seed)
    pred, y = torch.randn(n, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (n,), generator=g)
    s = AvgStats([acc], in_train=True)
    for i in range(0, n, bs):
        p, t = pred[i:i + bs], y[i:i + bs]
        s.accumulate(fake_batch(p, t, p, F.cross_entropy(p, t)))
    assert s.count == n
    assert s.avg_stats[0] == pytest.approx(F.cross_entropy(pred, y).item(), rel=1e-9)
    assert s.avg_stats[1] == pytest.approx(acc(pred, y).item(), rel=1e-6)   # acc is a float32 mean


def test_avg_stats_callback_in_runner(capsys):
    x, y = synth(250)
    xv, yv = synth(70, seed=3)
    data = DataBunch(Loader(x, y, 32), Loader(xv, yv, 32), c=3)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    run = Runner(cb_funcs=partial(AvgStatsCallback, acc))
    run.fit(2, Learner(model, torch.optim.SGD(model.parameters(), lr=0.3), F.cross_entropy, data))
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith('epoch 0') and out[1].startswith('epoch 1')
    assert all('train: loss' in l and 'valid: loss' in l and 'acc' in l for l in out)
    st_ = run.avg_stats
    assert st_.train_stats.count == 250 and st_.valid_stats.count == 70
    with torch.no_grad(): vl, va = F.cross_entropy(model(xv), yv).item(), acc(model(xv), yv).item()
    assert st_.valid_stats.avg_stats == pytest.approx([vl, va], rel=1e-5)


def test_avg_stats_sums_are_value_times_batch_size_per_batch():
    "`sums` is a float64 tensor holding, per batch, metric(pred, yb) * bs added up: exact for mean metrics, and what it says for others."
    g = torch.Generator().manual_seed(0)
    pred, y = torch.randn(50, 5, generator=g), torch.randint(0, 5, (50,), generator=g)
    top = lambda p, t: p.max()                          # not a mean: its batch values are weighted by batch size all the same
    s = AvgStats([acc, top], in_train=True)
    expected = torch.zeros(3, dtype=torch.float64)
    for i in range(0, 50, 8):
        p, t = pred[i:i + 8], y[i:i + 8]
        loss = F.cross_entropy(p, t)
        s.accumulate(fake_batch(p, t, p, loss))
        expected += torch.tensor([loss.item(), acc(p, t).item(), p.max().item()], dtype=torch.float64) * len(t)
        assert s.count == min(i + 8, 50)
    assert s.sums.dtype == torch.float64 and s.sums.shape == (3,) and s.sums.device == pred.device
    assert torch.allclose(s.sums, expected, rtol=1e-6)
    assert s.all_stats == s.sums.tolist() and s.tot_loss == s.all_stats[0] and s.tot_mets == s.all_stats[1:]
    loss, a, _ = s.avg_stats
    assert loss == pytest.approx(F.cross_entropy(pred, y).item(), rel=1e-5)
    assert a == pytest.approx(acc(pred, y).item(), rel=1e-6)
    assert s.names == ['loss', 'acc', '<lambda>']


def test_avg_stats_accumulate_does_not_read_values_on_the_host(monkeypatch):
    "No per-batch `.item()`: accumulating only adds tensors; the floats are read once, by avg_stats."
    s = AvgStats([acc], in_train=True)
    pred, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    calls = []
    monkeypatch.setattr(torch.Tensor, 'item', lambda self: calls.append('item') or 0.)
    monkeypatch.setattr(torch.Tensor, 'tolist', lambda self: calls.append('tolist') or [0.])
    for i in (0, 3): s.accumulate(fake_batch(pred[i:i + 3], y[i:i + 3], pred[i:i + 3], F.cross_entropy(pred[i:i + 3], y[i:i + 3])))
    assert calls == []
    s.avg_stats
    assert calls == ['tolist']


@pytest.mark.parametrize('sizes', [(3, 3), (3, 1), (1,)])
def test_avg_stats_rejects_unreduced_loss_even_when_the_last_batch_is_short(sizes):
    "A per-sample loss (reduction='none') fails at the first batch, whatever the batch sizes (a 1-sample batch too)."
    s = AvgStats([], in_train=True)
    with pytest.raises(RuntimeError, match='shape'):
        for n in sizes: s.accumulate(fake_batch(torch.zeros(n, 2), torch.zeros(n), torch.zeros(n, 2), torch.ones(n)))
    assert s.count == 0 and s.sums.tolist() == [0.]
    def per_sample_acc(p, t): return (p.argmax(-1) == t).float()
    with pytest.raises(RuntimeError, match=r'equal size.*\[3\]'):
        AvgStats([per_sample_acc], True).accumulate(
            fake_batch(torch.zeros(3, 2), torch.zeros(3), torch.zeros(3, 2), torch.tensor(1.)))


def test_avg_stats_a_metric_that_is_not_a_function_fails_at_the_first_batch_and_counts_nothing():
    s = AvgStats([acc, 'accuracy'], True)
    with pytest.raises(TypeError, match="'str' object is not callable"):
        s.accumulate(fake_batch(torch.zeros(3, 2), torch.zeros(3), torch.zeros(3, 2), torch.tensor(1.)))
    assert s.count == 0


# ---------------------------------------------------------------- the contract other lessons build on
def fit_with_stats(epochs=2, start_epoch=0, metrics=(acc,), cbs=(), logger=None):
    x, y = synth(90)
    xv, yv = synth(30, seed=3)
    data = DataBunch(Loader(x, y, 32), Loader(xv, yv, 16), c=3)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    run = Runner(cbs=list(cbs), cb_funcs=partial(AvgStatsCallback, list(metrics)))
    if logger is not None: run.logger = logger
    run.fit(epochs, Learner(model, torch.optim.SGD(model.parameters(), lr=0.3), F.cross_entropy, data), start_epoch=start_epoch)
    return run


def test_avg_stats_callback_log_names_and_logger(capsys):
    lines, logs = [], []
    class Reader(Callback):
        _order = 1
        def after_epoch(self): logs.append(dict(self.run.avg_stats.log))
    run = fit_with_stats(cbs=[Reader()], logger=lines.append)
    assert capsys.readouterr().out == ''              # everything went to the logger
    cb = run.avg_stats
    assert cb.names == ['epoch', 'train_loss', 'train_acc', 'valid_loss', 'valid_acc']
    assert [list(l) for l in logs] == [cb.names] * 2 and [l['epoch'] for l in logs] == [0, 1]
    assert all(type(v) is float for l in logs for k, v in l.items() if k != 'epoch')
    assert logs[-1] == cb.log
    assert [cb.log['valid_loss'], cb.log['valid_acc']] == cb.valid_stats.avg_stats
    assert len(lines) == 2 and lines[1].startswith('epoch 1') and f"loss {cb.log['valid_loss']:.4f}" in lines[1]


def test_avg_stats_callback_show_false_writes_no_line_but_keeps_the_log():
    lines = []
    x, y = synth(90)
    data = DataBunch(Loader(x, y, 32), Loader(*synth(30, seed=3), 16), c=3)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    run = Runner(cb_funcs=partial(AvgStatsCallback, [acc], show=False))
    run.logger = lines.append
    run.fit(2, Learner(model, torch.optim.SGD(model.parameters(), lr=0.3), F.cross_entropy, data))
    assert lines == [] and run.avg_stats.show is False
    assert run.avg_stats.log == fit_with_stats(logger=lambda l: None).avg_stats.log     # the same numbers, just not written


def test_avg_stats_values_must_be_0d_tensors():
    "A metric returning a Python number or one value per sample fails in torch.stack, for any batch size."
    batch = lambda n: SimpleNamespace(xb=torch.zeros(n), yb=torch.zeros(n), pred=torch.zeros(n, 2), loss=torch.tensor(2.))
    with pytest.raises(TypeError, match='expected Tensor'): AvgStats([lambda p, y: 0.5], False).accumulate(batch(3))
    per_sample = AvgStats([lambda p, y: torch.ones(len(y))], False)
    for n in (1, 3):
        with pytest.raises(RuntimeError, match=r'equal size.*\[%d\]' % n): per_sample.accumulate(batch(n))
    assert per_sample.count == 0


def test_a_callback_before_avg_stats_can_rewrite_the_sums():
    "What an all-reduce does: a callback with _order < 0 changes sums/count in after_epoch, and the log shows it."
    class Double(Callback):
        _order = -1
        def after_epoch(self):
            for s in (self.run.avg_stats.train_stats, self.run.avg_stats.valid_stats):
                s.sums *= 2; s.count *= 2           # as if a second, identical rank had been added
    plain, doubled = fit_with_stats(epochs=1, logger=lambda l: None), fit_with_stats(epochs=1, cbs=[Double()], logger=lambda l: None)
    assert doubled.avg_stats.log == pytest.approx(plain.avg_stats.log)
    assert doubled.avg_stats.valid_stats.count == 60 and AvgStatsCallback._order == 0


def test_fit_start_epoch_resumes_progress_counters():
    seen = []
    class Spy(Callback):
        def begin_fit(self): seen.append(('fit', self.n_epochs, self.n_iter))
        def begin_epoch(self): seen.append(('epoch', self.epoch))
    run = fit_with_stats(epochs=4, start_epoch=2, cbs=[Spy()], logger=lambda l: None)
    assert seen == [('fit', 2., 6), ('epoch', 2), ('epoch', 3)]
    assert run.n_epochs == 4. and run.n_iter == 12 and run.start_epoch == 2
    assert fit_with_stats(epochs=2, start_epoch=2, cbs=[Spy()], logger=lambda l: None).n_iter == 6   # nothing left to run
    assert fit_with_stats(epochs=2, start_epoch=3, logger=lambda l: None).n_iter == 9   # past the end: nothing runs
    with pytest.raises(TypeError, match='integer'): fit_with_stats(epochs=2, start_epoch=1.0)


def test_callback_reads_runner_through_getattr():
    from fastcore.basics import GetAttr
    assert issubclass(Callback, GetAttr) and Callback._default == 'run'
    run = Runner(cb_funcs=partial(AvgStatsCallback, []))
    assert run.avg_stats.logger is print and run.logger is print


def test_learner_with_none_parts_and_remove_cbs_of_a_stranger():
    learn = tiny_learner([])
    learn.data = None
    with pytest.raises(AttributeError, match='train_dl'): Runner().fit(1, learn)
    run = Runner()
    stranger = AvgStatsCallback([])
    with pytest.raises(ValueError, match='not in list'): run.remove_cbs(stranger)
    assert len(run.cbs) == 1
