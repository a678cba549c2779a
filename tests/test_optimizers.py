"Tests of course_lib.optimizers: oracles against torch.optim in float64, LAMB's closed form, state, and the training loop."
import copy, os, subprocess, sys, textwrap
from functools import partial
from pathlib import Path

import pytest
import torch
from hypothesis import given, strategies as st
from torch import nn, optim
import torch.nn.functional as F

from course_lib.optimizers import *
from course_lib.callbacks import DataBunch, Learner, Runner, AvgStatsCallback
from course_lib.anneal import ParamScheduler, Recorder, sched_cos, sched_lin
from course_lib.minibatch import Dataset, DataLoader, Sampler, accuracy
from course_lib.early_stopping import lr_find, save_checkpoint, load_checkpoint
from course_lib.cnn import DeviceCallback

HERE = Path(__file__).parent
TORCH = dict(mom=0.9, sqr_mom=0.999, eps=1e-8)       # PyTorch's Adam defaults in our names


# ---------------------------------------------------------------- oracles: float64, 25 steps, to 1e-10

def trained(make_opt, steps=25, seed=0, groups=False):
    "The flattened parameters of a small float64 net after `steps` steps of `make_opt(params)` on 4 batches in turn."
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    x, y = torch.randn(4, 8, 5, dtype=torch.float64), torch.randn(4, 8, 3, dtype=torch.float64)
    params = ([{'params': model[0].parameters(), 'lr': 0.03}, {'params': model[2].parameters()}] if groups
              else model.parameters())
    opt = make_opt(params)
    for i in range(steps):
        F.mse_loss(model(x[i % 4]), y[i % 4]).backward()
        opt.step()
        opt.zero_grad()
    return torch.cat([p.detach().flatten() for p in model.parameters()])

START = trained(lambda ps: optim.SGD(ps, lr=0.), steps=0)

def assert_same(ours, ref, **kw):
    a, b = trained(ours, **kw), trained(ref, **kw)
    assert (a - START).abs().max() > 0.05          # the weights really moved
    torch.testing.assert_close(a, b, rtol=0, atol=1e-10)

adam_steps = lambda first: [first, AverageGrad(dampening=True), AverageSqrGrad(), StepCount(), adam_step]

ORACLES = {
    'sgd': (lambda ps: Optimizer(ps, sgd_step, lr=0.1), lambda ps: optim.SGD(ps, lr=0.1)),
    'sgd-l2': (lambda ps: Optimizer(ps, [l2_reg, sgd_step], lr=0.1, wd=0.05), lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.05)),
    'sgd_opt-wd': (lambda ps: sgd_opt(ps, lr=0.1, wd=0.05), lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.05)),
    'momentum': (lambda ps: StatefulOptimizer(ps, [AverageGrad(), momentum_step], lr=0.1, mom=0.9),
                 lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0)),
    'momentum-l2': (lambda ps: StatefulOptimizer(ps, [l2_reg, AverageGrad(), momentum_step], lr=0.1, mom=0.9, wd=0.05),
                    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05)),
    'adam': (lambda ps: adam_opt()(ps, lr=0.01, **TORCH), lambda ps: optim.Adam(ps, lr=0.01)),
    'adam-l2': (lambda ps: StatefulOptimizer(ps, adam_steps(l2_reg), lr=0.01, wd=0.1, **TORCH),
                lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1)),
    'adamw': (lambda ps: adam_opt()(ps, lr=0.01, wd=0.1, **TORCH), lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
    'rmsprop': (lambda ps: StatefulOptimizer(ps, [AverageSqrGrad(), rmsprop_step], lr=0.01),
                lambda ps: optim.RMSprop(ps, lr=0.01)),
}

@pytest.mark.parametrize('name', ORACLES)
def test_equals_torch(name):
    assert_same(*ORACLES[name])

@pytest.mark.parametrize('name', ['sgd-l2', 'momentum-l2', 'adamw'])
def test_equals_torch_with_param_groups(name):
    "Torch-style groups with their own learning rate: the group's value wins over the default, as in torch.optim."
    assert_same(*ORACLES[name], groups=True)

def test_equals_torch_foreach_and_single_tensor():
    for foreach in (True, False):
        assert_same(ORACLES['adamw'][0], lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1, foreach=foreach))

ORDER_2019 = {
    'momentum-l2': lambda ps: StatefulOptimizer(ps, [l2_reg, momentum_step], stats=AverageGrad(), lr=0.1, mom=0.9, wd=0.05),
    'adamw': lambda ps: StatefulOptimizer(ps, [adam_step, weight_decay], stats=[AverageGrad(True), AverageSqrGrad(), StepCount()],
                                          lr=0.01, wd=0.1, **TORCH)}

@pytest.mark.parametrize('name', ORDER_2019)
def test_2019_order_is_another_optimizer(name):
    "Stats before steppers (the 2019 design) cannot express torch's momentum + L2; decay after the step is not AdamW."
    assert (trained(ORDER_2019[name]) - trained(ORACLES[name][1])).abs().max() > 1e-6

@given(lr=st.floats(1e-4, 0.1), mom=st.floats(0., 0.99), sqr_mom=st.floats(0.5, 0.9999), eps=st.floats(1e-10, 1e-3),
       wd=st.floats(0., 0.2), seed=st.integers(0, 2**16))
def test_adamw_equals_torch_for_any_hyperparameters(lr, mom, sqr_mom, eps, wd, seed):
    ours = lambda ps: adam_opt()(ps, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd)
    ref = lambda ps: optim.AdamW(ps, lr=lr, betas=(mom, sqr_mom), eps=eps, weight_decay=wd)
    torch.testing.assert_close(trained(ours, steps=8, seed=seed), trained(ref, steps=8, seed=seed), rtol=0, atol=1e-10)

@given(lr=st.floats(1e-3, 0.5), mom=st.floats(0., 0.99), wd=st.floats(0., 0.2), seed=st.integers(0, 2**16))
def test_momentum_l2_equals_torch_for_any_hyperparameters(lr, mom, wd, seed):
    ours = lambda ps: StatefulOptimizer(ps, [l2_reg, AverageGrad(), momentum_step], lr=lr, mom=mom, wd=wd)
    ref = lambda ps: optim.SGD(ps, lr=lr, momentum=mom, weight_decay=wd)
    torch.testing.assert_close(trained(ours, steps=8, seed=seed), trained(ref, steps=8, seed=seed), rtol=0, atol=1e-10)


# ---------------------------------------------------------------- LAMB against its closed form

def lamb_by_hand(p, g, lr, wd, eps=1e-6):
    "One LAMB step from empty state: m = g, v = g² after debiasing; trust ratio |p|/|step|, at most 10, 1 for a zero norm."
    s = g / (g.abs() + eps) + wd * p
    r = (p.norm() / s.norm()).item() if p.norm() > 0 and s.norm() > 0 else 1.
    return p - lr * min(r, 10.) * s

@given(seed=st.integers(0, 2**16), lr=st.floats(1e-3, 0.5), wd=st.floats(0., 0.1), scale=st.sampled_from([0., 1e-3, 1., 30.]))
def test_lamb_first_step_is_its_closed_form(seed, lr, wd, scale):
    "Scales 0 (a zero tensor: ratio 1, so it moves), 1e-3 (ratio far below 1), 30 (ratio clipped at 10)."
    g = torch.Generator().manual_seed(seed)
    w, grad = torch.randn(5, 4, generator=g, dtype=torch.float64) * scale, torch.randn(5, 4, generator=g, dtype=torch.float64)
    p = w.clone().requires_grad_()
    p.grad = grad.clone()
    lamb([p], lr=lr, wd=wd).step()
    torch.testing.assert_close(p.detach(), lamb_by_hand(w, grad, lr, wd), rtol=0, atol=1e-12)

def test_lamb_ratio_is_per_tensor():
    "Each tensor moves by lr times its own norm (with wd=0 and a ratio under 10), whatever its gradient's size."
    torch.manual_seed(0)
    ps = [torch.randn(6, dtype=torch.float64, requires_grad=True), torch.randn(3, dtype=torch.float64, requires_grad=True)]
    before = [p.detach().clone() for p in ps]
    ps[0].grad, ps[1].grad = torch.randn(6, dtype=torch.float64) * 1e3, torch.randn(3, dtype=torch.float64) * 1e-3
    lamb(ps, lr=0.05).step()
    for p, b in zip(ps, before): assert ((p.detach() - b).norm() / b.norm()).item() == pytest.approx(0.05, rel=1e-9)


# ---------------------------------------------------------------- the optimizer's interface

def test_hypers_are_the_param_groups():
    p = nn.Parameter(torch.ones(3))
    opt = sgd_opt([p], lr=0.1)
    assert opt.hypers is opt.param_groups and opt.param_groups[0]['params'] == [p]
    opt.hypers[0]['lr'] = 0.5                         # set the course's way, read torch's way
    assert opt.param_groups[0]['lr'] == 0.5 and opt.param_groups[0]['wd'] == 0.   # wd from weight_decay's defaults

def test_param_groups_from_lists_and_dicts():
    a, b, c = (nn.Parameter(torch.ones(2)) for _ in range(3))
    assert [len(g['params']) for g in sgd_opt([[a, b], [c]], lr=0.1).param_groups] == [2, 1]
    opt = sgd_opt([{'params': [a], 'lr': 1.}, {'params': (q for q in [b, c])}], lr=0.1, wd=0.01)
    assert [(len(g['params']), g['lr'], g['wd']) for g in opt.param_groups] == [(1, 1., 0.01), (2, 0.1, 0.01)]

def test_a_parameter_in_two_groups_is_refused():
    a = nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match='listed twice'): sgd_opt([[a], [a]], lr=0.1)

def test_step_skips_parameters_without_gradients_and_zero_grad_clears():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = adam_opt()([a, b], lr=0.1)
    (a * 2).sum().backward()
    assert [p is a for p, _ in opt.grad_params()] == [True]
    opt.step()
    assert torch.equal(b.detach(), torch.ones(2)) and not torch.equal(a.detach(), torch.ones(2))
    assert list(opt.state) == [a] and opt.state[a]['step'] == 1
    opt.zero_grad(set_to_none=False)
    assert torch.equal(a.grad, torch.zeros(2))
    opt.zero_grad()
    assert a.grad is None

def test_l2_reg_leaves_the_gradient_alone():
    "The decay term goes to the later steps only: p.grad stays the loss's gradient (accumulating grads stays right)."
    p = nn.Parameter(torch.tensor([1., -2.]))
    opt = Optimizer([p], [l2_reg, sgd_step], lr=0.1, wd=0.5)
    p.grad = torch.tensor([0.3, 0.3])
    opt.step()
    assert torch.equal(p.grad, torch.tensor([0.3, 0.3]))
    torch.testing.assert_close(p.detach(), torch.tensor([1., -2.]) - 0.1 * (torch.tensor([0.3, 0.3]) + 0.5 * torch.tensor([1., -2.])))

def test_defaults_do_not_override_what_is_given():
    d = {'mom': 0.5}
    maybe_update([AverageGrad(), AverageSqrGrad(), adam_step], d, get_defaults)
    assert d == {'mom': 0.5, 'sqr_mom': 0.99, 'eps': 1e-5}

def test_debias_and_lin_comb():
    assert debias(0.9, 0.1, 1) == pytest.approx(0.1) and debias(0.9, 1., 2) == pytest.approx(1.9)
    assert debias(0.9, 0.1, 200) == pytest.approx(1.)
    assert lin_comb(10., 0., 0.9) == pytest.approx(9.)


# ---------------------------------------------------------------- state_dict

def run_steps(model, opt, n, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        F.mse_loss(model(torch.randn(8, 5, generator=g, dtype=torch.float64)), torch.zeros(8, 3, dtype=torch.float64)).backward()
        opt.step(); opt.zero_grad()

@pytest.mark.parametrize('make', [lambda ps: adam_opt()(ps, lr=0.01, wd=0.1), lambda ps: lamb(ps, lr=0.01),
                                  lambda ps: StatefulOptimizer(ps, [AverageGrad(), momentum_step], lr=0.1)],
                         ids=['adam', 'lamb', 'momentum'])
def test_state_dict_resumes_exactly_through_a_file(make, tmp_path):
    torch.manual_seed(0)
    m1 = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    o1 = make(m1.parameters())
    run_steps(m1, o1, 5, 0)
    torch.save({'model': m1.state_dict(), 'opt': o1.state_dict()}, tmp_path / 'ck.pt')
    run_steps(m1, o1, 5, 1)
    m2 = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    o2 = make(m2.parameters())
    o2.param_groups[0]['lr'] = 123.                    # overwritten by the load
    ck = torch.load(tmp_path / 'ck.pt', weights_only=True)
    m2.load_state_dict(ck['model']); o2.load_state_dict(ck['opt'])
    run_steps(m2, o2, 5, 1)
    for a, b in zip(m1.parameters(), m2.parameters()): assert torch.equal(a, b)

def test_state_dict_is_laid_out_like_torch():
    model = nn.Linear(3, 2)
    ours, ref = adam_opt()(model.parameters(), lr=0.01), optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    ours.step(); ref.step()
    so, sr = ours.state_dict(), ref.state_dict()
    assert so['state'].keys() == sr['state'].keys() == {0, 1}
    assert [g['params'] for g in so['param_groups']] == [g['params'] for g in sr['param_groups']]

def test_load_state_dict_is_a_copy_and_checks_the_groups():
    a = nn.Parameter(torch.ones(2))
    opt = adam_opt()([a], lr=0.1)
    a.grad = torch.ones(2); opt.step()
    sd = opt.state_dict()
    opt2 = adam_opt()([nn.Parameter(torch.ones(2))], lr=0.1)
    opt2.load_state_dict(sd)
    sd['state'][0]['grad_avg'].add_(1)
    assert not torch.equal(opt2.state_dict()['state'][0]['grad_avg'], sd['state'][0]['grad_avg'])
    two_groups = adam_opt()([[nn.Parameter(torch.ones(1))], [nn.Parameter(torch.ones(1))]], lr=0.1)
    with pytest.raises(ValueError, match='groups'): two_groups.load_state_dict(sd)


# ---------------------------------------------------------------- in the training loop, as torch.optim

def make_data(seed=0, n=128, n_valid=64, bs=16):
    g = torch.Generator().manual_seed(1234)
    x, xv = torch.randn(n, 10, generator=g), torch.randn(n_valid, 10, generator=g)
    w = torch.randn(10, 3, generator=g)
    tr, va = Dataset(x, (x @ w).argmax(1)), Dataset(xv, (xv @ w).argmax(1))
    return DataBunch(DataLoader(tr, Sampler(tr, bs, shuffle=True, generator=torch.Generator().manual_seed(seed))),
                     DataLoader(va, Sampler(va, bs)), c=3)

def make_learner(opt_func, seed=0, **kw):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3))
    return Learner(model, opt_func(model.parameters(), **kw), F.cross_entropy, make_data())

def weights(learn): return {k: v.clone() for k, v in learn.model.state_dict().items()}

def test_param_scheduler_and_recorder_as_with_torch_sgd():
    "The same schedule on sgd_opt and optim.SGD: the same learning rates recorded, the same weights."
    res = []
    for opt_func in (sgd_opt, optim.SGD):
        learn = make_learner(opt_func, lr=0.1)
        run = Runner(cbs=[ParamScheduler('lr', sched_cos(0.3, 0.01)), Recorder()])
        run.fit(2, learn)
        res.append((run.recorder.lrs, weights(learn)))
    assert res[0][0] == res[1][0] and len(res[0][0][0]) == 16
    for k in res[0][1]: torch.testing.assert_close(res[0][1][k], res[1][1][k], rtol=0, atol=1e-6)

def test_param_scheduler_sets_any_of_our_hyperparameters():
    learn = make_learner(adam_opt(), lr=0.01)
    seen = []
    class Spy(Recorder):
        def after_batch(self): seen.append(self.run.opt.hypers[0]['mom'])
    Runner(cbs=[ParamScheduler('mom', sched_lin(0.95, 0.85)), Spy()]).fit(1, learn)
    assert seen[0] == pytest.approx(0.95) and seen[-1] < seen[0]

def test_lr_find_restores_exactly():
    "After lr_find, training goes on exactly as if it had never run: weights, Adam state and hyper-parameters restored."
    a, b = make_learner(adam_opt(), lr=0.01, wd=0.01), make_learner(adam_opt(), lr=0.01, wd=0.01)
    for learn in (a, b): Runner().fit(1, learn)
    res = lr_find(a, max_iter=12, min_lr=1e-4, max_lr=1.)
    assert len(res.lrs) > 3
    assert a.opt.state_dict()['param_groups'] == b.opt.state_dict()['param_groups']
    for learn in (a, b): Runner().fit(2, learn, start_epoch=1)
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

@pytest.mark.parametrize('opt_func', [adam_opt(), lamb, sgd_opt], ids=['adam', 'lamb', 'sgd'])
def test_checkpoint_resumes_exactly(opt_func, tmp_path):
    a = make_learner(opt_func, lr=0.01)
    Runner().fit(3, a)
    b = make_learner(opt_func, lr=0.01)
    Runner().fit(2, b)
    save_checkpoint(b, tmp_path / 'ck.pth', epoch=2)
    c = make_learner(opt_func, seed=1, lr=0.01)
    Runner().fit(3, c, start_epoch=load_checkpoint(c, tmp_path / 'ck.pth'))
    wa, wc = weights(a), weights(c)
    assert all(torch.equal(wa[k], wc[k]) for k in wa)

def test_checkpoint_of_another_optimizer_is_refused(tmp_path):
    a = make_learner(adam_opt(), lr=0.01)
    Runner().fit(1, a)
    save_checkpoint(a, tmp_path / 'ck.pth', epoch=1)
    with pytest.raises(ValueError, match='ck.pth'): load_checkpoint(make_learner(sgd_opt, lr=0.1), tmp_path / 'ck.pth')

def test_device_callback_moves_the_state():
    learn = make_learner(adam_opt(), lr=0.01)
    Runner(cbs=[DeviceCallback('cpu')]).fit(1, learn)
    assert all(v.device.type == 'cpu' for s in learn.opt.state.values() for v in s.values() if torch.is_tensor(v))


# ---------------------------------------------------------------- DistributedCallback: 2 gloo ranks as one process

DIST_SCRIPT = '''
import os, sys, torch
from torch import nn
import torch.nn.functional as F
sys.path.insert(0, {tests!r})
from dist_train import make_data
from course_lib.callbacks import Learner, Runner, AvgStatsCallback
from course_lib.minibatch import accuracy
from course_lib.distributed import DistributedCallback, on_rank0
from course_lib.optimizers import adam_opt
torch.set_num_threads(1)
bs, out = int(sys.argv[1]), sys.argv[2]
data = make_data(64, 40, bs)
torch.manual_seed(1)
model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
learn = Learner(model, adam_opt()(model.parameters(), lr=0.01, wd=0.01), F.cross_entropy, data)
Runner(cbs=[AvgStatsCallback([accuracy]), DistributedCallback(timeout=60)]).fit(2, learn)
on_rank0(torch.save, {{'state': learn.model.state_dict(), 'opt': learn.opt.state_dict()}}, out)
'''

def test_distributed_two_ranks_equal_one_process(tmp_path):
    script = tmp_path / 'train.py'
    script.write_text(DIST_SCRIPT.format(tests=str(HERE)))
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'LOCAL_RANK')}
    one = subprocess.run([sys.executable, str(script), '16', str(tmp_path / 'one.pt')], capture_output=True, text=True,
                         timeout=120, env=env, cwd=tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    torchrun = str(Path(sys.executable).parent / 'torchrun')
    two = subprocess.run([torchrun, '--standalone', '--nproc_per_node', '2', str(script), '8', str(tmp_path / 'two.pt')],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = (torch.load(tmp_path / f, weights_only=True) for f in ('one.pt', 'two.pt'))
    for k in a['state']: torch.testing.assert_close(a['state'][k], b['state'][k], rtol=0, atol=1e-5)
    assert a['opt']['state'][0]['step'] == b['opt']['state'][0]['step'] == 8
