"Tests for course_lib.init: hand-written gradients vs autograd, ReLU moments vs Monte Carlo, Kaiming init, shape errors."
import math
import pytest
import torch
from torch import nn
from hypothesis import given, settings, strategies as st
from torch.testing import assert_close

from course_lib.init import (normalize, lin, relu, mse, mse_grad, relu_grad, lin_grad,
                             forward_and_backward, Module, Lin, Relu, Mse, Model,
                             kaiming_normal, relu_moments, sample_relu_moments, Moments, SampledMoments)
from strategies import dims, seeds


def check_near(a, b): assert_close(torch.as_tensor(a), torch.as_tensor(b), rtol=1e-3, atol=1e-5, check_dtype=False)


def check_near_zero(a, tol=1e-3): assert abs(float(a)) < tol, f"{float(a)} is not within {tol} of 0"


def _randn(g, *shape): return torch.randn(*shape, generator=g, dtype=torch.float64)


def _params(g, n, n_in, nh):
    "Random float64 inputs, float targets and weights (course layout) for a n_in-nh-1 model."
    return _randn(g, n, n_in), _randn(g, n), _randn(g, n_in, nh), _randn(g, nh), _randn(g, nh, 1), _randn(g, 1)


def _autograd(x, y, w1, b1, w2, b2):
    ts = [t.clone().requires_grad_(True) for t in (x, w1, b1, w2, b2)]
    xa, w1a, b1a, w2a, b2a = ts
    loss = ((xa @ w1a + b1a).clamp_min(0) @ w2a + b2a).squeeze(-1).sub(y).pow(2).mean()
    loss.backward()
    return loss.detach(), [t.grad for t in ts]


# --- normalization ---------------------------------------------------------------------------------

def test_normalize_uses_given_stats():
    g = torch.Generator().manual_seed(0)
    x = _randn(g, 100, 5) * 3 + 2
    z = normalize(x, x.mean(), x.std())
    check_near_zero(z.mean(), 1e-6)
    check_near_zero(1 - z.std(), 1e-6)
    check_near(normalize(x, 2., 4.), (x - 2) / 4)
    with pytest.raises(ValueError): normalize(x, 0., 0.)


def test_normalize_refuses_a_zero_scale():
    with pytest.raises(ValueError, match='s must be non-zero'): normalize(torch.ones(3), 0., torch.tensor([1., 0., 2.]))


# --- gradients vs autograd ---------------------------------------------------------------------------

def _run_functions(x, y, w1, b1, w2, b2):
    return forward_and_backward(x, y, w1, b1, w2, b2)


def _run_classes(x, y, w1, b1, w2, b2):
    model = Model(w1, b1, w2, b2)
    loss = model(x, y)
    model.backward()
    return loss


@pytest.mark.parametrize('run', [_run_functions, _run_classes], ids=['forward_and_backward', 'Model'])
@settings(max_examples=30, deadline=None)
@given(n=dims, n_in=dims, nh=dims, seed=seeds)
def test_gradients_match_autograd(run, n, n_in, nh, seed):
    "Both hand-written backward passes, the functions and the layer classes, agree with autograd on every gradient."
    x, y, w1, b1, w2, b2 = _params(torch.Generator().manual_seed(seed), n, n_in, nh)
    loss = run(x, y, w1, b1, w2, b2)
    loss_ag, grads = _autograd(x, y, w1, b1, w2, b2)
    check_near(loss, loss_ag)
    for ours, theirs in zip([x.g, w1.g, b1.g, w2.g, b2.g], grads): check_near(ours, theirs)


@settings(max_examples=30, deadline=None)
@given(n=dims, n_in=dims, n_out=dims, seed=seeds)
def test_each_gradient_matches_autograd(n, n_in, n_out, seed):
    g = torch.Generator().manual_seed(seed)
    x, w, b, upstream = _randn(g, n, n_in), _randn(g, n_in, n_out), _randn(g, n_out), _randn(g, n, n_out)
    # lin
    xa, wa, ba = [t.clone().requires_grad_(True) for t in (x, w, b)]
    (lin(xa, wa, ba) * upstream).sum().backward()
    out = lin(x, w, b); out.g = upstream
    gx, gw, gb = lin_grad(x, out, w, b)
    for ours, theirs in [(gx, xa.grad), (gw, wa.grad), (gb, ba.grad), (x.g, xa.grad), (w.g, wa.grad), (b.g, ba.grad)]:
        check_near(ours, theirs)
    # relu, function and Module form
    up = _randn(g, n, n_in)
    xa = x.clone().requires_grad_(True)
    (relu(xa) * up).sum().backward()
    out = relu(x); out.g = up
    check_near(relu_grad(x, out), xa.grad)
    r = Relu(); out = r(x.clone()); out.g = up
    r.backward()
    check_near(r.args[0].g, xa.grad)
    # mse, with (n, 1) and (n,) outputs
    targ = _randn(g, n)
    for o in (_randn(g, n, 1), _randn(g, n)):
        oa = o.clone().requires_grad_(True)
        mse(oa, targ).backward()
        check_near(mse_grad(o, targ), oa.grad)
        m = Mse(); m(o, targ); m.backward()
        check_near(o.g, oa.grad)


def test_relu_grad_blocks_negative_inputs():
    x = torch.tensor([[-2., 0.5, 3., -0.1]])
    out = relu(x); out.g = torch.ones_like(out)
    check_near(relu_grad(x, out), torch.tensor([[0., 1., 1., 0.]]))


def test_backward_before_forward_or_out_of_order_is_clear():
    with pytest.raises(AttributeError, match="'out'"): Relu().backward()
    x = torch.randn(3, 2)
    with pytest.raises(AttributeError, match="'g'"): relu_grad(x, relu(x))


@pytest.mark.parametrize('g_shape', [(3, 1), (2,), (1, 2), (3, 2, 1)])
def test_relu_grad_refuses_a_gradient_that_would_broadcast(g_shape):
    "Broadcast, a gradient of the wrong shape would give a plausible-looking result; relu_grad refuses it."
    x = torch.randn(3, 2); out = relu(x); out.g = torch.ones(g_shape)
    with pytest.raises(ValueError, match=r'out\.g \(.*\) != inp \(3, 2\)'): relu_grad(x, out)


def test_gradient_descent_step_lowers_loss():
    g = torch.Generator().manual_seed(0)
    x, y, w1, b1, w2, b2 = _params(g, 64, 10, 8)
    loss0 = forward_and_backward(x, y, w1, b1, w2, b2)
    params = [w1, b1, w2, b2]
    lr = 1e-4
    stepped = [p - lr * p.g for p in params]
    loss1 = mse(lin(relu(lin(x, stepped[0], stepped[1])), stepped[2], stepped[3]), y)
    predicted = lr * sum((p.g ** 2).sum() for p in params)
    assert loss1 < loss0
    assert abs((loss0 - loss1) - predicted) < 0.05 * predicted


def test_module_matches_nn_module():
    torch.manual_seed(0)
    tm = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 1))
    x, y = torch.randn(9, 6), torch.randn(9)
    loss_nn = nn.functional.mse_loss(tm(x).squeeze(-1), y)
    loss_nn.backward()
    w1, b1 = tm[0].weight.detach().t().clone(), tm[0].bias.detach().clone()
    w2, b2 = tm[2].weight.detach().t().clone(), tm[2].bias.detach().clone()
    model = Model(w1, b1, w2, b2)
    check_near(model(x, y), loss_nn)
    model.backward()
    check_near(w1.g, tm[0].weight.grad.t()); check_near(b1.g, tm[0].bias.grad)
    check_near(w2.g, tm[2].weight.grad.t()); check_near(b2.g, tm[2].bias.grad)


def test_module_base_class_is_abstract():
    with pytest.raises(NotImplementedError): Module()(torch.zeros(1))


# --- shape errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('x_shape,w_shape,b_shape', [((5, 3), (4, 2), (2,)), ((5, 3), (3, 2), (3,))])
def test_lin_and_Lin_leave_shape_errors_to_torch(x_shape, w_shape, b_shape):
    "x that does not match w, or b that does not match w's outputs: PyTorch refuses them, naming the sizes."
    x, w, b = torch.zeros(x_shape), torch.zeros(w_shape), torch.zeros(b_shape)
    for f in (lambda: lin(x, w, b), lambda: Lin(w, b)(x)):
        with pytest.raises(RuntimeError, match=str(w_shape[1]) if b_shape[0] != w_shape[1] else 'shapes'): f()


def test_mse_refuses_broadcasting_shapes():
    with pytest.raises(ValueError, match=r'\(4, 4\)'): mse(torch.zeros(4, 4), torch.zeros(4))
    with pytest.raises(ValueError): mse(torch.zeros(4), torch.zeros(5))
    check_near(mse(torch.ones(4, 1), torch.zeros(4)), torch.tensor(1.))
    assert torch.isnan(mse(torch.zeros(0, 1), torch.zeros(0)))   # a mean over no samples, as in F.mse_loss


@settings(max_examples=20, deadline=None)
@given(n=dims, n_in=dims, n_out=dims, seed=seeds)
def test_lin_matches_nn_functional_linear(n, n_in, n_out, seed):
    g = torch.Generator().manual_seed(seed)
    x, w, b = _randn(g, n, n_in), _randn(g, n_in, n_out), _randn(g, n_out)
    check_near(lin(x, w, b), nn.functional.linear(x, w.t(), b))


# --- ReLU moments ----------------------------------------------------------------------------------------

def test_relu_moments_closed_forms():
    check_near(torch.tensor(relu_moments(1)), torch.tensor([1 / math.pi, 0.5]))
    check_near(torch.tensor(relu_moments(2)), torch.tensor([0.5, 1.0]))
    check_near(torch.tensor(relu_moments(512, normal=True)), torch.tensor([math.sqrt(512 / (2 * math.pi)), 256.]))
    check_near(torch.tensor(relu_moments(1, std=3.)), torch.tensor([3 / math.pi, 4.5]))
    assert isinstance(relu_moments(4), Moments)
    assert relu_moments(512, std=math.sqrt(2 / 512)).mean_sq == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(n_in=st.integers(1, 5000), std=st.floats(0.01, 100.))
def test_relu_moments_properties(n_in, std):
    ex, nm = relu_moments(n_in, std), relu_moments(n_in, std, normal=True)
    assert ex.mean_sq == pytest.approx(n_in * std ** 2 / 2) == nm.mean_sq
    assert ex.mean == pytest.approx(std * relu_moments(n_in).mean)      # linear in std
    assert 0 < ex.mean < nm.mean                                         # E sqrt(chi2) < sqrt(E chi2)
    assert ex.mean ** 2 < ex.mean_sq                                     # positive variance
    assert ex.mean / nm.mean > 1 - 1 / (2 * n_in)                        # approaches the CLT value


@pytest.mark.parametrize('n_in,std,seed', [(1, 1., 0), (1, 0.5, 1), (2, 1., 2), (3, 2., 3), (8, 1., 4),
                                           (64, 0.1, 5), (512, 1., 6), (512, math.sqrt(2 / 512), 7)])
def test_relu_moments_agree_with_monte_carlo(n_in, std, seed):
    ex = relu_moments(n_in, std)
    s = sample_relu_moments(n_in, std, n_samples=10_000, generator=torch.Generator().manual_seed(seed))
    assert isinstance(s, SampledMoments)
    assert abs(s.mean - ex.mean) < 4 * s.se_mean
    assert abs(s.mean_sq - ex.mean_sq) < 4 * s.se_mean_sq


def test_monte_carlo_rejects_the_normal_approximation_at_small_n():
    "The check above has power: at n_in=1 the CLT mean 1/sqrt(2*pi) is many standard errors off."
    s = sample_relu_moments(1, n_samples=10_000, generator=torch.Generator().manual_seed(0))
    assert abs(s.mean - relu_moments(1, normal=True).mean) > 4 * s.se_mean


def test_sample_relu_moments_is_reproducible_and_chunks_consistently():
    a = sample_relu_moments(3000, n_samples=700, generator=torch.Generator().manual_seed(0))
    b = sample_relu_moments(3000, n_samples=700, generator=torch.Generator().manual_seed(0))
    assert a == b
    assert all(math.isfinite(v) and v > 0 for v in a)


@pytest.mark.parametrize('kwargs,exc,name', [(dict(n_in=0), ValueError, 'n_in'), (dict(n_in=2.0), TypeError, 'n_in'),
                                              (dict(n_in=True), TypeError, 'n_in'), (dict(n_in=3, std=0.), ValueError, 'std'),
                                              (dict(n_in=3, std=-1.), ValueError, 'std'), (dict(n_in=3, std=math.inf), ValueError, 'std')])
def test_relu_moments_validate(kwargs, exc, name):
    with pytest.raises(exc, match=name): relu_moments(**kwargs)
    if name == 'n_in':
        with pytest.raises(exc, match=name): sample_relu_moments(**kwargs, n_samples=10)


def test_sample_relu_moments_validates_n_samples_and_bounds_memory():
    with pytest.raises(ValueError, match='n_samples'): sample_relu_moments(2, n_samples=1)
    with pytest.raises(TypeError, match='n_samples'): sample_relu_moments(2, n_samples=10.)
    with pytest.raises(ValueError, match='n_in'): sample_relu_moments(10**12, n_samples=2)   # would need terabytes


# --- kaiming_normal -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('shape,a', [((784, 50), 0.), ((512, 512), 0.), ((200, 300), 1.),
                                     ((100, 400), math.sqrt(5)), ((64, 3, 3, 40), 0.), ((1000, 20), -0.5)])
def test_kaiming_normal_std(shape, a):
    w = kaiming_normal(shape, a=a, generator=torch.Generator().manual_seed(0))
    assert w.shape == shape and w.dtype == torch.float32
    expected = math.sqrt(2 / (1 + a * a) / shape[0])
    assert w.std().item() == pytest.approx(expected, rel=0.05)
    check_near_zero(w.mean() / expected, 0.05)
    # PyTorch, given its own (out, in) layout in fan_in mode or ours in fan_out mode, gives the same std
    if len(shape) == 2:
        torch.manual_seed(0)
        theirs = nn.init.kaiming_normal_(torch.empty(shape[1], shape[0]), a=a, mode='fan_in')
        assert w.std().item() == pytest.approx(theirs.std().item(), rel=0.05)
        torch.manual_seed(0)
        theirs_fan_out = nn.init.kaiming_normal_(torch.empty(shape), a=a, mode='fan_out')
        assert w.std().item() == pytest.approx(theirs_fan_out.std().item(), rel=0.05)


def test_kaiming_normal_torch_fan_in_trap():
    "torch's fan_in mode on a course-layout (n_in, n_out) tensor uses n_out: a different std from ours."
    torch.manual_seed(0)
    trap = nn.init.kaiming_normal_(torch.empty(784, 50), mode='fan_in')
    assert trap.std().item() == pytest.approx(math.sqrt(2 / 50), rel=0.05)
    ours = kaiming_normal((784, 50), generator=torch.Generator().manual_seed(0))
    assert ours.std().item() == pytest.approx(math.sqrt(2 / 784), rel=0.05)


def test_kaiming_normal_explicit_fan_in_and_generator():
    w = kaiming_normal((100, 200), fan_in=200, generator=torch.Generator().manual_seed(0))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 200), rel=0.05)
    check_near(w, kaiming_normal([100, 200], fan_in=200, generator=torch.Generator().manual_seed(0)))
