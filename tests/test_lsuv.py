"Tests of course_lib.lsuv: after LSUV every layer's output has mean 0 and std 1 on the batch used, whatever the start."
from functools import partial
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, strategies as st
from torch import nn

from course_lib.lsuv import *
from course_lib.cnn import (GeneralRelu, Hooks, conv_grelu, get_cnn_model, init_cnn, get_runner, view_tfm,
                            BatchTransformXCallback, DeviceCallback)
from course_lib.anneal import ParamScheduler, sched_lin
from course_lib.callbacks import DataBunch
from course_lib.minibatch import Dataset, DataLoader, Sampler

DATA = SimpleNamespace(c=10)          # all get_cnn_model reads from data

def is_block(m): return isinstance(m, nn.Sequential) and isinstance(m[-1], GeneralRelu)

def stats(model, mods, xb):
    "Each module's output mean and std on `xb`, measured together in one forward pass."
    def f(h, m, i, o): h.ms = (o.mean().item(), o.std().item())
    with Hooks(mods, f) as hs, torch.no_grad():
        model(xb)
        return [h.ms for h in hs]

def cnn(seed=0, nfs=(8, 16, 32, 64, 64), kaiming=False, **act):
    torch.manual_seed(seed)
    model = get_cnn_model(DATA, list(nfs), conv_grelu, **act)
    return init_cnn(model) if kaiming else model

def batch(seed=0, n=64):
    "A digits-shaped batch: mostly zeros (background) and a few bright pixels, normalised."
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, 28, 28, generator=g) > 0.8).float() * torch.rand(n, 1, 28, 28, generator=g)
    return (x - x.mean()) / x.std()

def assert_unit(model, xb, tol=1e-3):
    for m, s in stats(model, find_modules(model, is_block), xb):
        assert abs(m) < tol and abs(s - 1) < tol, (m, s)

@pytest.mark.parametrize('kaiming', [False, True])
def test_every_block_has_mean_0_std_1_on_the_batch(kaiming):
    model, xb = cnn(kaiming=kaiming, leak=0.1, sub=0.4, maxv=6.), batch()
    before = stats(model, find_modules(model, is_block), xb)
    assert max(abs(m) for m, _ in before) > 0.05 or max(abs(s - 1) for _, s in before) > 0.05   # not already there
    for m in find_modules(model, is_block): lsuv_module(model, m, xb)
    assert_unit(model, xb)

@given(seed=st.integers(0, 2**16), leak=st.sampled_from([None, 0., 0.1, 0.3]), sub=st.sampled_from([None, 0., 0.2, 0.5]),
       maxv=st.sampled_from([None, 4., 6., 10.]), kaiming=st.booleans(), nfs=st.sampled_from([(4, 8), (8, 16, 32), (6, 6, 6, 6)]))
def test_any_block_settings_and_start(seed, leak, sub, maxv, kaiming, nfs):
    "Whatever the activation's leak, shift and cap, and the start: the returned and measured stats are within 1e-3."
    model, xb = cnn(seed, nfs, kaiming, leak=leak, sub=sub, maxv=maxv), batch(seed, n=32)
    returned = [lsuv_module(model, m, xb) for m in find_modules(model, is_block)]
    assert all(abs(m) < 1e-3 and abs(s - 1) < 1e-3 for m, s in returned)
    assert_unit(model, xb)

def test_returns_the_measured_stats_and_leaves_earlier_layers_alone():
    model, xb = cnn(kaiming=True, leak=0.1, sub=0.4, maxv=6.), batch()
    blocks = find_modules(model, is_block)
    first = lsuv_module(model, blocks[0], xb)
    assert stats(model, blocks[:1], xb)[0] == pytest.approx(first, abs=1e-6)
    lsuv_module(model, blocks[1], xb)
    assert stats(model, blocks[:1], xb)[0] == pytest.approx(first, abs=1e-6)

def test_a_plain_linear_layer_is_shifted_by_its_bias():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    xb = torch.randn(128, 20) * 3 + 1
    for m in (model[0], model[2]): lsuv_module(model, m, xb)
    for m, s in stats(model, [model[0], model[2]], xb): assert abs(m) < 1e-3 and abs(s - 1) < 1e-3

def test_nothing_to_turn_is_an_error():
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.ReLU())
    with pytest.raises(ValueError, match='linear layer with a bias'): lsuv_module(model, model[0], torch.randn(8, 4))
    with pytest.raises(ValueError, match='linear layer with a bias'): lsuv_module(model, model[1], torch.randn(8, 4))

def test_find_modules_outermost_first_and_is_lin_layer():
    model = cnn(nfs=(4, 8))
    assert find_modules(model, is_block) == [model[0], model[1]]
    assert find_modules(model, is_lin_layer) == [model[0][0], model[1][0], model[-1]]
    assert find_modules(model, lambda m: isinstance(m, nn.Sequential)) == [model]     # a match is not searched further
    assert all(is_lin_layer(l) for l in (nn.Conv1d(1, 1, 1), nn.Conv3d(1, 1, 1), nn.Linear(1, 1)))
    assert not any(is_lin_layer(l) for l in (nn.ReLU(), nn.BatchNorm2d(2), GeneralRelu()))

def test_get_batch_is_the_first_batch_as_the_callbacks_prepare_it():
    x, y = torch.randn(40, 784), torch.randint(0, 10, (40,))
    ds = Dataset(x, y)
    data = DataBunch(DataLoader(ds, Sampler(ds, 8)), DataLoader(ds, Sampler(ds, 8)), c=10)
    model = cnn(nfs=(4,))
    sched = ParamScheduler('lr', sched_lin(1., 2.))
    learn, run = get_runner(model, data, lr=0.3, cbs=[sched, DeviceCallback('cpu'), partial(BatchTransformXCallback, view_tfm(1, 28, 28))])
    xb, yb = get_batch(data.train_dl, run)
    assert xb.shape == (8, 1, 28, 28) and torch.equal(xb.flatten(1), x[:8]) and torch.equal(yb, y[:8])
    assert learn.opt.param_groups[0]['lr'] == 0.3            # a training-only callback left it alone
