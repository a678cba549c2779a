"""Tests of course_lib.xresnet: a zero-initialised block is its shortcut; the one-cycle schedule built from
`create_phases`, `cos_1cycle_anneal` and `combine_scheds` equals PyTorch's `OneCycleLR`; `model_summary` takes the
learner; the XResNets map 1- and 3-channel images to `c_out` outputs; `cnn_learner` assembles and trains."""
import math
from functools import partial

import pytest
import torch
from torch import nn
from hypothesis import given, settings, strategies as st

from course_lib.xresnet import *
from course_lib.anneal import combine_scheds, cos_1cycle_anneal, ParamScheduler
from course_lib.callbacks import DataBunch
from course_lib.cnn import DeviceCallback, BatchTransformXCallback
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.mixup import MixUp
from course_lib.optimizers import adam_opt, sgd_opt
from course_lib.progress import AvgStatsCallback

FEW = settings(max_examples=10, deadline=None)


# ---------------------------------------------------------------- layers
def test_conv_layer_zero_bn_outputs_zero_and_order():
    x = torch.randn(3, 4, 9, 9)
    assert torch.equal(conv_layer(4, 6, zero_bn=True)(x), torch.zeros(3, 6, 9, 9))
    l = conv_layer(4, 6, ks=1, stride=2, act=False)
    assert [type(m) for m in l] == [nn.Conv2d, nn.BatchNorm2d] and l[0].bias is None and l[0].stride == (2, 2)
    assert bool((l[1].weight == 1).all()) and conv_layer(4, 6)[-1] is act_fn

@FEW
@given(expansion=st.sampled_from([1, 4]), ni=st.integers(1, 6), nh=st.integers(1, 6), stride=st.sampled_from([1, 2]),
       size=st.integers(1, 7), training=st.booleans(), seed=st.integers(0, 2**16))
def test_zero_bn_block_is_act_of_its_shortcut(expansion, ni, nh, stride, size, training, seed):
    "At initialisation the convolutions add exactly 0: the block is `act(idconv(pool(x)))`, in either mode."
    torch.manual_seed(seed)
    blk = ResBlock(expansion, ni, nh, stride).train(training)
    x = torch.randn(2, ni * expansion, size, size)
    with torch.no_grad(): assert torch.equal(blk(x), act_fn(blk.idconv(blk.pool(x))))

def test_identity_block_passes_relu_input_through():
    blk = ResBlock(1, 8, 8)
    x = torch.randn(2, 8, 5, 5).relu()
    with torch.no_grad(): assert torch.equal(blk(x), x)
    assert blk.idconv is noop and blk.pool is noop

def test_init_cnn_kaiming_and_zero_biases():
    torch.manual_seed(0)
    m = init_cnn(nn.Sequential(nn.Conv2d(64, 64, 3), nn.Linear(256, 512)))
    for l, fan_in in ((m[0], 64 * 9), (m[1], 256)):
        assert abs(l.weight.std().item() / math.sqrt(2 / fan_in) - 1) < 0.05 and not l.bias.any()

def test_flatten_keeps_the_batch():
    assert Flatten()(torch.randn(3, 2, 4, 4).to(memory_format=torch.channels_last)).shape == (3, 32)


# ---------------------------------------------------------------- XResNet
@pytest.mark.parametrize('arch', [xresnet18, xresnet34, xresnet50])
@pytest.mark.parametrize('c_in', [1, 3])
def test_xresnet_output_shapes(arch, c_in):
    m = arch(c_in=c_in, c_out=7).eval()
    with torch.no_grad(): assert m(torch.randn(2, c_in, 28, 28)).shape == (2, 7)
    assert m[0][0].in_channels == c_in and m[-1].out_features == 7

def test_create_with_fewer_stages_and_widths():
    "Three stages: the head is sized from the last stage built (the 2019 code took the fourth width)."
    m = XResNet.create(4, [1, 1, 1], c_in=1, c_out=5, widths=(8, 16, 32), pool=False).eval()
    assert m[-1].in_features == 32 * 4 and not any(isinstance(l, nn.MaxPool2d) for l in m)
    with torch.no_grad(): assert m(torch.randn(2, 1, 28, 28)).shape == (2, 5)

def test_xresnet_family_layers(monkeypatch):
    "Each depth is `create` with the ResNet paper's numbers of blocks (and expansion 4 from 50 layers on)."
    calls = []
    monkeypatch.setattr(XResNet, 'create', classmethod(lambda cls, *args, **kwargs: calls.append((args, kwargs))))
    for arch in (xresnet18, xresnet34, xresnet50, xresnet101, xresnet152): arch(c_out=10)
    assert [args for args, _ in calls] == [(1, [2, 2, 2, 2]), (1, [3, 4, 6, 3]), (4, [3, 4, 6, 3]),
                                           (4, [3, 4, 23, 3]), (4, [3, 8, 36, 3])]
    assert all(kwargs == {'c_out': 10} for _, kwargs in calls)


# ---------------------------------------------------------------- phases and the one-cycle schedule
def test_create_phases_as_in_the_course():
    assert create_phases(0.3) == pytest.approx([0.3, 0.7])
    assert create_phases([0.3, 0.2]) == pytest.approx([0.3, 0.2, 0.5])

@FEW
@given(st.lists(st.floats(0, 0.3), min_size=1, max_size=3))
def test_create_phases_sum_to_one(phases):
    assert math.isclose(sum(create_phases(phases)), 1, abs_tol=1e-12) and create_phases(phases)[:-1] == phases

def torch_one_cycle(n, max_lr, pct_start, div, final_div, moms):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=moms[0])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=n, pct_start=pct_start, div_factor=div,
        final_div_factor=final_div, anneal_strategy='cos', cycle_momentum=True, base_momentum=moms[1],
        max_momentum=moms[0])
    out = []
    for _ in range(n):
        out.append((opt.param_groups[0]['lr'], opt.param_groups[0]['momentum']))
        opt.step(); sched.step()
    return out

def matched_pos(s, n, pct):
    "The position along `combine_scheds` of `OneCycleLR`'s step `s` of `n` (its phases end on a step)."
    end1 = pct * n - 1
    return pct * s / end1 if s <= end1 else pct + (1 - pct) * (s - end1) / (n - 1 - end1)

@settings(max_examples=6, deadline=None)
@given(n=st.integers(20, 120), pct=st.floats(0.1, 0.9), max_lr=st.floats(1e-4, 1.), div=st.floats(2, 100),
       final_div=st.floats(1, 1e5), moms=st.sampled_from([(0.95, 0.85), (0.99, 0.9), (0.9, 0.8)]))
def test_one_cycle_equals_torch_OneCycleLR(n, pct, max_lr, div, final_div, moms):
    phases, start = create_phases(pct), max_lr / div
    sched_lr = combine_scheds(phases, cos_1cycle_anneal(start, max_lr, start / final_div))
    sched_mom = combine_scheds(phases, cos_1cycle_anneal(moms[0], moms[1], moms[0]))
    for s, (lr, mom) in enumerate(torch_one_cycle(n, max_lr, pct, div, final_div, moms)):
        p = matched_pos(s, n, pct)
        assert sched_lr(p) == pytest.approx(lr, rel=1e-9, abs=1e-15)
        assert sched_mom(p) == pytest.approx(mom, rel=1e-9)


# ---------------------------------------------------------------- cnn_learner, model_summary
def tiny_data(c_in=1, c_out=3, n=64, bs=16):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, c_in, 12, 12, generator=g), torch.randint(0, c_out, (n,), generator=g)
    ds = Dataset(x, y)
    return DataBunch(DataLoader(ds, Sampler(ds, bs, shuffle=True)), DataLoader(ds, Sampler(ds, 2 * bs)),
                     c_in=c_in, c_out=c_out)

tiny_arch = partial(XResNet.create, 1, [1, 1], widths=(4, 8), pool=False)

@pytest.mark.parametrize('c_in', [1, 3])
def test_cnn_learner_sizes_the_model_from_the_data_and_trains(c_in):
    torch.manual_seed(0)
    learn = cnn_learner(tiny_arch, tiny_data(c_in), nn.CrossEntropyLoss(), adam_opt(), progress=False)
    assert learn.model[0][0].in_channels == c_in and learn.model[-1].out_features == 3
    learn.fit(2, cbs=ParamScheduler('lr', combine_scheds(create_phases(0.5), cos_1cycle_anneal(1e-3, 1e-2, 1e-5))))
    assert set(learn.avg_stats.log) >= {'train_loss', 'valid_accuracy'} and learn.opt.hypers[0]['lr'] < 1e-2

def test_cnn_learner_callbacks_and_explicit_sizes():
    norm = lambda x: x * 2
    learn = cnn_learner(tiny_arch, tiny_data(), nn.CrossEntropyLoss(), sgd_opt, c_in=2, c_out=5, lr=0.1,
                        norm=norm, mixup=0.4, progress=False)
    kinds = {type(c) for c in learn.cbs}
    assert {AvgStatsCallback, DeviceCallback, BatchTransformXCallback, MixUp} <= kinds
    assert learn.model[0][0].in_channels == 2 and learn.model[-1].out_features == 5 and learn.lr == 0.1
    plain = cnn_learner(tiny_arch, tiny_data(), nn.CrossEntropyLoss(), sgd_opt, cuda=False, progress=False)
    assert not {DeviceCallback, BatchTransformXCallback, MixUp} & {type(c) for c in plain.cbs}

def test_model_summary_takes_the_learner(capsys):
    "No global `learn`; one line per layer, the last one (valid bs, c_out); buffers and mode untouched."
    learn = cnn_learner(tiny_arch, tiny_data(), nn.CrossEntropyLoss(), adam_opt(), progress=False)
    before = [b.clone() for b in learn.model.buffers()]
    model_summary(learn)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(list(learn.model.children())) and lines[-1].endswith('(32, 3)')
    assert all(torch.equal(a, b) for a, b in zip(before, learn.model.buffers())) and learn.model.training
    model_summary(learn, find_all=True)
    assert len(capsys.readouterr().out.strip().splitlines()) == sum(
        isinstance(m, (nn.Conv2d, nn.Linear)) for m in learn.model.modules())
