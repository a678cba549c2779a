"""The Learner of 09b: lesson 04's event contract traced event by event on it, the two 2019 bugs pinned, and every
callback of lessons 04-09 trained on it (against lesson 04's Runner where one can be the oracle)."""
import copy, os, subprocess, sys
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn, optim

import test_callbacks as tc
from course_lib.callbacks import (Callback, CancelTrainException, DataBunch, Runner, TrainEvalCallback,
                                  AvgStatsCallback as AvgStatsCallback04, Learner as Learner04)
from course_lib.minibatch import Dataset, DataLoader, Sampler, accuracy, get_dls
from course_lib.anneal import Recorder, ParamScheduler, sched_lin, sched_exp
from course_lib.early_stopping import (LR_Find, lr_find, EarlyStoppingCallback, SaveModelCallback, CheckpointCallback,
                                       save_checkpoint, load_checkpoint)
from course_lib.cnn import (DeviceCallback, BatchTransformXCallback, ActivationStats, Hooks, append_stats, view_tfm,
                            conv2d, get_cnn_model)
from course_lib.lsuv import get_batch
from course_lib.optimizers import sgd_opt, adam_opt, lamb, Optimizer
from course_lib.progress import AvgStatsCallback
from course_lib.learner import Learner, get_learner, param_getter

HERE = Path(__file__).parent


# ---------------------------------------------------------------- lesson 04's traces, run on the Learner
def learner_trace(epochs=2, **kw):
    "`test_callbacks.run_trace` on the Learner: its Tracer given to `fit`, the same model, data and logging optimizer."
    log = []
    base = tc.tiny_learner(log)
    learn = Learner(base.model, base.data, base.loss_func, opt_func=partial(tc.LogOpt, log=log), lr=0.1)
    tracer, err = tc.Tracer(log, **kw), None
    try: learn.fit(epochs, cbs=tracer)
    except BaseException as e: err = e
    assert tracer not in learn.cbs and not hasattr(learn, 'tracer')     # removed after the fit, however it ended
    return log, err

@pytest.fixture(autouse=True)
def traces_on_the_learner(monkeypatch): monkeypatch.setattr(tc, 'run_trace', learner_trace)

# every test of test_callbacks.py that checks a trace, event by event, runs here on the Learner
test_normal_trace_two_epochs = tc.test_normal_trace_two_epochs
test_zero_epochs = tc.test_zero_epochs
test_cancel_batch_in_training = tc.test_cancel_batch_in_training
test_cancel_batch_in_validation = tc.test_cancel_batch_in_validation
test_cancel_epoch_in_training_batch = tc.test_cancel_epoch_in_training_batch
test_cancel_epoch_in_begin_epoch_skips_training_pass_only = tc.test_cancel_epoch_in_begin_epoch_skips_training_pass_only
test_cancel_epoch_in_begin_validate = tc.test_cancel_epoch_in_begin_validate
test_cancel_epoch_in_validation = tc.test_cancel_epoch_in_validation
test_cancel_train = tc.test_cancel_train
test_cancel_train_in_validation_batch = tc.test_cancel_train_in_validation_batch
test_cancel_outside_its_scope_propagates = tc.test_cancel_outside_its_scope_propagates
test_ordinary_exception_reraised_unchanged = tc.test_ordinary_exception_reraised_unchanged
test_return_true_ends_the_batch_there = tc.test_return_true_ends_the_batch_there
test_return_true_at_epoch_level = tc.test_return_true_at_epoch_level
test_return_true_from_after_events_changes_nothing = tc.test_return_true_from_after_events_changes_nothing


def test_the_traces_run_on_the_learner():
    "The fixture is in force: run_trace is the Learner's here, and it produces lesson 04's trace."
    assert tc.run_trace is learner_trace and learner_trace()[0] == tc.NORMAL


# ---------------------------------------------------------------- the two 2019 bugs
def test_begin_epoch_fires_once_per_epoch():
    "2019's exported Learner fired begin_epoch twice per epoch (in do_begin_epoch and again in fit)."
    log, err = learner_trace(epochs=3)
    assert err is None and log.count('begin_epoch') == 3 and log.count('after_epoch') == 3


class Says(Callback):
    "Returns `answer` from `event`, and counts the calls."
    def __init__(self, event, answer): self.n, self.answer = 0, answer; setattr(self, event, self._say)
    def _say(self): self.n += 1; return self.answer

@pytest.mark.parametrize('first', [None, False, True])
def test_return_true_skips_whatever_the_other_callbacks_return(first):
    "2019's `res = cb(name) and res` (from False) made every answer False: a True never skipped anything."
    x, y = tc.synth(60)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    w0 = model.weight.detach().clone()
    data = DataBunch(tc.Loader(x, y, 20), tc.Loader(x, y, 60), c=3)
    a, b = Says('after_backward', first), Says('after_backward', True)
    val = Says('begin_validate', True)
    learn = Learner(model, data, F.cross_entropy, lr=0.5, cbs=[a, b, val], cb_funcs=partial(AvgStatsCallback04, []))
    learn.logger = lambda line: None
    learn.fit(2)
    assert torch.equal(model.weight, w0)                           # no step: the True was heard
    assert a.n == b.n == 6 and val.n == 2                          # every callback still called, each time
    assert learn.avg_stats.valid_stats.count == 0                  # validation skipped in both epochs


# ---------------------------------------------------------------- the Learner itself
def data_of(n=96, nv=32, bs=16, seed=0, shuffle_seed=0):
    x, y = tc.synth(n, seed=seed)
    xv, yv = tc.synth(nv, seed=seed + 1)
    return DataBunch(*get_dls(Dataset(x, y), Dataset(xv, yv), bs, generator=torch.Generator().manual_seed(shuffle_seed)),
                     c=3)

def mlp3(): return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

def make(opt_func=sgd_opt, lr=0.1, data=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    learn = Learner(mlp3(), data or data_of(), F.cross_entropy, opt_func=opt_func, lr=lr, **kwargs)
    learn.logger = lambda line: None
    return learn

def weights(m): return {k: v.detach().clone() for k, v in m.state_dict().items()}

def same(a, b):
    if isinstance(a, dict): return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)): return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return torch.equal(a, b) if torch.is_tensor(a) else a == b


@pytest.mark.parametrize('opt_func, lr', [(sgd_opt, 0.1), (partial(sgd_opt, wd=0.01), 0.1), (adam_opt(), 0.01), (lamb, 0.01),
                                          (partial(optim.SGD, momentum=0.9), 0.1), (optim.Adam, 0.01)])
def test_learner_trains_exactly_as_the_runner_does(opt_func, lr):
    "Any optimizer through opt_func (09's and torch.optim's): the same weights and statistics as lesson 04's Runner."
    learn = make(opt_func, lr, cb_funcs=partial(AvgStatsCallback04, accuracy))
    learn.fit(2)
    torch.manual_seed(0)
    model = mlp3()
    run = Runner(cb_funcs=partial(AvgStatsCallback04, accuracy))
    run.logger = lambda line: None
    run.fit(2, Learner04(model, opt_func(model.parameters(), lr=lr), F.cross_entropy, data_of()))
    assert same(weights(learn.model), weights(model)) and learn.avg_stats.log == run.avg_stats.log
    assert type(learn.opt) is type(run.opt) and learn.n_iter == run.n_iter == 12


def test_optimizer_is_made_when_first_needed_and_again_on_reset():
    learn = make(adam_opt(), 0.01)
    assert learn._opt is None
    opt = learn.opt                                              # read before any fit: made now, kept
    assert isinstance(opt, Optimizer) and learn.opt is opt and opt.param_groups[0]['lr'] == 0.01
    learn.fit(1)
    assert learn.opt is opt and len(opt.state) == 4
    learn.lr = 0.003
    learn.fit(0, reset_opt=True)
    assert learn.opt is not opt and learn.opt.state == {} and learn.opt.param_groups[0]['lr'] == 0.003
    mine = optim.SGD(learn.model.parameters(), lr=0.2)
    learn.opt = mine
    learn.fit(1)
    assert learn.opt is mine


def test_splitter_gives_parameter_groups():
    two = lambda m: [list(m[0].parameters()), list(m[2].parameters())]
    learn = make(splitter=two)
    assert len(learn.opt.param_groups) == 2 and param_getter(learn.model) is not None
    learn.fit(1, ParamScheduler('lr', [sched_lin(0.1, 0.2), sched_lin(0.3, 0.4)]))
    assert [pg['lr'] for pg in learn.opt.param_groups] == pytest.approx([0.2 - 0.1 / 6, 0.4 - 0.1 / 6])


def test_learner_is_its_own_runner_and_learner():
    learn = make(cb_funcs=partial(AvgStatsCallback04, []))
    assert learn.learn is learn and isinstance(learn, Runner) and isinstance(learn.cbs[0], TrainEvalCallback)
    seen = {}
    class Spy(Callback):
        def after_loss(self):
            seen['same'] = self.model is self.run.model is self.learn.model is learn.model and self.opt is learn.opt
    learn.fit(1, Spy())
    assert seen['same'] and learn.avg_stats.run is learn


def test_callbacks_of_fit_leave_after_an_error_and_the_others_stay():
    learn = make(cb_funcs=Recorder)
    boom = tc.Tracer([], at='after_step', action=tc.raiser(RuntimeError('boom')))
    with pytest.raises(RuntimeError, match='boom'): learn.fit(2, cbs=[boom, ParamScheduler('lr', sched_lin(0.1, 0.))])
    assert [type(c).__name__ for c in learn.cbs] == ['TrainEvalCallback', 'Recorder']
    assert not hasattr(learn, 'param_scheduler') and not learn._fitting
    learn.add_cb(Says('begin_fit', None))
    assert isinstance(learn.says, Says)


def test_fit_inside_fit_and_names_that_hide_the_learners_are_refused():
    class Refit(Callback):
        def begin_fit(self): self.run.fit(1)
    with pytest.raises(RuntimeError, match='inside fit'): make().fit(1, Refit())
    class Lr(Callback): pass
    class Splitter(Callback): pass
    for cb in (Lr(), Splitter()):
        with pytest.raises(ValueError, match='runner'): make(cbs=cb)


def test_lesson_04_arguments_are_refused_by_name():
    model = mlp3()
    with pytest.raises(TypeError, match="lesson 04"): Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, data_of())


def images(data, c_in=1):
    "`data` with its number of input channels, `c_in`, which the CNN builders size the first layer from."
    data.c_in = c_in
    return data

def test_get_learner_builds_the_course_cnn():
    x, y = tc.synth(64, n_in=64)
    data = images(DataBunch(*get_dls(Dataset(x, y % 3), Dataset(x[:16], y[:16] % 3), 16), c=3))
    cbfs = [partial(AvgStatsCallback04, accuracy), partial(BatchTransformXCallback, view_tfm(1, 8, 8))]
    learn = get_learner([4, 8], data, 0.1, conv2d, cb_funcs=cbfs, opt_func=adam_opt())
    learn.logger = lambda line: None
    assert learn.model[0][0].bias.abs().sum() == 0                   # init_cnn zeroed it
    learn.fit(1)
    assert isinstance(learn.opt, Optimizer) and learn.lr == 0.1 and learn.avg_stats.valid_stats.count == 16


# ---------------------------------------------------------------- every callback of 04-09 on the Learner
def test_avg_stats_callbacks_of_04_and_09c_give_the_same_numbers():
    lines = []
    a = make(cb_funcs=partial(AvgStatsCallback04, accuracy))
    b = make(cb_funcs=partial(AvgStatsCallback, accuracy))
    b.logger = lines.append
    a.fit(2); b.fit(2)
    assert a.avg_stats.log == b.avg_stats.log and b.avg_stats.valid_stats.count == 32
    assert len(lines) == 3 and lines[0].split() == b.avg_stats.header


def test_recorder_and_param_scheduler():
    learn = make(cb_funcs=Recorder)
    sched = sched_lin(0.2, 0.0)
    learn.fit(2, ParamScheduler('lr', sched))
    n = 2 * len(learn.data.train_dl)
    assert len(learn.recorder.losses) == n
    assert learn.recorder.lrs[0] == pytest.approx([sched(i / n) for i in range(n)])
    assert not hasattr(learn, 'param_scheduler')


def test_lr_find_restores_exactly_and_runs_the_learners_callbacks(tmp_path):
    "The search uses the learner's own callbacks (its batch transform); trackers and savers stand aside; all restored."
    x, y = tc.synth(160, n_in=64)
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(x[:32], y[:32]), 16, generator=torch.Generator().manual_seed(0)), c=3)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(36, 3))
    cbfs = [partial(AvgStatsCallback, accuracy), partial(BatchTransformXCallback, view_tfm(1, 8, 8)),
            partial(EarlyStoppingCallback, patience=1), partial(SaveModelCallback, path=tmp_path/'best', every_epoch=True),
            partial(CheckpointCallback, tmp_path/'ck.pth')]
    learn = Learner(model, data, F.cross_entropy, opt_func=adam_opt(), lr=1e-3, cb_funcs=cbfs)
    learn.logger = lambda line: None
    learn.fit(1)
    before, opt_before = weights(model), copy.deepcopy(learn.opt.state_dict())
    gen, rng = learn.data.train_dl.sampler.generator, torch.get_rng_state()
    gen_state = gen.get_state()
    for f in tmp_path.rglob('*'): f.unlink() if f.is_file() else None
    res = lr_find(learn, max_iter=25, min_lr=1e-5, max_lr=1e-2)      # 25 > 10 batches an epoch: three epochs
    assert len(res.lrs) == 25 and res.lrs[0] == pytest.approx(1e-5) and res.lrs[-1] == pytest.approx(1e-2)
    assert same(weights(model), before) and same(learn.opt.state_dict(), opt_before)
    assert torch.equal(gen.get_state(), gen_state) and torch.equal(torch.get_rng_state(), rng)
    assert [f for f in tmp_path.rglob('*') if f.is_file()] == []     # nothing saved from the search
    assert not hasattr(learn, 'lr_find') and learn.early_stopping.aside
    learn.fit(1)                                                      # afterwards they track and save again
    assert not learn.early_stopping.aside and (tmp_path/'ck.pth').is_file()


def test_lr_find_before_any_fit_and_lr_find_callback_in_fit():
    learn = make()
    res = lr_find(learn, max_iter=10)
    assert len(res.lrs) == 10 and learn.opt.param_groups[0]['lr'] == 0.1
    learn.fit(2, cbs=LR_Find(max_iter=8))
    assert learn.n_iter == 7                                         # stopped at its 8th batch


def test_early_stopping():
    "No later epoch beats the first by 10: with a patience of 1, the fit stops after epoch 1."
    learn = make(cb_funcs=[partial(AvgStatsCallback04, []), partial(EarlyStoppingCallback, patience=1, min_delta=10.)])
    learn.fit(20)
    assert learn.early_stopping.stopped_epoch == 1 == learn.epoch and learn.n_iter == 2 * len(learn.data.train_dl)


def test_save_model_callback_loads_the_best_back(tmp_path):
    best = []
    class Keep(Callback):
        _order = 3
        def after_epoch(self):
            if self.save_model.improved: best[:] = [weights(self.model)]
    learn = make(lr=0.5, cb_funcs=[partial(AvgStatsCallback04, []), partial(SaveModelCallback, path=tmp_path), Keep])
    learn.fit(4)
    assert (tmp_path/'model.pth').is_file() and same(weights(learn.model), best[0])


def test_checkpoints_resume_exactly(tmp_path):
    "2 epochs, a checkpoint, a new learner loading it and running epochs 2-3: the weights of 4 epochs without a break."
    straight = make(adam_opt(), 0.01)
    straight.fit(4)
    first = make(adam_opt(), 0.01, data=data_of(shuffle_seed=0), cb_funcs=partial(CheckpointCallback, tmp_path/'ck.pth'))
    first.fit(2)
    second = make(adam_opt(), 0.01, seed=5, data=data_of(shuffle_seed=9))        # other weights, other shuffle
    assert load_checkpoint(second, tmp_path/'ck.pth') == 2                      # its optimizer made to load into
    second.fit(4, start_epoch=2)
    assert same(weights(second.model), weights(straight.model)) and same(second.opt.state_dict(), straight.opt.state_dict())
    assert save_checkpoint(make(), tmp_path/'fresh.pth', 0).is_file()          # before any fit, too


def test_hooks_and_activation_stats():
    x, y = tc.synth(64, n_in=64)
    data = images(DataBunch(*get_dls(Dataset(x, y), Dataset(x[:16], y[:16]), 16), c=3))
    learn = get_learner([4, 8], data, 0.1, conv2d, cb_funcs=partial(BatchTransformXCallback, view_tfm(1, 8, 8)))
    acts = ActivationStats(list(learn.model)[:2])
    learn.fit(2, cbs=acts)
    assert acts.means.shape == (2, 8) and not hasattr(learn, 'activation_stats')
    with Hooks(list(learn.model)[:2], append_stats) as hooks: learn.fit(1)
    assert [len(h.stats[0]) for h in hooks] == [4, 4]
    assert all(len(m._forward_hooks) == 0 for m in learn.model)


def test_device_and_batch_transform_callbacks():
    x, y = tc.synth(48, n_in=64)
    data = images(DataBunch(*get_dls(Dataset(x, y), Dataset(x[:16], y[:16]), 16), c=3))
    seen = []
    class Spy(Callback):
        _order = 5
        def after_pred(self): seen.append((tuple(self.xb.shape), self.xb.device.type, next(self.model.parameters()).device.type))
    cbfs = [DeviceCallback, partial(BatchTransformXCallback, view_tfm(1, 8, 8)), Spy]
    learn = get_learner([4], data, 0.1, conv2d, cb_funcs=cbfs)
    learn.fit(1)
    dev = learn.device.device.type
    assert seen == [((16, 1, 8, 8), dev, dev)] * 4
    xb, yb = get_batch(learn.data.train_dl, learn)                  # 07a's get_batch on a Learner: its transforms ran
    assert xb.shape == (16, 1, 8, 8) and xb.device.type == dev


def test_distributed_two_ranks_equal_one_process(tmp_path):
    "DistributedCallback on the Learner: 2 gloo ranks at bs 8 end with one process's weights and statistics at bs 16."
    import dist_train
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'LOCAL_RANK')}
    cmd = [str(Path(sys.executable).parent/'torchrun'), '--standalone', '--nproc_per_node', '2', str(HERE/'dist_train.py'),
           '--learner', '--samples', '64', '--bs', '8', '--epochs', '2', '--out', str(tmp_path/'two.pt')]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    learn, run = dist_train.train(n=64, bs=16, epochs=2, learner=True)
    assert run is learn and isinstance(learn, Learner)
    two = torch.load(tmp_path/'two.pt', weights_only=True)
    assert two['world'] == 2 and two['type'] == 'Sequential'
    for k, v in learn.model.state_dict().items(): torch.testing.assert_close(two['state'][k], v, rtol=0, atol=1e-5)
    assert two['log'] == pytest.approx(learn.avg_stats.log, abs=1e-5)


# ---------------------------------------------------------------- the course's exp.nb_09b and exp.nb_09c
def test_course_modules_run_the_course_code():
    "The 2019 09b/09c cells (Imagenette aside) with the names of `from course_lib.exp.nb_09c import *`."
    import course_lib.exp.nb_09b as nb_09b, course_lib.progress as progress
    ns = {}
    exec('from course_lib.exp.nb_09c import *', ns)
    assert nb_09b.Learner is ns['Learner'] is Learner and nb_09b.AvgStatsCallback is AvgStatsCallback04
    assert ns['AvgStatsCallback'] is AvgStatsCallback and ns['ProgressCallback'] is progress.ProgressCallback
    x, y = tc.synth(64, n_in=64)
    ns['data'] = images(DataBunch(*get_dls(Dataset(x, y), Dataset(x[:16], y[:16]), 16), c=3))
    exec('''
cbfs = [partial(AvgStatsCallback, accuracy), CudaCallback, ProgressCallback, partial(BatchTransformXCallback, view_tfm(1, 8, 8))]
learn = get_learner([8, 8], data, 0.4, conv_layer, cb_funcs=cbfs + [Recorder])
learn.logger = lambda line: None
phases = combine_scheds([0.3, 0.7], cos_1cycle_anneal(0.2, 0.6, 0.2))
learn.fit(2, ParamScheduler('lr', phases))
''', ns)
    learn = ns['learn']
    assert len(learn.recorder.lrs[0]) == 8 and learn.recorder.lrs[0][0] == pytest.approx(0.2) and learn.avg_stats.log['epoch'] == 1


def test_callbacks_work_in_the_courses_own_loop():
    "The 2019 09b notebook writes its own loop: it calls `cb(event)` on each callback and sets no `start_epoch`."
    class CourseLoop:           # the course's calls, in its order, for one epoch without validation
        def __init__(self, cbs, model, data):
            self.cbs, self.model, self.data, self.opt = cbs, model, data, torch.optim.SGD(model.parameters(), lr=0.1)
            self.loss_func, self.logger = F.cross_entropy, (lambda line: None)
            for cb in cbs: cb.set_runner(self)
        def __call__(self, name): return any([cb(name) for cb in sorted(self.cbs, key=lambda c: c._order)])
        def fit(self):
            self.epochs, self.epoch, self.dl, self.in_train = 1, 0, self.data.train_dl, True
            self('begin_fit'); self('begin_epoch'); self.iters = len(self.dl)
            for self.iter, (self.xb, self.yb) in enumerate(self.dl):
                self('begin_batch'); self.pred = self.model(self.xb); self('after_pred')
                self.loss = self.loss_func(self.pred, self.yb); self('after_loss')
                self.loss.backward(); self('after_backward'); self.opt.step(); self('after_step'); self.opt.zero_grad()
                self('after_batch')
            self('after_epoch'); self('after_fit')
    data = data_of()
    loop = CourseLoop([TrainEvalCallback(), AvgStatsCallback04([]), Recorder(), ParamScheduler('lr', sched_lin(0.2, 0.))],
                      mlp3(), data)
    loop.fit()
    assert loop.n_iter == 6 and loop.n_epochs == 1. and loop.cbs[1].train_stats.count == 96
    assert loop.cbs[2].lrs[0] == pytest.approx([0.2 - 0.2 * i / 6 for i in range(6)])
    assert Says('after_pred', 1)('after_pred') is True and Callback()('begin_fit') is False
