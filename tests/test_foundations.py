"Tests for course_lib.foundations: statistics vs torch/numpy, softmax properties, binary cross-entropy vs PyTorch."
import math
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, assume, settings, strategies as st
from hypothesis.extra.numpy import arrays

from course_lib.foundations import (variance, std, mean_abs_dev, covariance, correlation,
                                    softmax, binary_cross_entropy)

from strategies import finite64 as finite, vectors64 as vectors, logit_rows


def t64(a): return torch.from_numpy(np.asarray(a, dtype=np.float64))


# --- statistics -------------------------------------------------------------

@given(vectors, st.sampled_from([0, 1]))
def test_variance_std_match_numpy_and_torch(a, c):
    x = t64(a)
    np.testing.assert_allclose(variance(x, correction=c).item(), np.var(a, ddof=c), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(std(x, correction=c).item(), np.std(a, ddof=c), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(variance(x, correction=c), x.var(correction=c))


@given(vectors)
def test_mean_abs_dev_matches_numpy(a):
    np.testing.assert_allclose(mean_abs_dev(t64(a)).item(), np.mean(np.abs(a - a.mean())), rtol=1e-9, atol=1e-9)


@given(arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(2, 5)), elements=finite),
       st.sampled_from([0, 1, -1]), st.sampled_from([0, 1]))
def test_statistics_along_a_dim(a, dim, c):
    x = t64(a)
    torch.testing.assert_close(variance(x, dim=dim, correction=c), x.var(dim=dim, correction=c))
    torch.testing.assert_close(std(x, dim=dim, correction=c), x.std(dim=dim, correction=c))
    torch.testing.assert_close(mean_abs_dev(x, dim=dim), (x - x.mean(dim, keepdim=True)).abs().mean(dim))


def test_variance_population_vs_sample_and_int_input():
    assert variance([1, 2, 3, 4]).item() == pytest.approx(1.25)
    assert variance([1, 2, 3, 4], correction=1).item() == pytest.approx(5 / 3)
    assert variance(torch.tensor([1., 3.]), correction=1).item() == pytest.approx(2.0)


@given(arrays(np.float64, st.integers(3, 40), elements=st.floats(-10, 10)),
       st.sampled_from([0., 1e2, 1e3, 1e4]))
def test_variance_is_stable_in_float32_with_large_offset(a, offset):
    x = torch.from_numpy(a + offset).float()            # the values as float32 actually stores them
    ref = np.var(x.double().numpy())                     # exact-ish reference on those same values
    assume(ref > 0.1)
    np.testing.assert_allclose(variance(x).item(), ref, rtol=1e-3)
    np.testing.assert_allclose(std(x).item(), math.sqrt(ref), rtol=1e-3)


def test_naive_formula_fails_where_two_pass_does_not():
    torch.manual_seed(1)
    x = torch.randn(1000) + 1e4
    ref = x.double().var(correction=0).item()
    naive = ((x * x).mean() - x.mean() ** 2).item()
    assert abs(naive - ref) / ref > 0.5                  # the test can fail: naive really is wrong here
    assert abs(variance(x).item() - ref) / ref < 1e-5


@given(vectors, st.data(), st.sampled_from([0, 1]))
def test_covariance_matches_numpy_and_torch(a, data, c):
    b = data.draw(arrays(np.float64, len(a), elements=finite))
    x, y = t64(a), t64(b)
    np.testing.assert_allclose(covariance(x, y, correction=c).item(), np.cov(a, b, ddof=c)[0, 1], rtol=1e-7, atol=1e-6)
    torch.testing.assert_close(covariance(x, y, correction=c), torch.cov(torch.stack([x, y]), correction=c)[0, 1])
    # E[XY] - E[X]E[Y] form (exact in float64 for these magnitudes)
    if c == 0: np.testing.assert_allclose(covariance(x, y).item(), (a * b).mean() - a.mean() * b.mean(), rtol=1e-6, atol=1e-4)
    torch.testing.assert_close(covariance(x, x, correction=c), variance(x, correction=c))


@given(vectors, st.data())
def test_correlation_matches_numpy_and_is_bounded(a, data):
    b = data.draw(arrays(np.float64, len(a), elements=finite))
    assume(np.std(a) > 1e-3 and np.std(b) > 1e-3)
    r = correlation(t64(a), t64(b)).item()
    assert -1 <= r <= 1
    np.testing.assert_allclose(r, np.corrcoef(a, b)[0, 1], rtol=1e-6, atol=1e-9)


@given(vectors, st.floats(0.1, 10) | st.floats(-10, -0.1), st.floats(-100, 100))
def test_correlation_of_linear_function_is_sign_of_slope(a, slope, intercept):
    assume(np.std(a) > 1e-2)
    x = t64(a)
    assert correlation(x, slope * x + intercept).item() == pytest.approx(math.copysign(1, slope), abs=1e-9)


def test_pairs_of_different_shapes_are_refused_even_when_the_sizes_match():
    "(2, 3) against (3, 2) would flatten into six wrong pairs without a word: refused, naming both shapes."
    a, b = torch.arange(6.).reshape(2, 3), torch.arange(6.).reshape(3, 2)
    for f in (covariance, correlation):
        with pytest.raises(ValueError, match=r'\(2, 3\), \(3, 2\)'): f(a, b)


def test_statistics_answer_like_torch_where_they_do_not_check():
    "No check where torch answers the same way: an out-of-range dim is torch's IndexError, a constant gives nan."
    with pytest.raises(IndexError, match='range'): variance(torch.ones(2, 3), dim=2)
    assert torch.isnan(correlation(torch.ones(5), torch.arange(5.)))
    assert torch.isnan(variance(torch.tensor([]))) and torch.isnan(torch.tensor([]).var(correction=0))


# --- softmax ----------------------------------------------------------------


@given(logit_rows, st.floats(-1e6, 1e6))
def test_softmax_ignores_a_common_offset(a, c):
    x = t64(a)
    torch.testing.assert_close(softmax(x + c), softmax(x), rtol=1e-6, atol=1e-8)


@given(arrays(np.float32, st.integers(1, 8), elements=st.floats(-50, 50, width=32)), st.floats(-100, 100))
def test_softmax_offset_float32(a, c):
    x = torch.from_numpy(a)
    torch.testing.assert_close(softmax(x + c), softmax(x), rtol=0, atol=1e-4)


@given(logit_rows, st.sampled_from([0, 1, -1]))
def test_softmax_sums_to_one_and_matches_torch(a, dim):
    x = t64(a)
    p = softmax(x, dim=dim)
    assert (p >= 0).all()
    torch.testing.assert_close(p.sum(dim), torch.ones_like(p.sum(dim)))
    torch.testing.assert_close(p, F.softmax(x, dim=dim))


def test_softmax_survives_huge_logits():
    p = softmax(torch.tensor([1000., 999., -1000.]))
    assert torch.isfinite(p).all()
    torch.testing.assert_close(p, F.softmax(torch.tensor([1., 0., -1999.]), dim=0))


def test_softmax_edge_cases_match_pytorch():
    torch.testing.assert_close(softmax(torch.tensor(3.)), F.softmax(torch.tensor(3.), dim=-1))
    with pytest.raises(IndexError, match='non-zero size'): softmax(torch.tensor([]))
    with pytest.raises(IndexError, match='range'): softmax(torch.ones(2, 3), dim=2)


# --- binary cross-entropy ---------------------------------------------------

@given(st.integers(1, 20).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=st.floats(-100, 100)),
    arrays(np.float64, n, elements=st.floats(0, 1)))))
def test_bce_matches_pytorch(xt):
    x, t = t64(xt[0]), t64(xt[1])
    torch.testing.assert_close(binary_cross_entropy(x, t), F.binary_cross_entropy_with_logits(x, t))


def test_bce_matches_sigmoid_formula_for_moderate_logits():
    torch.manual_seed(0)
    x, t = torch.randn(6, 5) * 3, (torch.rand(6, 5) > 0.5).float()
    s = torch.sigmoid(x)
    torch.testing.assert_close(binary_cross_entropy(x, t), -(t * s.log() + (1 - t) * (1 - s).log()).mean())


def test_bce_extreme_logits_are_finite():
    x = torch.tensor([-200., 200.])
    assert binary_cross_entropy(x, torch.tensor([0., 1.])).item() == pytest.approx(0, abs=1e-6)
    assert binary_cross_entropy(x, torch.tensor([1., 0.])).item() == pytest.approx(200)


def test_bce_rejects_bad_input():
    with pytest.raises(ValueError, match=r'\(2, 3\), \(3, 2\)'): binary_cross_entropy(torch.ones(2, 3), torch.ones(3, 2))
    with pytest.raises(ValueError, match=r'\(4, 1\), \(4,\)'): binary_cross_entropy(torch.ones(4, 1), torch.ones(4))  # would broadcast
    with pytest.raises(ValueError, match=r'\[0, 1\]'): binary_cross_entropy(torch.zeros(3), torch.tensor([0., 2., 1.]))


# --- __setattr__ and super() (05a, section 3) -------------------------------

def test_dummy_module_hands_every_assignment_on_with_super():
    "A mix-in after DummyModule in the MRO sees every assignment; `self.__dict__[k] = v` in its place would skip it."
    from course_lib.minibatch import DummyModule
    seen = []
    class Spy:
        def __setattr__(self, k, v):
            seen.append(k)
            super().__setattr__(k, v)
    class SpiedModule(DummyModule, Spy): pass
    assert SpiedModule.__mro__[1:3] == (DummyModule, Spy)
    m = SpiedModule(4, 3, 2)
    m.name = 'spied'
    assert seen == ['_modules', 'l1', 'l2', 'name']
    assert list(m._modules) == ['l1', 'l2'] and m.name == 'spied' and len(list(m.parameters())) == 4


def test_a_property_setter_on_a_subclass_of_dummy_module_still_runs():
    "object.__setattr__ (reached through super()) honours a property's setter; writing __dict__ directly would not."
    from course_lib.minibatch import DummyModule
    class Scaled(DummyModule):
        @property
        def scale(self): return self._scale
        @scale.setter
        def scale(self, v): super().__setattr__('_scale', float(v))
    m = Scaled(4, 3, 2)
    m.scale = 2
    assert m.scale == 2.0 and isinstance(m.scale, float) and 'scale' not in m.__dict__
