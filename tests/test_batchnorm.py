"Tests for course_lib.batchnorm: each layer against PyTorch's own, buffers, modes, gradients, the small-batch layer and folding."
import copy, io

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn
from torch.testing import assert_close

from course_lib.batchnorm import (BatchNorm, LayerNorm, InstanceNorm, GroupNorm, RunningBatchNorm, fuse_conv_bn, fuse_bn)
from strategies import image_batches, grouped_channels

moms = st.sampled_from([0.01, 0.1, 0.5, 0.9, 1.0])
close = dict(atol=1e-4, rtol=1e-4)


def same_bn(nf, mom=0.1, seed=0, dtype=torch.float64):
    "Our BatchNorm and nn.BatchNorm2d with the same random weights."
    g = torch.Generator().manual_seed(seed)
    ours, ref = BatchNorm(nf, mom=mom).to(dtype), nn.BatchNorm2d(nf, momentum=mom).to(dtype)
    with torch.no_grad():
        ref.weight.copy_(torch.randn(nf, generator=g)); ref.bias.copy_(torch.randn(nf, generator=g))
        ours.mults.copy_(ref.weight.view(nf, 1, 1)); ours.adds.copy_(ref.bias.view(nf, 1, 1))
    return ours, ref


def randomize_affine(m, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters(): p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return m


# --- BatchNorm against nn.BatchNorm2d -------------------------------------------

@given(x=image_batches(min_values=2), mom=moms, steps=st.integers(1, 4))
def test_batchnorm_matches_pytorch_in_train_and_eval(x, mom, steps):
    ours, ref = same_bn(x.shape[1], mom)
    for k in range(steps):
        xk = x * (k + 1) - k              # batches with different statistics
        assert_close(ours(xk), ref(xk), **close)
    assert_close(ours.means.flatten(), ref.running_mean, **close)
    assert_close(ours.vars.flatten(), ref.running_var, **close)
    ours.eval(); ref.eval()
    assert_close(ours(x), ref(x), **close)


def test_batchnorm_matches_pytorch_float32_after_several_steps():
    torch.manual_seed(0)
    ours, ref = same_bn(5, dtype=torch.float32)
    for step in range(8):
        x = torch.randn(16, 5, 7, 7) * (step + 1) + step
        assert_close(ours(x), ref(x), **close)
    assert_close(ours.vars.flatten(), ref.running_var, **close)
    ours.eval(); ref.eval()
    assert_close(ours(x), ref(x), **close)


@given(x=image_batches(min_values=2))
def test_batchnorm_gradients_match_autograd_on_pytorch(x):
    ours, ref = same_bn(x.shape[1])
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype)
    (ours(xa) * w).sum().backward(); (ref(xb) * w).sum().backward()
    assert_close(xa.grad, xb.grad, **close)
    assert_close(ours.mults.grad.flatten(), ref.weight.grad, **close)
    assert_close(ours.adds.grad.flatten(), ref.bias.grad, **close)


def test_batchnorm_mom_is_pytorch_momentum():
    "One step from the initial statistics: running = (1 - mom) * initial + mom * batch statistic."
    x = torch.randn(32, 3, 4, 4) * 2 + 3
    bn = BatchNorm(3, mom=0.25)
    bn(x)
    assert_close(bn.means.flatten(), 0.25 * x.mean((0, 2, 3)))
    assert_close(bn.vars.flatten(), 0.75 + 0.25 * x.var((0, 2, 3)))      # unbiased, as PyTorch keeps it


# --- buffers and modes --------------------------------------------------------------

@pytest.mark.parametrize('make, buffers', [(lambda: BatchNorm(3), {'means', 'vars'}),
                                           (lambda: RunningBatchNorm(3), {'sums', 'sqrs', 'count', 'batch'})])
def test_running_statistics_are_buffers_in_state_dict(make, buffers):
    m = make()
    assert {n for n, _ in m.named_buffers()} == buffers
    assert {n for n, _ in m.named_parameters()} == {'mults', 'adds'}
    assert set(m.state_dict()) == buffers | {'mults', 'adds'}
    for _ in range(3): m(torch.randn(8, 3, 4, 4) * 3 + 1)
    m.eval()
    x = torch.randn(2, 3, 4, 4)
    buf = io.BytesIO(); torch.save(m.state_dict(), buf); buf.seek(0)
    fresh = make(); fresh.load_state_dict(torch.load(buf, weights_only=True)); fresh.eval()
    assert_close(fresh(x), m(x))
    assert not torch.equal(make().eval()(x), m(x))          # the statistics matter, so the round trip tested something
    assert m.to(torch.float64).state_dict()[next(iter(buffers))].dtype == torch.float64   # buffers move with the module


def test_batchnorm_train_updates_statistics_eval_does_not():
    bn = BatchNorm(2)
    x = torch.randn(8, 2, 3, 3) + 4
    bn(x)
    after_train = bn.means.clone()
    assert not torch.equal(after_train, torch.zeros_like(after_train))
    bn.eval(); bn(x * 10)
    assert torch.equal(bn.means, after_train)
    bn.train(); bn(x)
    assert not torch.equal(bn.means, after_train)


@pytest.mark.parametrize('make', [lambda: BatchNorm(3), lambda: RunningBatchNorm(3)])
def test_eval_output_of_a_sample_does_not_depend_on_its_batch(make):
    m = make()
    for _ in range(30): m(torch.randn(8, 3, 4, 4) * 2 + 1)
    m.eval()
    x = torch.randn(6, 3, 4, 4)
    assert_close(m(x)[:1], m(x[:1]))
    m.train()
    if isinstance(m, BatchNorm): assert not torch.allclose(m(x)[:1], m(x[:1]))   # in training it does


# --- zero variance, edge cases ----------------------------------------------------

@pytest.mark.parametrize('make', [lambda: BatchNorm(3), lambda: RunningBatchNorm(3), lambda: LayerNorm(),
                                  lambda: InstanceNorm(3), lambda: GroupNorm(3, 3)])
def test_constant_channel_gives_finite_output(make):
    m = randomize_affine(make())
    x = torch.full((4, 3, 5, 5), 7.)
    for mode in (True, False):
        m.train(mode)
        y = m(x)
        assert torch.isfinite(y).all()
    x.requires_grad_()
    m.train()(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_batchnorm_constant_channel_gives_adds_in_training():
    bn = randomize_affine(BatchNorm(3))
    y = bn(torch.full((4, 3, 2, 2), -2.))
    assert_close(y, bn.adds.expand(4, 3, 2, 2).detach())


# --- layer, instance and group norm against torch.nn.functional -----------------

@given(x=image_batches(), eps=st.sampled_from([1e-5, 1e-3, 0.1]))
def test_layernorm_matches_f_layer_norm(x, eps):
    ln = LayerNorm(eps=eps).double()
    with torch.no_grad(): ln.mult.fill_(1.7); ln.add.fill_(-0.3)
    assert_close(ln(x), F.layer_norm(x, x.shape[1:], eps=eps) * 1.7 - 0.3, **close)


@given(x=image_batches(max_n=3), seed=st.integers(0, 100))
def test_instancenorm_matches_f_instance_norm(x, seed):
    m = randomize_affine(InstanceNorm(x.shape[1]).double(), seed)
    if x.shape[2] * x.shape[3] < 2:      # one value per instance: it sits at its mean, so the output is `adds`
        assert_close(m(x), m.adds.expand_as(x).detach())
        return
    assert_close(m(x), F.instance_norm(x, weight=m.mults.flatten(), bias=m.adds.flatten()), **close)


@given(gc=grouped_channels(), x=image_batches(max_c=1), seed=st.integers(0, 100))
def test_groupnorm_matches_f_group_norm(gc, x, seed):
    g, nf = gc
    x = x.expand(-1, nf, -1, -1) * torch.arange(1., nf + 1, dtype=x.dtype).view(1, nf, 1, 1) + torch.randn(1, nf, 1, 1, dtype=x.dtype)
    m = randomize_affine(GroupNorm(g, nf).double(), seed)
    if nf // g * x.shape[2] * x.shape[3] < 2:      # one value per group: the output is `adds`
        assert_close(m(x), m.adds.expand_as(x).detach())
        return
    assert_close(m(x), F.group_norm(x, g, m.mults.flatten(), m.adds.flatten()), **close)


@given(x=image_batches(min_values=1))
def test_groupnorm_extremes_are_layer_and_instance_norm(x):
    nf = x.shape[1]
    if nf * x.shape[2] * x.shape[3] >= 2: assert_close(GroupNorm(1, nf).double()(x), F.layer_norm(x, x.shape[1:]), **close)
    if x.shape[2] * x.shape[3] >= 2: assert_close(GroupNorm(nf, nf).double()(x), InstanceNorm(nf).double()(x), **close)


@pytest.mark.parametrize('make', [lambda: LayerNorm(), lambda: InstanceNorm(3), lambda: GroupNorm(3, 3)])
def test_per_sample_norms_ignore_the_rest_of_the_batch(make):
    m = make()
    x = torch.randn(5, 3, 4, 4)
    assert_close(m(x)[2:3], m(x[2:3]))


# --- RunningBatchNorm --------------------------------------------------------------

def test_running_batchnorm_is_debiased_from_the_first_batch():
    rbn = RunningBatchNorm(4)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64) * 3 + 5
    rbn.double()(x)
    means, vars = rbn.stats(rbn.sums, rbn.sqrs)
    assert_close(means.flatten(), x.mean((0, 2, 3)))
    assert_close(vars.flatten(), x.var((0, 2, 3), correction=0))
    assert_close(rbn.sums.flatten(), 0.1 * x.sum((0, 2, 3)))     # the raw sum holds only mom1 of it


def test_running_batchnorm_floors_the_variance_until_20_samples():
    rbn = RunningBatchNorm(1)
    x = torch.full((2, 1, 3, 3), 1.) + torch.tensor([0., 1e-3]).view(2, 1, 1, 1)
    rbn(x)
    assert_close(rbn.stats(rbn.sums, rbn.sqrs)[1].flatten(), torch.tensor([0.01]))
    for _ in range(10): rbn(x)
    assert rbn.batch.item() == 22 and rbn.stats(rbn.sums, rbn.sqrs)[1].item() < 1e-3


def test_running_batchnorm_batch_weight_grows_with_batch_size():
    from course_lib.batchnorm import _batch_mom
    ws = [_batch_mom(0.1, bs) for bs in (1, 2, 3, 8, 64, 512)]
    assert ws[0] == ws[1] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(ws[1:], ws[2:])) and ws[-1] < 1


@given(x=image_batches(min_values=1))
@settings(max_examples=20)
def test_running_batchnorm_gradients_pass_gradcheck(x):
    rbn = randomize_affine(RunningBatchNorm(x.shape[1]).double())
    for _ in range(3): rbn(x * 2 + 1)              # some history, so the current batch is only part of the statistics
    x = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: copy.deepcopy(rbn)(t), (x,), eps=1e-6, atol=1e-4)


@given(x=image_batches(min_values=2))
@settings(max_examples=20)
def test_batchnorm_gradients_pass_gradcheck(x):
    bn = randomize_affine(BatchNorm(x.shape[1]).double())
    x = x.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: copy.deepcopy(bn)(t), (x,), eps=1e-6, atol=1e-4)


def test_running_batchnorm_train_and_eval_agree_once_trained():
    "After many batches from one distribution, a training-mode step normalizes almost as evaluation does."
    torch.manual_seed(0)
    rbn = RunningBatchNorm(3)
    for _ in range(200): rbn(torch.randn(2, 3, 4, 4) * 3 + 2)
    x = torch.randn(2, 3, 4, 4) * 3 + 2
    y_eval = copy.deepcopy(rbn).eval()(x)
    y_train = rbn(x)
    bn = BatchNorm(3)
    assert (y_train - y_eval).abs().max() < 0.3 * (bn(x) - y_eval).abs().max()


def test_running_batchnorm_handles_batch_size_one():
    rbn = RunningBatchNorm(2)
    for _ in range(5): y = rbn(torch.randn(1, 2, 1, 1))
    assert torch.isfinite(y).all()


def test_running_batchnorm_large_batches_match_batchnorm_eval_statistics():
    torch.manual_seed(0)
    rbn, bn = RunningBatchNorm(3), BatchNorm(3)
    for _ in range(100):
        x = torch.randn(64, 3, 4, 4) * 2 + 1
        rbn(x); bn(x)
    means, vars = rbn.stats(rbn.sums, rbn.sqrs)
    assert_close(means.flatten(), bn.means.flatten(), atol=0.05, rtol=0)
    assert_close(vars.flatten(), bn.vars.flatten(), atol=0.2, rtol=0)


# --- folding into the convolution --------------------------------------------------

def trained_bn(kind, nf, seed=0, affine=True):
    g = torch.Generator().manual_seed(seed)
    bn = {'ours': lambda: BatchNorm(nf), 'running': lambda: RunningBatchNorm(nf),
          'torch': lambda: nn.BatchNorm2d(nf, affine=affine)}[kind]().double()
    if affine: randomize_affine(bn, seed)
    for _ in range(5): bn(torch.randn(6, nf, 4, 4, generator=g, dtype=torch.float64) * 3 + 2)
    return bn.eval()


@given(kind=st.sampled_from(['ours', 'running', 'torch']), affine=st.booleans(), bias=st.booleans(),
       ks=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2), groups=st.sampled_from([1, 2]),
       seed=st.integers(0, 100))
def test_fuse_conv_bn_equals_conv_then_bn_in_eval(kind, affine, bias, ks, stride, padding, groups, seed):
    torch.manual_seed(seed)
    conv = nn.Conv2d(4, 6, ks, stride=stride, padding=padding, groups=groups, bias=bias).double()
    bn = trained_bn(kind, 6, seed, affine=affine or kind != 'torch')
    x = torch.randn(3, 4, 7, 7, dtype=torch.float64)
    fused = fuse_conv_bn(conv, bn)
    assert isinstance(fused, nn.Conv2d) and fused.bias is not None
    with torch.no_grad(): assert_close(fused(x), bn(conv(x)), atol=1e-5, rtol=1e-5)


def test_fuse_conv_bn_float32_to_1e5_and_leaves_inputs_alone():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), BatchNorm(8)
    randomize_affine(bn)
    for _ in range(10): bn(conv(torch.randn(16, 3, 12, 12) * 2 + 1))
    bn.eval()
    w = conv.weight.clone()
    x = torch.randn(4, 3, 12, 12)
    with torch.no_grad(): assert_close(fuse_conv_bn(conv, bn)(x), bn(conv(x)), atol=1e-5, rtol=1e-5)
    assert torch.equal(conv.weight, w) and conv.bias is None


def conv_bn_relu_model(bn=BatchNorm):
    layers = []
    for ni, nf in ((1, 4), (4, 8), (8, 8)): layers.append(nn.Sequential(nn.Conv2d(ni, nf, 3, 2, 1, bias=False), bn(nf), nn.ReLU()))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


@pytest.mark.parametrize('bn', [BatchNorm, RunningBatchNorm, nn.BatchNorm2d])
def test_fuse_bn_folds_every_pair_and_keeps_outputs(bn):
    torch.manual_seed(0)
    model = conv_bn_relu_model(bn)
    for _ in range(5): model(torch.randn(16, 1, 12, 12))
    x = torch.randn(4, 1, 12, 12)
    fused = fuse_bn(model)
    assert model.training and not fused.training
    assert sum(isinstance(m, bn) for m in model.modules()) == 3          # the original is untouched
    assert not any(isinstance(m, bn) for m in fused.modules())
    assert sum(isinstance(m, nn.Identity) for m in fused.modules()) == 3
    with torch.no_grad(): assert_close(fused(x), model.eval()(x), atol=1e-5, rtol=1e-5)


def test_fuse_bn_refuses_a_model_with_nothing_to_fold():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), BatchNorm(4))
    with pytest.raises(ValueError, match='nothing to fold'): fuse_bn(model)


# --- conv_layer and the CNN built from it ---------------------------------------------

from functools import partial
from course_lib.batchnorm import conv_layer
from course_lib.cnn import GeneralRelu, get_cnn_model, init_cnn


def test_conv_layer_with_bn_has_no_conv_bias_and_ends_with_the_norm():
    m = conv_layer(3, 8, leak=0.1, sub=0.4, maxv=6.)
    conv, act, bn = m
    assert isinstance(conv, nn.Conv2d) and conv.bias is None
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (3, 8, (3, 3), (2, 2), (1, 1))
    assert isinstance(act, GeneralRelu) and (act.leak, act.sub, act.maxv) == (0.1, 0.4, 6.)
    assert isinstance(bn, BatchNorm) and bn.nf == 8
    assert m(torch.randn(4, 3, 9, 9)).shape == (4, 8, 5, 5)


def test_conv_layer_without_bn_keeps_the_bias_and_has_no_norm():
    m = conv_layer(3, 8, ks=5, stride=1, bn=False)
    assert len(m) == 2 and m[0].bias is not None and m[0].padding == (2, 2)
    assert m(torch.randn(2, 3, 7, 7)).shape == (2, 8, 7, 7)


@pytest.mark.parametrize('norm, cls', [(BatchNorm, BatchNorm), (LayerNorm, LayerNorm), (InstanceNorm, InstanceNorm),
                                       (partial(GroupNorm, 4), GroupNorm), (RunningBatchNorm, RunningBatchNorm)])
def test_conv_layer_norms_build_a_cnn_that_trains_a_step(norm, cls):
    data = type('D', (), {'c': 10})()
    torch.manual_seed(0)
    model = init_cnn(get_cnn_model(data, [8, 16, 32, 32], conv_layer, norm=norm))
    assert sum(isinstance(m, cls) for m in model.modules()) == 4
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = F.cross_entropy(model(x), y)
    before.backward(); opt.step()
    assert torch.isfinite(before) and all(torch.isfinite(p).all() for p in model.parameters())


def test_wrong_channel_count_is_a_torch_error_naming_the_sizes():
    "No check of ours in forward: PyTorch's broadcasting names both sizes."
    for m in (BatchNorm(4), RunningBatchNorm(4), InstanceNorm(4), GroupNorm(2, 4)):
        with pytest.raises(RuntimeError, match=r'\(6\).*\(4\)|\(4\).*\(6\)'): m(torch.randn(2, 6, 5, 5))


# --- pinned: RunningBatchNorm's small-batch threshold, BatchNorm's single value per channel, the fast path -------

def test_running_batchnorm_floor_ends_exactly_at_the_20th_sample():
    "With batches of one sample, the variance floor of 0.01 holds for samples 1-19 and is gone from the 20th on."
    rbn = RunningBatchNorm(1)
    x = torch.full((1, 1, 2, 2), 3.) + torch.tensor([0., 1e-3, 0., 1e-3]).view(1, 1, 2, 2)    # variance 2.5e-7
    floors = []
    for i in range(1, 22):
        rbn(x)
        floors.append(rbn.stats(rbn.sums, rbn.sqrs)[1].item() > 0.005)
    assert floors == [True] * 19 + [False] * 2


def test_running_batchnorm_batch_weight_exact_values():
    from course_lib.batchnorm import _batch_mom
    assert _batch_mom(0.1, 1) == _batch_mom(0.1, 2) == pytest.approx(0.1)
    assert _batch_mom(0.1, 3) == pytest.approx(1 - 0.9 / 2 ** 0.5) and _batch_mom(0.1, 65) == pytest.approx(1 - 0.9 / 8)


@pytest.mark.parametrize('shape', [(1, 4, 1, 1), (0, 4, 3, 3)])
def test_batchnorm_refuses_a_batch_without_a_variance_and_keeps_its_statistics(shape):
    bn = BatchNorm(4)
    with pytest.raises(ValueError, match='value per channel'): bn(torch.randn(shape))
    assert torch.equal(bn.means, torch.zeros(1, 4, 1, 1)) and torch.equal(bn.vars, torch.ones(1, 4, 1, 1))
    bn.eval()(torch.randn(shape))                              # evaluation needs no batch statistics


def test_batchnorm_fast_path_is_the_formula():
    torch.manual_seed(0)
    bn = randomize_affine(BatchNorm(3).double())
    for _ in range(3): bn(torch.randn(8, 3, 4, 4, dtype=torch.float64) * 2 + 1)
    bn.eval()
    x = torch.randn(5, 3, 4, 4, dtype=torch.float64)
    assert_close(bn(x), (x - bn.means) / (bn.vars + bn.eps).sqrt() * bn.mults + bn.adds)
    assert_close(bn.forward_fused(x), bn(x))
