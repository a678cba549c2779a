"""Tests of course_lib.fp16: 16-bit models with float32 batch norm, master weights, loss scaling that follows
torch.amp.GradScaler exactly, skipped steps that change nothing, and a fit that gives the model and optimizer back."""
import copy
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn, optim

from course_lib.fp16 import (low_dtype, bn_types, model_to_half, float_bn_hooks, get_master,
                             to_master_grads, to_model_params, grad_overflow, MixedPrecision, NativeMixedPrecision)
from course_lib.fp16 import test_overflow as overflows          # imported under another name: pytest would collect it
from course_lib.anneal import Recorder
from course_lib.batchnorm import BatchNorm, RunningBatchNorm
from course_lib.callbacks import Callback, CancelBatchException, DataBunch, Learner, Runner
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.optimizers import adam_opt, sgd_opt

LOW = (torch.float16, torch.bfloat16)

def toy_data(n_batches=6, bs=8, n_in=6, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    ds = Dataset(torch.randn(n_batches * bs, n_in, generator=g), torch.randint(0, c, (n_batches * bs,), generator=g))
    return DataBunch(DataLoader(ds, Sampler(ds, bs, shuffle=True, generator=torch.Generator().manual_seed(seed))),
                     DataLoader(ds, Sampler(ds, 4 * bs)), c=c)

def bn_mlp(seed=0, norm=nn.BatchNorm1d, n_in=6):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, 10), nn.ReLU(), norm(10), nn.Linear(10, 3))

class Flat2d(nn.Module):
    "The course's BatchNorm wants images: a view to (bs, c, 1, 1) and back."
    def __init__(self, bn): super().__init__(); self.bn = bn
    def forward(self, x): return self.bn(x[:, :, None, None])[:, :, 0, 0]

def course_bn(nf): return Flat2d(BatchNorm(nf))

OPTS = {'torch SGD momentum': partial(optim.SGD, lr=0.1, momentum=0.9), 'torch Adam': partial(optim.Adam, lr=1e-2),
        'course sgd': partial(sgd_opt, lr=0.1), 'course adam': partial(adam_opt(), lr=1e-2)}

def fit(model, cbs, epochs=1, opt=None, data=None):
    opt = opt or optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    learn = Learner(model, opt, F.cross_entropy, data or toy_data())
    run = Runner(cbs=cbs)
    run.logger = lambda line: None
    run.fit(epochs, learn)
    return learn, run

class ScriptedOverflow(Callback):
    "Puts an inf (or a NaN) into a gradient at the training steps where `script` is true, before MixedPrecision looks."
    _order = 50
    def __init__(self, script, value=float('inf')): self.script, self.value, self.i = list(script), value, 0
    def after_backward(self):
        if self.script[self.i]: next(self.model.parameters()).grad.view(-1)[0] = self.value
        self.i += 1

class Trace(Callback):
    "Calls `f(run)` after every training batch and keeps what it returns."
    _order = 100
    def __init__(self, f): self.f, self.out = f, []
    def after_batch(self):
        if self.in_train: self.out.append(self.f(self))

# ---- choosing the 16-bit type, converting the model

def test_low_dtype_and_no_gpu_at_import():
    assert low_dtype('cuda') is torch.float16 and low_dtype(torch.device('cuda', 1)) is torch.float16
    assert low_dtype('cpu') is torch.bfloat16 and low_dtype('mps') is torch.bfloat16
    assert not torch.cuda.is_initialized()

@pytest.mark.parametrize('dt', LOW)
def test_model_to_half_keeps_batch_norm_float(dt):
    "The course's check (Linear, BatchNorm1d, Linear), and the course's own batch norms kept in float32 too."
    model = model_to_half(nn.Sequential(nn.Linear(10, 30), nn.BatchNorm1d(30), nn.Linear(30, 2)), dt)
    for layer, t in zip(model, [dt, torch.float32, dt]):
        assert layer.weight.dtype == t and layer.bias.dtype == t
    mixed = model_to_half(nn.Sequential(nn.Conv2d(1, 4, 3), BatchNorm(4), RunningBatchNorm(4), nn.BatchNorm2d(4)), dt)
    assert mixed[0].weight.dtype == dt
    assert all(t.dtype == torch.float32 for m in mixed[1:] for t in [*m.parameters(), *m.buffers()] if t.is_floating_point())
    assert model_to_half(mixed, dt) is mixed

def test_model_to_half_leaves_batch_norm_weights_exact():
    "The course's model.half() then bn.float() rounded the batch norm's weights on the way: 1.001 came back as 1."
    bn = nn.BatchNorm1d(3)
    with torch.no_grad(): bn.weight.fill_(1.001); bn.running_mean.fill_(0.1234567)
    model = model_to_half(nn.Sequential(nn.Linear(2, 3), bn), torch.float16)
    assert (bn.weight == 1.001).all() and (bn.running_mean == 0.1234567).all()

def test_float_bn_hooks_let_the_course_batch_norm_run_in_16_bits():
    block = model_to_half(nn.Sequential(nn.Conv2d(1, 4, 3), BatchNorm(4), nn.Conv2d(4, 2, 3)), torch.bfloat16)
    x = torch.randn(8, 1, 10, 10, dtype=torch.bfloat16)
    with pytest.raises(RuntimeError): block(x)             # float32 running averages, bfloat16 statistics
    hooks = float_bn_hooks(block, torch.bfloat16)
    seen = []
    h = block[1].register_forward_hook(lambda m, a, o: seen.append((a[0].dtype, o.dtype)))
    assert block(x).dtype == torch.bfloat16
    h.remove()
    for hk in hooks: hk.remove()
    assert seen[0][0] == torch.float32                     # the statistics are computed in float32
    assert not block[1]._forward_hooks and not block[1]._forward_pre_hooks

# ---- master weights

def test_flat_master_has_the_courses_length_and_per_tensor_masters_equal_the_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 30), nn.Linear(30, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    _, flat = get_master(opt, flat_master=True)
    assert len(flat) == 1 and len(flat[0]) == 1 and len(flat[0][0]) == 392 == 10*30 + 30 + 30*2 + 2
    assert torch.equal(flat[0][0], torch.cat([p.detach().flatten() for p in model.parameters()]))
    model_pgs, master_pgs = get_master(opt)
    for p, m in zip(model_pgs[0], master_pgs[0]):
        assert p is not m and m.dtype == torch.float32 and m.requires_grad and m.is_leaf and torch.equal(p, m)
        assert m.data_ptr() != p.data_ptr()

def test_get_master_keeps_groups_and_leaves_out_frozen_parameters():
    model = bn_mlp()
    model[0].bias.requires_grad_(False)
    opt = optim.SGD([{'params': model[0].parameters()}, {'params': model[2:].parameters(), 'lr': 1.}], lr=0.1)
    model_pgs, master_pgs = get_master(opt)
    assert [len(g) for g in model_pgs] == [len(g) for g in master_pgs] == [1, 4]
    assert model_pgs[0][0] is model[0].weight
    _, flat = get_master(opt, flat_master=True)
    assert [len(g[0]) for g in flat] == [6 * 10, 10 + 10 + 30 + 3]

@settings(max_examples=15, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=4),
       flat=st.booleans(), dt=st.sampled_from(LOW + (torch.float32,)), seed=st.integers(0, 2**16))
def test_grads_go_up_and_weights_come_down_exactly(shapes, flat, dt, seed):
    "to_master_grads copies the gradients to float32 exactly; to_model_params gives each model tensor its master, rounded."
    g = torch.Generator().manual_seed(seed)
    ps = [nn.Parameter(torch.randn(*s, generator=g)) for s in shapes]
    opt = optim.SGD(ps, lr=1.)
    model_pgs, master_pgs = get_master(opt, flat)
    for p in ps:
        p.data = p.data.to(dt)
        p.grad = torch.randn(p.shape, generator=g).to(dt)
    to_master_grads(model_pgs, master_pgs, flat)
    grads = torch.cat([m.grad.flatten() for m in master_pgs[0]])
    assert grads.dtype == torch.float32 and torch.equal(grads, torch.cat([p.grad.float().flatten() for p in ps]))
    for m in master_pgs[0]: m.data += torch.rand(m.shape, generator=g)     # a step
    to_model_params(model_pgs, master_pgs, flat)
    new = torch.cat([m.detach().flatten() for m in master_pgs[0]])
    assert torch.equal(torch.cat([p.detach().float().flatten() for p in ps]), new.to(dt).float())

def test_overflow_tests():
    x = torch.randn(20, 30, dtype=torch.bfloat16)
    assert not overflows(x)
    for bad in (float('inf'), float('-inf'), float('nan')):
        y = x.clone(); y[3, 4] = bad
        assert overflows(y)
    ps = [nn.Parameter(torch.zeros(3)) for _ in range(3)]
    assert not grad_overflow([ps])                          # no gradients at all
    ps[1].grad = torch.ones(3); ps[2].grad = torch.tensor([1., float('nan'), 2.])
    assert grad_overflow([ps[:1], ps[1:]]) and not grad_overflow([ps[:2]])

# ---- the callback in training

@pytest.mark.parametrize('flat', [False, True])
def test_master_and_model_agree_after_every_step(flat):
    mp = MixedPrecision(flat_master=flat)
    def check(cb):
        masters = [m.detach().flatten() for ms in mp.master_pgs for m in ms]
        model = [p.detach().float().flatten() for ps in mp.model_pgs for p in ps]
        rounded = [p.detach().flatten() for ps in mp.model_pgs for p in ps]
        masters = torch.cat(masters)
        assert torch.equal(torch.cat(rounded).float(), torch.cat([masters[i:i + len(t)].to(r.dtype).float()
                           for i, t, r in zip(_offsets(model), model, rounded)]))
        return {p.dtype for p in cb.model.parameters()}, masters.dtype
    learn, run = fit(bn_mlp(), [mp, Trace(check)])
    trace = run.trace.out
    assert len(trace) == 6 and trace[0] == ({torch.bfloat16, torch.float32}, torch.float32)

def _offsets(ts):
    out, i = [], 0
    for t in ts: out.append(i); i += len(t)
    return out

@pytest.mark.parametrize('make', [MixedPrecision, partial(MixedPrecision, 512, True, False), NativeMixedPrecision],
                         ids=['dynamic', 'static flat', 'native'])
def test_training_follows_float32_training(make):
    "Oracle: three steps in 16 bits land where three float32 steps do, to bfloat16's precision (the scale is undone)."
    ref, _ = fit(bn_mlp(), [], data=toy_data(n_batches=3))
    ours, _ = fit(bn_mlp(), [make()], data=toy_data(n_batches=3))
    for a, b, s0 in zip(ours.model.parameters(), ref.model.parameters(), bn_mlp().parameters()):
        assert (b - s0).abs().max() > 0.01                       # the weights moved
        assert torch.allclose(a, b, atol=0.02, rtol=0.02), (a - b).abs().max()

@pytest.mark.parametrize('dynamic', [True, False])
@pytest.mark.parametrize('value', [float('inf'), float('nan')])
def test_a_skipped_step_changes_nothing(dynamic, value):
    script = [0, 0, 1, 0, 0, 0]
    mp = MixedPrecision(dynamic=dynamic, loss_scale=64.)
    snap = lambda cb: (copy.deepcopy([p.detach() for p in cb.model.parameters()]),
                       copy.deepcopy([m.detach() for ms in mp.master_pgs for m in ms]),
                       copy.deepcopy({id(k): v for k, v in cb.opt.state.items()}), mp.loss_scale)
    learn, run = fit(bn_mlp(), [mp, ScriptedOverflow(script, value), Trace(snap)])
    (p1, m1, s1, sc1), (p2, m2, s2, sc2), (p3, _, _, _) = run.trace.out[1:4]
    assert all(torch.equal(a, b) for a, b in zip(p1, p2)) and all(torch.equal(a, b) for a, b in zip(m1, m2))
    assert s1.keys() == s2.keys() and all(torch.equal(s1[k]['momentum_buffer'], s2[k]['momentum_buffer']) for k in s1)
    assert sc2 == (sc1 / 2 if dynamic else sc1)
    assert not all(torch.equal(a, b) for a, b in zip(p2, p3))       # the next step does move the weights
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())

def _scales(cb, script, get_scale, n_in=6):
    torch.manual_seed(0)
    model = nn.Linear(n_in, 3)
    learn, run = fit(model, [ScriptedOverflow(script), cb, Trace(lambda c: get_scale())],
                     data=toy_data(n_batches=len(script)), opt=optim.SGD(model.parameters(), lr=0.01))
    return run.trace.out

@settings(max_examples=10, deadline=None)
@given(lead=st.integers(1, 4), rest=st.lists(st.booleans(), min_size=4, max_size=24), wait=st.integers(1, 3),
       factor=st.sampled_from([2., 4.]))
def test_dynamic_scale_follows_gradscaler(lead, rest, wait, factor):
    """Under the same scripted overflows, the same scale as torch.amp.GradScaler at every step, until GradScaler passes
    our ceiling (it has none): there ours stays at max_loss_scale."""
    script, top = [1] * lead + [int(r) for r in rest], 2.**20
    mp = MixedPrecision(max_loss_scale=top, div_factor=factor, scale_wait=wait)
    native = NativeMixedPrecision(init_scale=top, growth_factor=factor, backoff_factor=1 / factor, growth_interval=wait)
    ours = _scales(mp, script, lambda: mp.loss_scale)
    theirs = _scales(native, script, lambda: native.scaler.get_scale())
    n = next((i for i, s in enumerate(theirs) if s > top), len(theirs))
    assert ours[:n] == theirs[:n]
    if n < len(theirs): assert ours[n] == top
    assert len(ours) == len(script)

def test_static_scale_and_the_ceiling():
    mp = MixedPrecision(loss_scale=8., dynamic=False)
    assert _scales(mp, [1, 0, 0, 1, 0], lambda: mp.loss_scale) == [8.] * 5
    mp = MixedPrecision(max_loss_scale=4., scale_wait=1)
    assert _scales(mp, [0, 1, 0, 0, 0], lambda: mp.loss_scale) == [4., 2., 4., 4., 4.]

def test_the_loss_after_the_backward_pass_is_the_true_loss():
    "A Recorder records the loss, not the loss times the scale (the course's recorded the scaled loss)."
    learn32, run32 = fit(bn_mlp(), [Recorder()])
    for cb in (MixedPrecision(), NativeMixedPrecision()):
        learn, run = fit(bn_mlp(), [Recorder(), cb])
        assert torch.allclose(run.recorder.losses[0], run32.recorder.losses[0], rtol=0.02)

@pytest.mark.parametrize('opt_name', list(OPTS))
@pytest.mark.parametrize('flat', [False, True])
def test_fit_gives_back_model_and_optimizer_with_state(opt_name, flat):
    """After fit: float32 weights holding the masters, the optimizer on the model's own parameters with their state,
    no hooks left; and two fits in a row train exactly like one fit of two epochs."""
    def run(epochs_list):
        model = bn_mlp(norm=course_bn)
        opt = OPTS[opt_name](model.parameters())
        mp, data = MixedPrecision(flat_master=flat), toy_data()
        for e in epochs_list: fit(model, [mp], epochs=e, opt=opt, data=data)
        return model, opt
    model, opt = run([1, 1])
    ps = list(model.parameters())
    assert all(p.dtype == torch.float32 for p in ps)
    assert [q for pg in opt.param_groups for q in pg['params']] == ps and all(
        q is p for q, p in zip([q for pg in opt.param_groups for q in pg['params']], ps))
    stateless = opt_name == 'course sgd'
    assert set(map(id, opt.state)) == (set() if stateless else set(map(id, ps)))
    for p in [] if stateless else ps:
        tensors = [v for v in opt.state[p].values() if torch.is_tensor(v) and v.ndim]
        assert tensors and all(v.shape == p.shape for v in tensors)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    once, _ = run([2])
    assert all(torch.equal(a, b) for a, b in zip(ps, once.parameters()))

def test_states_split_from_a_flat_master_are_independent():
    "torch's Adam keeps `step` as a tensor it increments in place: each parameter must get its own."
    model = bn_mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    fit(model, [MixedPrecision(flat_master=True)], opt=opt)
    steps = [opt.state[p]['step'] for p in model.parameters()]
    assert len({id(s) for s in steps}) == len(steps) and all(s.item() == 6 for s in steps)
    fit(model, [], opt=opt)                                   # float32 training goes on from that state
    assert all(opt.state[p]['step'].item() == 12 for p in model.parameters())

def test_native_autocast_is_left_even_when_a_batch_is_cancelled():
    class CancelAfterPred(Callback):
        def after_pred(self):
            if self.in_train and self.iter == 2: raise CancelBatchException()
    native = NativeMixedPrecision()
    learn, run = fit(bn_mlp(norm=course_bn), [native, CancelAfterPred(), Recorder()])
    assert not torch.is_autocast_enabled('cpu')
    assert len(run.recorder.losses) == 5 and all(p.dtype == torch.float32 for p in learn.model.parameters())
    assert not any(m._forward_pre_hooks for m in learn.model.modules())

def test_after_fit_without_begin_fit_does_nothing():
    "A callback earlier in the order can fail in begin_fit: after_fit must then leave everything alone."
    class Fail(Callback):
        _order = -1
        def begin_fit(self): raise RuntimeError('boom')
    model = bn_mlp()
    with pytest.raises(RuntimeError, match='boom') as e: fit(model, [Fail(), MixedPrecision(), NativeMixedPrecision()])
    assert not getattr(e.value, '__notes__', None)
    assert all(p.dtype == torch.float32 for p in model.parameters())

def test_course_module_nb_10c():
    "The 2019 `exp/nb_10c.py`'s names (apex's `fp16` module aside), bound to course_lib, on top of the earlier modules."
    import course_lib.exp, course_lib.fp16 as fp16
    ns = {}
    exec('from course_lib.exp.nb_10c import *', ns)
    for n in ('get_master', 'to_master_grads', 'to_model_params', 'test_overflow', 'grad_overflow', 'MixedPrecision'):
        assert ns[n] is getattr(fp16, n)
    assert ns['Runner'] is Runner and ns['conv_layer'] is course_lib.exp.nb_07.conv_layer and 'fp16' not in ns

# ---- through lesson 09b's Learner (a Runner that owns its model, data and optimizer)

from course_lib.learner import Learner as Learner09b                 # noqa: E402
from course_lib.callbacks import AvgStatsCallback                     # noqa: E402
from course_lib.minibatch import accuracy                             # noqa: E402

SGD_MOM = partial(optim.SGD, momentum=0.9)

@pytest.mark.parametrize('make', [MixedPrecision, partial(MixedPrecision, flat_master=True), NativeMixedPrecision],
                         ids=['per tensor', 'flat', 'native'])
def test_learner_trains_exactly_as_the_runner(make):
    "The same model, optimizer, data and callback: 09b's Learner and 04's Runner end with identical weights."
    runner_learn, _ = fit(bn_mlp(norm=course_bn), [make()], epochs=2)
    learn = Learner09b(bn_mlp(norm=course_bn), toy_data(), F.cross_entropy, opt_func=SGD_MOM, lr=0.1, cbs=[make()])
    learn.logger = lambda line: None
    learn.fit(2)
    assert all(torch.equal(a, b) for a, b in zip(learn.model.parameters(), runner_learn.model.parameters()))

def test_learner_the_courses_way():
    "2019's call: MixedPrecision among `cb_funcs`, read back as the last callback; the model and optimizer come back."
    learn = Learner09b(bn_mlp(), toy_data(), F.cross_entropy, opt_func=SGD_MOM, lr=0.1,
                       cb_funcs=[partial(AvgStatsCallback, accuracy), MixedPrecision])
    learn.logger = lambda line: None
    learn.fit(1)
    mp = learn.cbs[-1]
    assert isinstance(mp, MixedPrecision) and mp.loss_scale == 2.**24 and mp.count == 6
    ps = list(learn.model.parameters())
    assert all(p.dtype == torch.float32 for p in ps) and all(q is p for q, p in zip(learn.opt.param_groups[0]['params'], ps))
    assert set(map(id, learn.opt.state)) == set(map(id, ps))

def test_learner_skips_an_overflowing_step_and_fits_again_without_mixed_precision():
    learn = Learner09b(bn_mlp(), toy_data(), F.cross_entropy, opt_func=SGD_MOM, lr=0.1)
    learn.logger = lambda line: None
    mp = MixedPrecision()
    snap = Trace(lambda cb: [p.detach().clone() for p in cb.model.parameters()])
    learn.fit(1, cbs=[mp, ScriptedOverflow([0, 0, 1, 0, 0, 0]), snap])      # callbacks for this fit only
    assert all(torch.equal(a, b) for a, b in zip(snap.out[1], snap.out[2])) and mp.loss_scale == 2.**23
    assert mp not in learn.cbs and all(p.dtype == torch.float32 for p in learn.model.parameters())
    before = [p.detach().clone() for p in learn.model.parameters()]
    learn.fit(1)                                                            # plain float32, same optimizer
    assert not all(torch.equal(a, b) for a, b in zip(before, learn.model.parameters()))
