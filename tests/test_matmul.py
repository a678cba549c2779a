"Tests for course_lib.matmul: the four hand-written matrix products against torch.matmul, and their argument checks."
import pytest
import torch
from hypothesis import given, strategies as st
from torch.testing import assert_close

from course_lib.matmul import _sizes, matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum
from strategies import small_ints as sizes

VARIANTS = [matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum]
ids = [f.__name__ for f in VARIANTS]

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
    if dtype.is_floating_point: assert_close(res, ref, rtol=1e-3, atol=1e-5)
    else: assert torch.equal(res, ref), (res, ref)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
@pytest.mark.parametrize('dtype', [torch.int32, torch.int8, torch.float16])
def test_other_dtypes_keep_matmul_dtype(f, dtype):
    gen = torch.Generator().manual_seed(0)
    a, b = make((3, 4), dtype, gen), make((4, 2), dtype, gen)
    res, ref = f(a, b), a @ b
    assert res.dtype == ref.dtype
    if dtype.is_floating_point: assert_close(res, ref, rtol=1e-2, atol=1e-2)   # half precision: ~3 digits
    else: assert torch.equal(res, ref)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
def test_non_contiguous_inputs(f):
    a, b = torch.randn(6, 4)[::2], torch.randn(5, 4).T   # strided row view, transposed
    assert not a.is_contiguous() and not b.is_contiguous()
    assert_close(f(a, b), a @ b, rtol=1e-3, atol=1e-5)

@pytest.mark.parametrize('f', VARIANTS, ids=ids)
@pytest.mark.parametrize('m,k,n', [(0, 3, 2), (2, 0, 3), (2, 3, 0)])
def test_empty_dimensions(f, m, k, n):
    a, b = torch.randn(m, k), torch.randn(k, n)
    res = f(a, b)
    assert res.shape == (m, n) and torch.equal(res, a @ b)

LOOPS = [matmul_loops, matmul_elementwise, matmul_broadcast]

@pytest.mark.parametrize('f', LOOPS + [_sizes], ids=ids[:3] + ['_sizes'])
@pytest.mark.parametrize('sa,sb', [((2, 3), (4, 5)), ((3,), (3, 2)), ((2, 3), (3,)),
                                   ((2, 2, 3), (3, 2)), ((2, 3), (1, 3, 2)), ((), (1, 1))])
def test_bad_shapes_raise_value_error_naming_both(f, sa, sb):
    with pytest.raises(ValueError) as e: f(torch.ones(sa), torch.ones(sb))
    msg = str(e.value)
    assert str(tuple(sa)) in msg and str(tuple(sb)) in msg

@pytest.mark.parametrize('f', LOOPS, ids=ids[:3])
@pytest.mark.parametrize('sa,sb', [((2, 2), (3, 4)), ((2, 1), (3, 4))])
def test_inner_sizes_that_would_pass_silently_are_refused(f, sa, sb):
    "Without the check, a loop over a's k columns ignores b's extra rows, and a size-1 k broadcasts: wrong, no error."
    with pytest.raises(ValueError, match='cannot multiply'): f(torch.ones(sa), torch.ones(sb))

@pytest.mark.parametrize('f', LOOPS, ids=ids[:3])
def test_mixed_dtypes_raise_instead_of_converting(f):
    "An integer `a` times a float `b` would be written into an integer result, truncated; torch.matmul refuses it too."
    a, b = torch.ones(2, 3, dtype=torch.int64), torch.full((3, 2), 0.5)
    with pytest.raises(RuntimeError): a @ b
    with pytest.raises(ValueError, match='torch.int64.*torch.float32'): f(a, b)

def test_einsum_leaves_the_checks_to_torch():
    with pytest.raises(RuntimeError): matmul_einsum(torch.ones(2, 3), torch.ones(4, 5))
    with pytest.raises(RuntimeError): matmul_einsum(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))

def test_sizes_returns_sizes():
    assert _sizes(torch.ones(2, 3), torch.ones(3, 4)) == (2, 3, 4)


def test_float_results_are_not_exact_but_close():
    "The hand-written sums add in a different order from BLAS: close, and the check above has to allow for it."
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 784, generator=gen), torch.randn(784, 10, generator=gen)
    for f in VARIANTS:
        assert_close(f(a, b), a @ b, rtol=1e-3, atol=1e-4)
    with pytest.raises(AssertionError): assert_close(matmul_einsum(a, b) + 1e-2, a @ b, rtol=1e-3, atol=1e-4)
