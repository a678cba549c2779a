"Tests for course_lib.matmul: the four hand-written matrix products and the test helpers."
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from course_lib import matmul as mm   # module import: pytest would collect `test*` names imported directly
from course_lib.matmul import (near, check_matmul_args,
                               matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum)

VARIANTS = [matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum]
ids = [f.__name__ for f in VARIANTS]
sizes = st.integers(1, 8)

def make(shape, dtype, gen):
    "A random tensor: small ints in [-9, 9] for integer dtypes, standard normal for floats."
    if dtype.is_floating_point: return torch.randn(*shape, generator=gen, dtype=dtype)
    return torch.randint(-9, 10, shape, generator=gen, dtype=dtype)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
@given(m=sizes, k=sizes, n=sizes, dtype=st.sampled_from([torch.float32, torch.float64, torch.int64]),
       seed=st.integers(0, 2**32 - 1))
def test_variants_match_torch_matmul(f, m, k, n, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    a, b = make((m, k), dtype, gen), make((k, n), dtype, gen)
    res, ref = f(a, b), torch.matmul(a, b)
    assert res.dtype == ref.dtype and res.shape == ref.shape
    if dtype.is_floating_point: assert near(res, ref), (res, ref)
    else: assert torch.equal(res, ref), (res, ref)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
@pytest.mark.parametrize('dtype', [torch.int32, torch.int8, torch.float16])
def test_other_dtypes_keep_matmul_dtype(f, dtype):
    gen = torch.Generator().manual_seed(0)
    a, b = make((3, 4), dtype, gen), make((4, 2), dtype, gen)
    res, ref = f(a, b), a @ b
    assert res.dtype == ref.dtype
    if dtype.is_floating_point: assert near(res, ref, rtol=1e-2, atol=1e-2)   # half precision: ~3 digits
    else: assert torch.equal(res, ref)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
def test_non_contiguous_inputs(f):
    a, b = torch.randn(6, 4)[::2], torch.randn(5, 4).T   # strided row view, transposed
    assert not a.is_contiguous() and not b.is_contiguous()
    mm.test_near(f(a, b), a @ b)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
@pytest.mark.parametrize('m,k,n', [(0, 3, 2), (2, 0, 3), (2, 3, 0)])
def test_empty_dimensions(f, m, k, n):
    a, b = torch.randn(m, k), torch.randn(k, n)
    mm.test_eq(f(a, b), a @ b)

@pytest.mark.parametrize('f', VARIANTS + [check_matmul_args], ids=ids + ['check_matmul_args'])
@pytest.mark.parametrize('sa,sb', [((2, 3), (4, 5)), ((3,), (3, 2)), ((2, 3), (3,)),
                                   ((2, 2, 3), (3, 2)), ((2, 3), (1, 3, 2)), ((), (1, 1))])
def test_bad_shapes_raise_value_error_naming_both(f, sa, sb):
    with pytest.raises(ValueError) as e: f(torch.ones(sa), torch.ones(sb))
    msg = str(e.value)
    assert str(tuple(sa)) in msg and str(tuple(sb)) in msg

@pytest.mark.parametrize('f', VARIANTS + [check_matmul_args], ids=ids + ['check_matmul_args'])
@pytest.mark.parametrize('a,b', [([[1., 2.]], torch.ones(2, 1)), (torch.ones(1, 2), np.ones((2, 1))),
                                 (None, torch.ones(2, 1)), (torch.ones(1, 2), 3.0)])
def test_non_tensors_raise_type_error(f, a, b):
    with pytest.raises(TypeError, match='torch.Tensor'): f(a, b)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
def test_mixed_or_bool_dtypes_raise_type_error(f):
    with pytest.raises(TypeError, match='dtype'): f(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match='bool'): f(torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool))

def test_check_matmul_args_returns_sizes():
    assert check_matmul_args(torch.ones(2, 3), torch.ones(3, 4)) == (2, 3, 4)

# --- the test helpers

def test_test_uses_the_comparison_and_names_it():
    mm.test(1, 2, lambda a, b: a < b)
    with pytest.raises(AssertionError, match='less'): mm.test(2, 1, lambda a, b: a < b, 'less')

def test_test_eq_passes_on_equal_and_fails_otherwise():
    mm.test_eq(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 3]))
    mm.test_eq(torch.tensor([1., 2.], requires_grad=True), torch.tensor([1., 2.]))  # gradients ignored
    mm.test_eq([1, 'a'], [1, 'a'])
    mm.test_eq(torch.tensor([1, 2]), torch.tensor([1., 2.]))      # values compared in the common dtype
    for a, b in [(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])), (torch.ones(2), torch.ones(3)),
                 (torch.ones(1), torch.ones(3)), (torch.ones(2, 3), torch.ones(3, 2)), (torch.ones(2), 'ab'), (1, 2)]:
        with pytest.raises(AssertionError): mm.test_eq(a, b)

def test_near_tolerances():
    x = torch.tensor([1., 100., 0.])
    assert near(x, x + torch.tensor([5e-4, 5e-2, 5e-6]))          # within rtol=1e-3 / atol=1e-5
    assert not near(x, x + torch.tensor([0., 0.2, 0.]))           # 2e-3 relative: too far
    assert not near(torch.zeros(1), torch.tensor([1e-4]))          # beyond atol
    assert near(torch.tensor([1.], dtype=torch.float64), torch.tensor([1.]))   # mixed dtypes
    assert near(torch.tensor([1, 2]), torch.tensor([1., 2.]))      # int vs float
    assert near(torch.tensor([1.], requires_grad=True), [1.])      # autograd tensors, sequences
    assert not near(torch.ones(1), torch.ones(3))                  # no broadcasting
    assert not near(torch.ones(2, 3), torch.ones(3, 2))

@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20))
def test_near_is_reflexive(xs):
    t = torch.tensor(xs, dtype=torch.float64)
    assert near(t, t) and near(t, t.float())

def test_test_near_passes_on_match_and_raises_on_mismatch():
    mm.test_near(torch.tensor([1., 2.]), torch.tensor([1.0000001, 2.]))
    with pytest.raises(AssertionError, match='near'): mm.test_near(torch.tensor([1., 2.]), torch.tensor([1., 2.1]))
    with pytest.raises(AssertionError): mm.test_near(torch.ones(1), torch.ones(2))
