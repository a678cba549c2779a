"Tests of course_lib.early_stopping: the LR finder restores exactly, early stopping on hand-made sequences, checkpoints."
import copy, math, os, random
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from torch import nn

from course_lib.callbacks import AvgStatsCallback, Callback, DataBunch, Learner, Runner
from course_lib.anneal import ParamScheduler, Recorder, sched_cos
from course_lib.minibatch import Dataset, accuracy, get_dls
from course_lib.early_stopping import *
from course_lib.early_stopping import _smooth, _steepest
import course_lib.early_stopping as es

F = nn.functional


# ---------------------------------------------------------------- set-up

def make_data(seed=0, n=256, n_valid=64, n_in=20, bs=32, generator=True):
    "A small classification task from a random linear teacher, in loaders shuffled by a seeded generator (or the global RNG)."
    g = torch.Generator().manual_seed(1234)
    x, xv = torch.randn(n, n_in, generator=g), torch.randn(n_valid, n_in, generator=g)
    w = torch.randn(n_in, 4, generator=g)
    gen = torch.Generator().manual_seed(seed) if generator else None
    return DataBunch(*get_dls(Dataset(x, (x @ w).argmax(1)), Dataset(xv, (xv @ w).argmax(1)), bs, generator=gen), c=4)


def make_learner(seed=0, opt='sgd', nh=16, dropout=0., generator=True, lr=0.1):
    "A fresh learner: an MLP initialised from `seed`, SGD with momentum or Adam."
    torch.manual_seed(seed)
    layers = [nn.Linear(20, nh), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(nh, 4)]
    model = nn.Sequential(*layers)
    o = (torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if opt == 'sgd' else
         torch.optim.Adam(model.parameters(), lr=lr / 100) if opt == 'adam' else torch.optim.SGD(model.parameters(), lr=lr))
    return Learner(model, o, F.cross_entropy, make_data(seed, generator=generator))


def quiet(*cbs, metrics=True):
    "A Runner with `cbs` (and an AvgStatsCallback with accuracy), whose log lines are kept in `run.lines`."
    run = Runner(cbs=list(cbs), cb_funcs=[partial(AvgStatsCallback, accuracy)] if metrics else None)
    run.lines = []
    run.logger = run.lines.append
    return run


def same_state(a, b):
    "Whether two nested state dicts are equal: tensors bit for bit (same dtype), everything else by ==."
    if isinstance(a, torch.Tensor): return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, np.ndarray): return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict): return isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)): return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    return a == b


def snapshot(learn):
    return copy.deepcopy(learn.model.state_dict()), copy.deepcopy(learn.opt.state_dict())


# ---------------------------------------------------------------- LR_Find / lr_find

@pytest.mark.parametrize('opt', ['sgd', 'adam'])
def test_lr_find_restores_model_and_optimizer_bit_for_bit(opt):
    learn = make_learner(opt=opt)
    quiet(metrics=False).fit(1, learn)                  # so that there are momentum buffers / Adam moments and steps
    model0, opt0 = snapshot(learn)
    assert opt0['state'], "the optimizer should have state to restore"
    res = lr_find(learn, max_iter=20)
    assert len(res.lrs) >= 2
    assert same_state(learn.model.state_dict(), model0)
    assert same_state(learn.opt.state_dict(), opt0)


def test_lr_find_restores_an_empty_optimizer_state_and_hyper_parameters():
    learn = make_learner()
    learn.opt.param_groups[0]['lr'] = 0.0375
    model0, opt0 = snapshot(learn)
    lr_find(learn, max_iter=10)
    assert not learn.opt.state_dict()['state']
    assert learn.opt.param_groups[0]['lr'] == 0.0375
    assert same_state(learn.model.state_dict(), model0) and same_state(learn.opt.state_dict(), opt0)


@pytest.mark.parametrize('generator', [True, False])
def test_training_after_lr_find_is_training_without_it(generator):
    "lr_find also restores the random states, so the next run shuffles (and drops out) as it would have."
    def train(with_finder):
        learn = make_learner(dropout=0.2, generator=generator)
        torch.manual_seed(7)
        if with_finder: lr_find(learn, max_iter=12)
        quiet(metrics=False).fit(2, learn)
        return learn.model.state_dict()
    assert same_state(train(True), train(False))


def test_lr_find_restores_when_interrupted():
    learn = make_learner()
    model0, opt0 = snapshot(learn)
    calls = []
    def loss_func(pred, yb):
        calls.append(1)
        if len(calls) == 5: raise KeyboardInterrupt
        return F.cross_entropy(pred, yb)
    learn.loss_func = loss_func
    with pytest.raises(KeyboardInterrupt): lr_find(learn)
    assert same_state(learn.model.state_dict(), model0) and same_state(learn.opt.state_dict(), opt0)


def test_lr_find_schedule_is_geometric_from_min_to_max():
    learn = make_learner(opt='plain')
    res = lr_find(learn, max_iter=30, min_lr=1e-5, max_lr=1e-2)   # small rates: the loss cannot explode, all 30 batches run
    assert len(res.lrs) == len(res.losses) == 30
    np.testing.assert_allclose(res.lrs, np.geomspace(1e-5, 1e-2, 30), rtol=1e-12)
    assert res.lrs[0] == 1e-5


def test_lr_find_runs_over_several_epochs_without_validating():
    learn = make_learner(opt='plain')            # 8 batches per epoch: 30 batches need 4 epochs
    seen = []
    learn.loss_func = lambda p, y: (seen.append(torch.is_grad_enabled()), F.cross_entropy(p, y))[1]
    res = lr_find(learn, max_iter=30, max_lr=1e-2)
    assert len(res.lrs) == 30 and len(seen) == 30 and all(seen)   # every loss computed was a training loss


def _loss_then(k, value):
    "A loss function that returns `value` from its `k`-th call (0-based) on."
    calls = []
    def f(pred, yb):
        calls.append(1)
        loss = F.cross_entropy(pred, yb)
        return loss * 0 + value if len(calls) > k else loss
    return f


def test_lr_find_stops_on_nan():
    learn = make_learner()
    learn.loss_func = _loss_then(6, float('nan'))
    res = lr_find(learn, max_iter=50, max_lr=1e-3)
    assert len(res.losses) == 7 and math.isnan(res.losses[-1])


def test_lr_find_stops_once_the_loss_is_above_10x_its_minimum():
    learn = make_learner()
    learn.loss_func = _loss_then(9, 100.)
    res = lr_find(learn, max_iter=50, max_lr=1e-3)
    assert len(res.losses) == 10 and res.losses[-1] == 100.
    assert all(l < 10 for l in res.losses[:-1])


def test_course_usage_with_recorder():
    "As in the lesson: Runner(cb_funcs=[LR_Find, Recorder]), then recorder.plot."
    run = Runner(cb_funcs=[partial(LR_Find, max_iter=20, max_lr=1e-2), Recorder])
    run.fit(3, make_learner(opt='plain'))
    assert len(run.lr_find.lrs) == 20
    assert len(run.recorder.losses) == 19            # the batch that stops the fit ends before `after_batch`
    assert run.recorder.plot(skip_last=5).axes[0].get_xscale() == 'log'


def test_steepest_rule_finds_the_steepest_descent():
    lrs = np.geomspace(1e-6, 10, 200)
    x = np.log(lrs / 1e-2)
    losses = 2 - np.tanh(x) + np.exp(x - 4)            # falls fastest at lr = 1e-2, then rises
    s = _steepest(list(lrs), list(losses), beta=0.)
    assert abs(math.log10(s) - (-2)) < 0.05
    s_smoothed = _steepest(list(lrs), list(losses))    # smoothing delays the curve a little, but not by a decade
    assert abs(math.log10(s_smoothed) - (-2)) < 0.5


def test_steepest_is_nan_when_the_loss_never_falls():
    lrs = list(np.geomspace(1e-3, 1, 20))
    assert math.isnan(_steepest(lrs, list(np.linspace(1, 3, 20))))
    assert math.isnan(_steepest(lrs[:1], [float('nan')]))


def test_smooth_is_an_unbiased_ema():
    np.testing.assert_allclose(_smooth([2., 2., 2.]), [2., 2., 2.])
    out = _smooth([1., 3.], beta=0.5)
    assert out[1] == pytest.approx((0.25 * 1 + 0.5 * 3) / 0.75)


def test_result_unpacks_and_plots():
    lrs, losses, sugg = res = lr_find(make_learner(opt='plain'), max_iter=20)
    assert isinstance(sugg, float) and 'suggestion' in repr(res)
    fig = res.plot()
    assert fig.axes[0].get_xscale() == 'log'
    assert len(fig.axes[0].lines[0].get_xdata()) == len(lrs) - 5


# ---------------------------------------------------------------- early stopping on hand-made sequences

class FakeStats(Callback):
    "Stands in for AvgStatsCallback: after epoch e, `log` holds values[e] under `name`."
    _order, name = 0, 'avg_stats'
    def __init__(self, values, key='valid_loss'):
        self.values, self.key = list(values), key
        self.names = ['epoch', 'train_loss', 'valid_loss', 'valid_accuracy']
    def after_epoch(self): self.log = {'epoch': self.epoch, 'valid_loss': 0., 'valid_accuracy': 0., self.key: self.values[self.epoch]}


def stopped_at(values, key='valid_loss', **kw):
    "Epoch at which EarlyStoppingCallback(**kw) stops a run reporting `values`, or None."
    es_cb = EarlyStoppingCallback(key, **kw)
    run = Runner(cbs=[FakeStats(values, key), es_cb])
    run.logger = lambda line: None
    run.fit(len(values), make_learner(opt='plain'))
    return es_cb.stopped_epoch


def reference_stop(values, patience, min_delta=0., lower=True):
    "The oracle: epoch at which a patience counter on `values` reaches `patience`."
    best, wait = None, 0
    for e, v in enumerate(values):
        better = not math.isnan(v) and (best is None or ((v < best) if lower else (v > best)) and abs(v - best) > min_delta)
        if better: best, wait = v, 0
        else:
            wait += 1
            if wait >= patience: return e
    return None


@pytest.mark.parametrize('values,patience,expected', [
    ([1., .9, .8, .7], 1, None),               # always improving
    ([1., .9, .9, .9, .9], 2, 3),              # plateau: equal is not better
    ([1., .8, .85, .79, .81, .82], 2, 5),      # noise: a new best resets the count
    ([1., float('nan'), float('nan')], 2, 2),  # NaN never improves
    ([float('nan'), 1., 2.], 1, 0),            # a NaN first value is no improvement either
    ([1., 1.1], 0, 1),                         # patience 0 stops at the first non-improvement, like 1
])
def test_early_stopping_on_losses(values, patience, expected):
    assert stopped_at(values, patience=patience) == expected == reference_stop(values, patience)


def test_metrics_are_maximised():
    acc = [.5, .6, .55, .58, .61]
    assert stopped_at(acc, key='valid_accuracy', patience=2) == 3
    assert stopped_at(acc, key='valid_accuracy', patience=3) is None


def test_min_delta_and_explicit_comp():
    vals = [1., .99, .99, .97]
    assert stopped_at(vals, patience=2, min_delta=0.015) == 2 == reference_stop(vals, 2, 0.015)
    assert stopped_at(vals, patience=2, min_delta=0.) is None
    assert stopped_at([1., 2., 3., 2.], patience=1, comp=lambda a, b: a > b) == 3   # a loss to maximise, on request


@given(st.lists(st.one_of(st.floats(0, 3, allow_nan=False), st.just(float('nan'))), min_size=1, max_size=12),
       st.integers(0, 4), st.sampled_from([0., 0.05]))
def test_early_stopping_matches_the_reference(values, patience, min_delta):
    assert stopped_at(values, patience=patience, min_delta=min_delta) == reference_stop(values, patience, min_delta)


def test_early_stopping_logs_why():
    run = Runner(cbs=[FakeStats([1., 2., 3.]), EarlyStoppingCallback(patience=2)])
    lines = []
    run.logger = lines.append
    run.fit(3, make_learner(opt='plain'))
    assert lines == ["early stopping after epoch 2: valid_loss has not improved on 1 (epoch 0) for 2 epoch(s)"]


def test_real_avg_stats_and_unknown_monitor():
    run = quiet(EarlyStoppingCallback('valid_accuracy', patience=1))
    run.fit(3, make_learner())
    assert run.early_stopping.best is not None
    with pytest.raises(ValueError, match=r"valid_acc.*valid_accuracy"):
        quiet(EarlyStoppingCallback('valid_acc')).fit(1, make_learner())
    with pytest.raises(ValueError, match='AvgStatsCallback'):
        Runner(cbs=EarlyStoppingCallback()).fit(1, make_learner())


# ---------------------------------------------------------------- SaveModelCallback

class KeepWeights(Callback):
    _order = 5
    def begin_fit(self): self.weights = []
    def after_epoch(self): self.weights.append(copy.deepcopy(self.model.state_dict()))


def test_save_model_keeps_and_reloads_the_best(tmp_path):
    keep, save = KeepWeights(), SaveModelCallback(path=tmp_path)
    run = Runner(cbs=[FakeStats([1., .5, .7, .9]), save, keep])
    run.fit(4, make_learner())
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.pth']
    assert save.best_epoch == 1
    assert same_state(run.learn.model.state_dict(), keep.weights[1])
    assert not same_state(keep.weights[3], keep.weights[1])


def test_save_model_every_epoch(tmp_path):
    keep, save = KeepWeights(), SaveModelCallback('m', every_epoch=True, path=tmp_path, load_best=False)
    run = Runner(cbs=[FakeStats([1., .5, .7]), save, keep])
    run.fit(3, make_learner())
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m_0.pth', 'm_1.pth', 'm_2.pth']
    assert same_state(torch.load(tmp_path/'m_1.pth', weights_only=True), keep.weights[1])
    assert same_state(run.learn.model.state_dict(), keep.weights[2])    # load_best=False: the last weights stay


# ---------------------------------------------------------------- checkpoints

class Crash(Callback):
    _order = 9
    def __init__(self, at): self.at = at
    def after_epoch(self):
        if self.epoch == self.at: raise es.CancelTrainException()


def resumable(seed=0, generator=True, dropout=0.):
    learn = make_learner(seed, generator=generator, dropout=dropout)
    return learn, [partial(ParamScheduler, 'lr', sched_cos(0.2, 0.002)), partial(AvgStatsCallback, accuracy)]


def fit_quiet(learn, cb_funcs, epochs, cbs=(), start_epoch=0):
    run = Runner(cbs=list(cbs), cb_funcs=cb_funcs)
    run.logger = lambda line: None
    run.fit(epochs, learn, start_epoch=start_epoch)
    return run


@pytest.mark.parametrize('generator,dropout', [(True, 0.), (False, 0.3)])
def test_resume_matches_straight_run(tmp_path, generator, dropout):
    "Momentum SGD, cosine lr, shuffled batches: 2 epochs, checkpoint, fresh objects, 2 more == 4 straight."
    learn, cbs = resumable(generator=generator, dropout=dropout)
    torch.manual_seed(99)
    fit_quiet(learn, cbs, 4)
    straight = learn.model.state_dict()

    learn, cbs = resumable(generator=generator, dropout=dropout)
    torch.manual_seed(99)
    fit_quiet(learn, cbs, 4, cbs=[CheckpointCallback(tmp_path/'ck.pth'), Crash(1)])
    half = copy.deepcopy(learn.model.state_dict())
    torch.manual_seed(12345); random.seed(5); np.random.seed(5)     # the crash: every random state moves on

    learn, cbs = resumable(seed=3, generator=generator, dropout=dropout)   # fresh objects from other seeds
    start = load_checkpoint(learn, tmp_path/'ck.pth')
    assert start == 2 and same_state(learn.model.state_dict(), half)
    fit_quiet(learn, cbs, 4, start_epoch=start)
    resumed = learn.model.state_dict()
    assert max((straight[k] - resumed[k]).abs().max().item() for k in straight) <= 1e-6


def test_resume_needs_the_random_states(tmp_path):
    "The control: the same resume with the loader's generator state dropped is not equal, so the test above can fail."
    learn, cbs = resumable()
    fit_quiet(learn, cbs, 4)
    straight = learn.model.state_dict()
    learn, cbs = resumable()
    fit_quiet(learn, cbs, 4, cbs=[CheckpointCallback(tmp_path/'ck.pth'), Crash(1)])
    learn, cbs = resumable(seed=3)
    start = load_checkpoint(learn, tmp_path/'ck.pth')
    learn.data.train_dl.sampler.generator.manual_seed(42)
    fit_quiet(learn, cbs, 4, start_epoch=start)
    assert max((straight[k] - learn.model.state_dict()[k]).abs().max().item() for k in straight) > 1e-4


def test_checkpoint_round_trip_and_rng_states(tmp_path):
    learn = make_learner()
    quiet().fit(1, learn)
    path = save_checkpoint(learn, tmp_path/'sub'/'ck.pth', 1)       # the folder is created
    assert path.exists()
    draws = (torch.rand(3), random.random(), np.random.rand(), torch.randperm(10, generator=learn.data.train_dl.sampler.generator))
    other = make_learner(seed=5)
    assert load_checkpoint(other, path) == 1
    assert same_state(other.model.state_dict(), learn.model.state_dict())
    assert same_state(other.opt.state_dict(), learn.opt.state_dict())
    again = (torch.rand(3), random.random(), np.random.rand(), torch.randperm(10, generator=other.data.train_dl.sampler.generator))
    assert same_state(list(again), list(draws))


def test_interrupted_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    learn = make_learner()
    path = save_checkpoint(learn, tmp_path/'ck.pth', 3)
    good = path.read_bytes()
    quiet().fit(1, learn)
    def broken_save(obj, f, *a, **kw):
        f.write(b'half a checkpoint')
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(KeyboardInterrupt): save_checkpoint(learn, path, 4)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ['ck.pth']            # no temporary file left behind
    assert load_checkpoint(make_learner(), path) == 3


def _rng_now(learn):
    return (torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy(), learn.data.train_dl.sampler.generator.get_state())


def _bad_files(tmp_path):
    good = save_checkpoint(make_learner(), tmp_path/'good.pth', 2)
    files = {'empty': b'', 'garbage': bytes(range(256)) * 4, 'truncated': good.read_bytes()[:len(good.read_bytes()) // 2]}
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path/f'{name}.pth'
        paths[name].write_bytes(data)
    paths['other_model'] = save_checkpoint(make_learner(nh=32), tmp_path/'other_model.pth', 2)
    paths['adam'] = save_checkpoint(make_learner(opt='adam'), tmp_path/'adam.pth', 2)
    paths['no_generator'] = save_checkpoint(make_learner(generator=False), tmp_path/'no_generator.pth', 2)
    torch.save({'weights': torch.zeros(3)}, tmp_path/'not_ours.pth'); paths['not_ours'] = tmp_path/'not_ours.pth'
    return paths


def test_bad_checkpoints_are_refused_and_leave_the_learner_untouched(tmp_path):
    learn = make_learner()
    quiet().fit(1, learn)
    for name, path in _bad_files(tmp_path).items():
        model0, opt0, rng0 = *snapshot(learn), _rng_now(learn)
        with pytest.raises(ValueError) as info: load_checkpoint(learn, path)
        assert path.name in str(info.value), (name, str(info.value))
        assert same_state(learn.model.state_dict(), model0) and same_state(learn.opt.state_dict(), opt0), name
        assert same_state(list(_rng_now(learn)), list(rng0)), name


_executed = []
def _mark(): _executed.append(1)

class Evil:
    def __reduce__(self): return (_mark, ())


def test_load_never_unpickles_code(tmp_path):
    path = tmp_path/'evil.pth'
    torch.save({'format': es._FORMAT, 'x': Evil()}, path)
    with pytest.raises(ValueError, match='evil.pth'): load_checkpoint(make_learner(), path)
    assert not _executed


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError): load_checkpoint(make_learner(), tmp_path/'nope.pth')


# ---------------------------------------------------------------- set_seed

def test_set_seed_makes_runs_repeat():
    def draws(seed):
        set_seed(seed)
        return torch.rand(3), random.random(), np.random.rand()
    a, b, c = draws(3), draws(3), draws(4)
    assert same_state(list(a), list(b)) and not same_state(list(a), list(c))


def test_set_seed_deterministic_switch():
    try:
        set_seed(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        set_seed(0)
    assert not torch.are_deterministic_algorithms_enabled()


def test_two_trainings_with_the_same_seed_give_the_same_losses():
    def losses():
        set_seed(11)
        learn = make_learner(dropout=0.3, generator=False)
        run = Runner(cb_funcs=Recorder)
        run.fit(1, learn)
        return torch.stack(run.recorder.losses)
    assert torch.equal(losses(), losses())


# ---------------------------------------------------------------- min_delta is strict

def test_an_improvement_of_exactly_min_delta_is_not_one():
    "1.0 -> 0.5 improves by exactly min_delta=0.5: not more than it, so the patience count starts (`>=` would not)."
    assert stopped_at([1., .5, .5], patience=1, min_delta=.5) == 1 == reference_stop([1., .5, .5], 1, .5)
    assert stopped_at([1., .5001, .5001], patience=1, min_delta=.5) == 1
    assert stopped_at([1., .4999, .4999], patience=1, min_delta=.5) == 2


# ---------------------------------------------------------------- SaveModelCallback never loads worse weights

class KeepEarly(Callback):
    "Copies the weights after each epoch, before SaveModelCallback (_order 2) can fail there."
    _order = 1
    def begin_fit(self): self.weights = []
    def after_epoch(self): self.weights.append(copy.deepcopy(self.model.state_dict()))


class Meddle(Callback):
    "After epoch `at`, does `f(save_callback)` (as another program would, between the save and the end of the fit)."
    _order = 5
    def __init__(self, at, f): self.at, self.f = at, f
    def after_epoch(self):
        if self.epoch == self.at: self.f(self.run.save_model)


def _fit_saving(tmp_path, values, *cbs, **kw):
    keep, save = KeepEarly(), SaveModelCallback(path=tmp_path, **kw)
    run = Runner(cbs=[FakeStats(values), keep, save, *cbs])
    run.fit(len(values), make_learner())
    return run, keep, save


def test_save_model_every_epoch_loads_the_best(tmp_path):
    run, keep, save = _fit_saving(tmp_path, [1., .5, .7], every_epoch=True)
    assert save.best_epoch == 1 and same_state(run.learn.model.state_dict(), keep.weights[1])


@pytest.mark.parametrize('change', ['other_run', 'truncated', 'hostile', 'deleted'])
def test_save_model_refuses_a_file_changed_after_it_wrote_it(tmp_path, change):
    "Best epoch 1; after the last epoch something else changes model.pth. The learner keeps its last weights."
    def meddle(save):
        f = save.file()
        if change == 'other_run': es._save_atomic(dict(make_learner(seed=9).model.state_dict()), f)   # same size
        if change == 'truncated': f.write_bytes(f.read_bytes()[:100])
        if change == 'hostile': torch.save({'x': Evil()}, f)
        if change == 'deleted': f.unlink()
    with pytest.warns(UserWarning, match="kept the learner's weights, not those in .*model.pth") as w:
        run, keep, save = _fit_saving(tmp_path, [1., .5, .7], Meddle(2, meddle))
    assert same_state(run.learn.model.state_dict(), keep.weights[2])
    assert not _executed
    if change == 'other_run': assert 'bytes changed' in str(w[0].message)


def test_save_model_keeps_the_weights_when_the_best_save_failed(tmp_path, monkeypatch):
    "Epoch 1 is the best, but its save fails (a full disk): the file holds epoch 0, which must not be loaded."
    real, calls = es.atomic_write, []
    def failing(path):
        calls.append(path)
        if len(calls) == 2: raise OSError(28, 'No space left on device')
        return real(path)
    monkeypatch.setattr(es, 'atomic_write', failing)
    keep = KeepEarly()
    run = Runner(cbs=[FakeStats([1., .5, .7]), keep, SaveModelCallback(path=tmp_path)])
    with pytest.warns(UserWarning, match='model.pth.*not saved in this fit'), pytest.raises(OSError, match='No space'):
        run.fit(3, make_learner())
    assert same_state(run.learn.model.state_dict(), keep.weights[1])
    assert not same_state(torch.load(tmp_path/'model.pth', weights_only=True), keep.weights[1])


def test_save_model_reused_does_not_load_an_earlier_fits_file(tmp_path, recwarn):
    "A second fit that fails in begin_fit must not load the first fit's best file, and adds no note to the error."
    class Boom(Callback):
        _order = -1
        def __init__(self): self.armed = False
        def begin_fit(self):
            if self.armed: raise RuntimeError('my own mistake')
    boom, save = Boom(), SaveModelCallback(path=tmp_path)
    run = Runner(cbs=[FakeStats([1., .5, .7]), boom, save])
    run.fit(3, make_learner())
    quiet(metrics=False).fit(1, run.learn)              # train on: the weights now differ from the saved best
    trained = copy.deepcopy(run.learn.model.state_dict())
    boom.armed = True
    with pytest.raises(RuntimeError, match='my own mistake') as info: run.fit(3, run.learn)
    assert not getattr(info.value, '__notes__', None)
    assert same_state(run.learn.model.state_dict(), trained) and not recwarn.list


def test_save_model_files_are_the_same_bytes_wherever_the_weights_live(tmp_path):
    "Weights are saved from CPU copies, so every process of a distributed run computes the same digest."
    learn = make_learner()
    cpu = lambda m: {k: v.cpu() for k, v in m.state_dict().items()}
    size, digest = es._save_atomic(cpu(learn.model), tmp_path/'a.pth')
    assert (size, digest) == es._save_atomic(cpu(copy.deepcopy(learn.model)), tmp_path/'b.pth')
    assert (tmp_path/'a.pth').read_bytes() == (tmp_path/'b.pth').read_bytes()


# ---------------------------------------------------------------- the writer hook

def test_save_gate_decides_who_writes_and_when_to_wait(tmp_path):
    events = []
    try:
        es.save_gate.use(is_writer=lambda: False, wait=lambda: events.append('wait'))
        run = Runner(cbs=[FakeStats([1., .5]), SaveModelCallback(path=tmp_path)])
        with pytest.warns(UserWarning, match='model.pth'):            # nobody wrote the file this reader waits for
            run.fit(2, make_learner())
        assert events == ['wait'] and not list(tmp_path.iterdir())
        assert save_checkpoint(make_learner(), tmp_path/'ck.pth', 1) and not list(tmp_path.iterdir())
    finally:
        es.save_gate.use()
    assert es.save_gate.is_writer() and es.save_gate.wait() is None
    save_checkpoint(make_learner(), tmp_path/'ck.pth', 1)
    assert (tmp_path/'ck.pth').exists()


# ---------------------------------------------------------------- callbacks that never started

@pytest.mark.parametrize('make', [lambda p: SaveModelCallback(path=p), lambda p: EarlyStoppingCallback(),
                                  lambda p: CheckpointCallback(p/'ck.pth'), lambda p: LR_Find()])
def test_a_failing_begin_fit_leaves_only_the_users_error(tmp_path, make, recwarn):
    class Boom(Callback):
        _order = -1
        def begin_fit(self): raise RuntimeError('my own mistake')
    learn = make_learner()
    weights = copy.deepcopy(learn.model.state_dict())
    run = Runner(cbs=[Boom(), make(tmp_path)], cb_funcs=partial(AvgStatsCallback, accuracy))
    with pytest.raises(RuntimeError, match='my own mistake') as info: run.fit(2, learn)
    assert not getattr(info.value, '__notes__', None) and not recwarn.list
    assert same_state(learn.model.state_dict(), weights) and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- bounded memory

def _checkpoint_with(tmp_path, change):
    learn = make_learner()
    path = save_checkpoint(learn, tmp_path/'ck.pth', 1)
    torch.save(change(torch.load(path, weights_only=True)), path)
    return learn, path


@pytest.mark.parametrize('where,change', [
    ('/rng/torch', lambda ck: {**ck, 'rng': {**ck['rng'], 'torch': torch.zeros(1, dtype=torch.uint8).expand(2**33)}}),
    ('/rng/numpy/1', lambda ck: {**ck, 'rng': {**ck['rng'], 'numpy': (*ck['rng']['numpy'][:1], torch.zeros(1).expand(2**33),
                                                                     *ck['rng']['numpy'][2:])}}),
    ('/model/0.weight', lambda ck: {**ck, 'model': {**ck['model'], '0.weight': torch.zeros(1).expand(2**20, 2**13)}}),
])
def test_a_small_file_cannot_make_the_loader_allocate_much(tmp_path, where, change):
    "A view that repeats one element 2**33 times is a few KB on disk; it is refused for its shape, before any copy."
    learn, path = _checkpoint_with(tmp_path, change)
    assert path.stat().st_size < 64_000
    model0, opt0 = snapshot(learn)
    with pytest.raises(ValueError, match=where): load_checkpoint(learn, path)
    assert same_state(learn.model.state_dict(), model0) and same_state(learn.opt.state_dict(), opt0)


def test_optimizer_buffers_must_have_their_parameters_shape(tmp_path):
    learn = make_learner()
    quiet(metrics=False).fit(1, learn)
    def change(ck):
        ck['opt']['state'][0] = {'momentum_buffer': torch.zeros(1).expand(2**33)}
        return ck
    _, path = _checkpoint_with(tmp_path, change)
    with pytest.raises(ValueError, match=r"buffers \['0/momentum_buffer'\]"): load_checkpoint(learn, path)


# ---------------------------------------------------------------- ~ means home

def test_tilde_means_the_home_folder(tmp_path, monkeypatch):
    home, work = tmp_path/'home', tmp_path/'work'
    work.mkdir()
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.chdir(work)
    assert save_checkpoint(make_learner(), '~/ck/a.pth', 1) == home/'ck'/'a.pth' and (home/'ck'/'a.pth').exists()
    assert load_checkpoint(make_learner(), '~/ck/a.pth') == 1
    run = Runner(cbs=[FakeStats([1., .5]), SaveModelCallback(path='~/models'), CheckpointCallback('~/ck/b.pth')])
    run.fit(2, make_learner())
    assert (home/'models'/'model.pth').exists() and (home/'ck'/'b.pth').exists()
    assert not list(work.iterdir())


def test_interrupted_disk_write_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    "The write itself fails (fsync on a full disk): the old file stays whole and no temporary file is left."
    learn = make_learner()
    path = save_checkpoint(learn, tmp_path/'ck.pth', 3)
    good = path.read_bytes()
    def full(fd): raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', full)
    with pytest.raises(OSError): save_checkpoint(learn, path, 4)
    monkeypatch.undo()
    assert path.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ['ck.pth']


def course_learner(seed=0, lr=0.1):
    "make_learner's model and data, with lesson 03's Optimizer (plain SGD whose only state is its lr)."
    from course_lib.minibatch import Optimizer
    learn = make_learner(seed)
    learn.opt = Optimizer(learn.model.parameters(), lr)
    return learn


def test_course_optimizer_lr_find_restores_exactly():
    "Lesson 03's Optimizer: lr_find puts back the model, the lr it changed, and trains on as it would have."
    learn = course_learner(lr=0.0375)
    model0, opt0 = snapshot(learn)
    res = lr_find(learn, max_iter=10)
    assert len(res.lrs) == 10 and res.lrs[-1] > 1
    assert learn.opt.param_groups[0]['lr'] == 0.0375 and same_state(learn.opt.state_dict(), opt0)
    assert same_state(learn.model.state_dict(), model0)


def test_course_optimizer_resumes_exactly(tmp_path):
    "Lesson 03's Optimizer at lr 0.05: 1 epoch, checkpoint, a fresh learner at lr 0.5 loads it, 1 more == 2 straight."
    def fresh(lr): return course_learner(lr=lr), [partial(AvgStatsCallback, accuracy)]
    learn, cbs = fresh(0.05)
    torch.manual_seed(99)
    fit_quiet(learn, cbs, 2)
    straight = learn.model.state_dict()

    learn, cbs = fresh(0.05)
    torch.manual_seed(99)
    fit_quiet(learn, cbs, 2, cbs=[CheckpointCallback(tmp_path/'ck.pth'), Crash(0)])
    torch.manual_seed(12345)
    learn, cbs = fresh(0.5)                                 # the lr too must come from the checkpoint
    assert load_checkpoint(learn, tmp_path/'ck.pth') == 1 and learn.opt.param_groups[0]['lr'] == 0.05
    fit_quiet(learn, cbs, 2, start_epoch=1)
    assert same_state(learn.model.state_dict(), straight)
