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
dims = st.integers(min_value=1, max_value=7)          # small layer sizes and batch sizes
seeds = st.integers(min_value=0, max_value=2**31 - 1)  # seeds for torch.Generator

@st.composite
def mutated_bytes(draw, seeds):
    """One of the byte strings `seeds` with a few random edits: a byte flipped, a run overwritten with 0xff or 0x7f
    (which turns length and size fields huge), bytes inserted or deleted, or the end cut off."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(['flip', 'max', 'insert', 'delete', 'cut']))
        if kind == 'flip' and data: data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == 'max': data[i:i + draw(st.integers(1, 8))] = bytes([draw(st.sampled_from([0xff, 0x7f]))]) * draw(st.integers(1, 8))
        elif kind == 'insert': data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == 'delete': del data[i:i + draw(st.integers(1, 8))]
        elif kind == 'cut': del data[i:]
    return bytes(data)

def file_bytes(seeds):
    "Bytes for a file-reader fuzz test: random bytes, or mutations of the valid files `seeds`."
    return st.one_of(st.binary(max_size=200), mutated_bytes(seeds))

@st.composite
def image_batches(draw, min_values=1, max_n=5, max_c=6, max_side=6, double=True):
    """A `(N, C, H, W)` float tensor with at least `min_values` values per channel over (N, H, W), each channel with its
    own drawn offset and scale (so channels differ, as a drifting layer's activations do); float64 unless `double=False`."""
    n, h, w = draw(st.integers(1, max_n)), draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    n = max(n, -(-min_values // (h * w)))      # the fewest samples that give min_values per channel
    c = draw(st.integers(1, max_c))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
    scale = torch.empty(1, c, 1, 1, dtype=torch.float64).uniform_(0.1, 10., generator=g)
    offset = torch.empty(1, c, 1, 1, dtype=torch.float64).uniform_(-5., 5., generator=g)
    x = x * scale + offset
    return x if double else x.float()


@st.composite
def grouped_channels(draw, max_groups=4, max_per_group=3):
    "`(num_groups, nf)` with `num_groups` dividing `nf`."
    g, k = draw(st.integers(1, max_groups)), draw(st.integers(1, max_per_group))
    return g, g * k

# --- losses and mixup (test_mixup)
@st.composite
def logit_batches(draw, max_bs=6, max_positions=5):
    """`(logits, targets)`: float64 logits `(bs, c)` or `(bs, c, positions)` with 2, 3 or 10 classes, at a drawn scale
    (large ones make softmax near one-hot), and class-index targets of the matching shape."""
    bs, c = draw(st.integers(1, max_bs)), draw(st.sampled_from([2, 3, 10]))
    pos = () if draw(st.booleans()) else (draw(st.integers(1, max_positions)),)
    g = torch.Generator().manual_seed(draw(seeds))
    scale = draw(st.sampled_from([0.1, 1., 5., 20.]))
    return torch.randn(bs, c, *pos, generator=g, dtype=torch.float64) * scale, torch.randint(0, c, (bs, *pos), generator=g)

@st.composite
def mixup_batches(draw, max_n=12):
    """`(x, y)` for a small classifier: `n` samples (1 included) of flat rows, 1x3x3 images, or 3 channels at a few
    positions with one class index per position; 2 to 4 classes."""
    n, c, kind = draw(st.integers(1, max_n)), draw(st.integers(2, 4)), draw(st.sampled_from(['rows', 'images', 'positions']))
    g = torch.Generator().manual_seed(draw(seeds))
    shape = {'rows': (5,), 'images': (1, 3, 3), 'positions': (3, draw(st.integers(1, 4)))}[kind]
    y_shape = (n, shape[-1]) if kind == 'positions' else (n,)
    return torch.randn(n, *shape, generator=g), torch.randint(0, c, y_shape, generator=g)

# --- models to split (test_transfer)
@st.composite
def body_head_models(draw):
    """`nn.Sequential(body, head...)` as `adapt_model` makes it: a body of 1-3 blocks, each a convolution with or
    without bias, optionally batch norm (or, nested one level deeper, a block holding both), possibly a module with a
    parameter but no `weight`, possibly a layer used twice; then concat pooling's place, flatten and a linear head."""
    from torch import nn
    class Scale(nn.Module):                                   # a parameter that is not called `weight`
        def __init__(self, c): super().__init__(); self.g = nn.Parameter(torch.ones(1, c, 1, 1))
        def forward(self, x): return x * self.g
    c, blocks = 1, []
    for _ in range(draw(st.integers(1, 3))):
        nf = draw(st.integers(1, 4))
        block = [nn.Conv2d(c, nf, 3, padding=1, bias=draw(st.booleans()))]
        if draw(st.booleans()): block.append(nn.BatchNorm2d(nf))
        if draw(st.booleans()): block.append(Scale(nf))
        blocks.append(nn.Sequential(*block) if draw(st.booleans()) else nn.Sequential(nn.Sequential(*block)))
        c = nf
    if draw(st.booleans()):                                   # a layer shared by two places of the body
        shared = nn.Conv2d(c, c, 1)
        blocks += [shared, nn.ReLU(), shared]
    return nn.Sequential(nn.Sequential(*blocks), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 3))
