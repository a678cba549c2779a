"""Tests of course_lib.transfer: concat pooling against PyTorch's pooling; the splitter covers every parameter once;
a frozen body stays bit-identical through a fit, and batch-norm-only training changes only batch norm (and the head);
`sched_1cycle` gives each parameter group its own rates, seen through `DebugCallback`; saved weights load back and
nothing is overwritten silently; `random_splitter` splits at the rate asked for."""
import pickle, random
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st

from course_lib.transfer import *
from course_lib.callbacks import DataBunch, EVENTS
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.anneal import combine_scheds, cos_1cycle_anneal
from course_lib.optimizers import adam_opt
from course_lib.learner import Learner
from course_lib.data_block import split_by_func
from course_lib.xresnet import XResNet
from strategies import float_tensors, shapes, body_head_models

FEW = settings(max_examples=15, deadline=None)

def _data(n=32, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, c, (n,), generator=g)
    ds = Dataset(x, y)
    return DataBunch(DataLoader(ds, Sampler(ds, 8, shuffle=True, generator=g)), DataLoader(ds, Sampler(ds, 16)), c=c)

def _model(c_out=4):
    "A small pretrained-shaped CNN: conv-BN-ReLU twice, then average pooling, flatten, linear."
    torch.manual_seed(0)
    block = lambda ni, nf: nn.Sequential(nn.Conv2d(ni, nf, 3, 2, 1, bias=False), nn.BatchNorm2d(nf), nn.ReLU())
    return nn.Sequential(block(1, 4), block(4, 8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, c_out))

def _adapted(**kwargs):
    data = _data()
    learn = Learner(_model(), data, F.cross_entropy, adam_opt(wd=1e-2), lr=1e-2, **kwargs)
    adapt_model(learn, data)
    return learn

def _state(m): return {k: v.clone() for k, v in m.state_dict().items()}

# ---------------------------------------------------------------- AdaptiveConcatPool2d against PyTorch's pooling
@FEW
@given(x=shapes(min_dims=4, max_dims=4).flatmap(float_tensors), sz=st.sampled_from([1, 2, (1, 3), (2, 2)]))
def test_concat_pool_is_max_then_average(x, sz):
    want = torch.cat([F.adaptive_max_pool2d(x, sz), F.adaptive_avg_pool2d(x, sz)], 1)
    torch.testing.assert_close(AdaptiveConcatPool2d(sz)(x), want, rtol=0, atol=0)

# ---------------------------------------------------------------- bn_splitter
@FEW
@given(m=body_head_models())
def test_bn_splitter_covers_every_parameter_exactly_once(m):
    body, rest = bn_splitter(m)
    got = [id(p) for p in body + rest]
    assert sorted(got) == sorted(id(p) for p in m.parameters())          # each once, none missed
    bn = {id(p) for l in m.modules() if isinstance(l, nn.BatchNorm2d) for p in l.parameters()}
    assert not bn & {id(p) for p in body}                                  # batch norm trains with the head
    assert {id(p) for p in m[1:].parameters()} <= {id(p) for p in rest}

# ---------------------------------------------------------------- freezing
def test_frozen_body_is_bit_identical_after_a_fit_but_its_running_stats_move():
    learn = _adapted()
    for p in learn.model[0].parameters(): p.requires_grad_(False)
    before = _state(learn.model)
    learn.fit(2, sched_1cycle(1e-2))
    after = learn.model.state_dict()
    body = {f'0.{k}' for k, _ in learn.model[0].named_parameters()}
    assert all(torch.equal(after[k], before[k]) for k in body)
    assert not torch.equal(after['3.weight'], before['3.weight'])         # the head trained
    assert not torch.equal(after['0.0.1.running_mean'], before['0.0.1.running_mean'])   # buffers are not frozen

def test_batchnorm_only_training_changes_only_batchnorm_and_the_head():
    learn = _adapted()
    learn.model.apply(partial(set_grad, b=False))
    before = {k: p.clone() for k, p in learn.model.named_parameters()}
    learn.fit(2, sched_1cycle(1e-2))
    changed = {k for k, p in learn.model.named_parameters() if not torch.equal(p, before[k])}
    bn = {f'{n}.{k}' for n, l in learn.model.named_modules() if isinstance(l, nn.BatchNorm2d)
          for k in ('weight', 'bias')}
    assert changed == bn | {'3.weight', '3.bias'}
    learn.model.apply(partial(set_grad, b=True))
    assert all(p.requires_grad for p in learn.model.parameters())

def test_set_grad_touches_only_the_modules_own_parameters():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(2, 2))
    set_grad(m, False)                                                      # a container: nothing of its own
    assert all(p.requires_grad for p in m.parameters())

# ---------------------------------------------------------------- adapt_model
def test_adapt_model_keeps_the_body_and_its_running_stats_and_makes_a_new_optimizer():
    data = _data()
    learn = Learner(_model(), data, F.cross_entropy, adam_opt(), lr=1e-2)
    learn.fit(1)                                                            # an optimizer exists, for the old head
    old = _state(learn.model)
    learn.model.train()
    m = adapt_model(learn, data)
    assert m is learn.model and m.training and isinstance(m[1], AdaptiveConcatPool2d)
    assert m[-1].in_features == 2 * 8 and m[-1].out_features == data.c
    assert all(torch.equal(v, old[k]) for k, v in m[0].state_dict().items())   # measured in eval mode
    head = m[-1].weight.clone()
    learn.fit(1)
    assert not torch.equal(m[-1].weight, head)                              # the new head is in the new optimizer

def test_adapt_model_cuts_an_xresnet_at_its_pooling():
    data = _data()
    torch.manual_seed(0)
    learn = Learner(XResNet.create(1, [1, 1], c_in=1, c_out=4, widths=(4, 8)), data, F.cross_entropy)
    old = _state(learn.model)
    m = adapt_model(learn, data)
    assert [type(l).__name__ for l in m[1:]] == ['AdaptiveConcatPool2d', 'Flatten', 'Linear']
    assert m[-1].in_features == 16
    assert all(torch.equal(v, old[k]) for k, v in m[0].state_dict().items())
    assert m(data.train_ds[:3][0]).shape == (3, data.c)

def test_adapt_model_cuts_where_told():
    data = _data()
    learn = Learner(nn.Sequential(nn.Conv2d(1, 5, 3), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                                  nn.Linear(5, 3)), data, F.cross_entropy)
    assert adapt_model(learn, data, cut=2)[-1].in_features == 10

# ---------------------------------------------------------------- sched_1cycle seen through DebugCallback
def test_sched_1cycle_gives_each_group_its_own_rates():
    lrs, pct = [1e-3, 3e-2], 0.4
    seen = []
    def record(run):
        groups = [(pg['lr'], pg['mom']) for pg in run.opt.param_groups]
        if run.in_train: seen.append((run.n_epochs / run.epochs, groups))
    learn = _adapted(splitter=bn_splitter)
    learn.fit(3, sched_1cycle(lrs, pct) + [DebugCallback(cb_types.begin_batch, record)])
    phases = [pct, 1 - pct]
    want_lr = [combine_scheds(phases, cos_1cycle_anneal(lr / 10, lr, lr / 1e5)) for lr in lrs]
    want_mom = combine_scheds(phases, cos_1cycle_anneal(0.95, 0.85, 0.95))
    assert len(seen) == 3 * 4                                               # 4 training batches an epoch
    for pos, groups in seen:
        assert len(groups) == 2
        for (lr, mom), f in zip(groups, want_lr):
            assert lr == pytest.approx(f(pos), rel=1e-12) and mom == pytest.approx(want_mom(pos), rel=1e-12)
    assert all(g[1][0] / g[0][0] == pytest.approx(30) for _, g in seen)
    assert len({g[0][0] for _, g in seen}) == len(seen)                     # the rates move at every batch

def test_debug_callback_calls_f_at_its_event_only():
    calls = []
    learn = _adapted()
    learn.fit(2, [DebugCallback(cb_types.after_epoch, lambda run: calls.append(run.epoch))])
    assert calls == [0, 1]
    assert set(vars(cb_types).values()) == set(EVENTS)

# ---------------------------------------------------------------- saving and loading
class _Code:
    def __reduce__(self): return (print, ('this ran',))

def test_weights_round_trip_and_are_never_overwritten_silently(tmp_path):
    a, b = _model(), _model(c_out=4)
    with torch.no_grad(): b[-1].weight.add_(1)
    path = save_weights(a, tmp_path/'m'/'a.pth')
    with pytest.raises(FileExistsError, match='overwrite=True'): save_weights(b, path)
    assert all(torch.equal(v, a.state_dict()[k]) for k, v in load_weights(_model(), path).state_dict().items())
    save_weights(b, path, overwrite=True)
    assert torch.equal(load_weights(_model(), path)[-1].weight, b[-1].weight)
    assert [p.name for p in path.parent.iterdir()] == ['a.pth']             # no temporary file left behind

def test_load_weights_runs_no_code_and_wants_matching_keys(tmp_path):
    torch.save({'0.0.weight': _Code()}, tmp_path/'code.pth')
    with pytest.raises(pickle.UnpicklingError): load_weights(_model(), tmp_path/'code.pth')
    save_weights(_model(c_out=7), tmp_path/'seven.pth')
    with pytest.raises(RuntimeError, match='size mismatch'): load_weights(_model(), tmp_path/'seven.pth')

# ---------------------------------------------------------------- random_splitter
@FEW
@given(seed=st.integers(0, 2**16), p=st.floats(0, 1))
def test_random_splitter_repeats_with_the_seed_and_keeps_every_item(seed, p):
    items = list(range(500))
    random.seed(seed); a = split_by_func(items, partial(random_splitter, p_valid=p))
    random.seed(seed); b = split_by_func(items, partial(random_splitter, p_valid=p))
    assert a == b and sorted(a[0] + a[1]) == items
    n_valid = len(a[1])
    assert abs(n_valid - 500 * p) <= 6 * (500 * p * (1 - p)) ** 0.5 + 1e-9   # binomial, 6 standard deviations
    if p == 0: assert n_valid == 0
    if p == 1: assert n_valid == 500
