"Hypothesis strategies shared by the test files (one home, as minitorch's tests/strategies.py)."
import torch
from hypothesis import strategies as st

small_ints = st.integers(min_value=1, max_value=8)
finite_floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False, width=32)
positions = st.floats(min_value=0., max_value=1., exclude_max=True)

@st.composite
def shapes(draw, min_dims=1, max_dims=4, min_side=1, max_side=6):
    "A tensor shape as a tuple of ints."
    return tuple(draw(st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims)))

@st.composite
def float_tensors(draw, shape=None, lo=-10., hi=10.):
    "A float32 tensor of `shape` (drawn when None), filled from a drawn seed so examples shrink well."
    shape = draw(shapes()) if shape is None else shape
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    return torch.empty(shape).uniform_(lo, hi, generator=g)

# --- schedules (test_anneal) and statistics (test_foundations)
values = st.floats(-1e3, 1e3, allow_nan=False)                         # a schedule's start or end
positives = st.floats(1e-6, 1e3)                                       # sched_exp's start or end
closed_positions = st.floats(0., 1.)                                   # a schedule position, 1.0 included
finite64 = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)

import numpy as np
from hypothesis.extra.numpy import arrays
vectors64 = arrays(np.float64, st.integers(2, 40), elements=finite64)                       # paired-statistics inputs
logit_rows = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 8)), elements=st.floats(-50, 50))
