"Tests of course_lib.augmentation: PIL transforms against PIL, batch transforms against F.affine_grid and torch.rot90."
import math, random, warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from PIL import Image

from course_lib.augmentation import *
from course_lib.data_block import (compose, to_byte_tensor, to_float_tensor, ImageList, TUXPAINT_DIR,
                                   tuxpaint_folder)
from strategies import seeds
from data_helpers import isolated   # noqa: F401 (a fixture: an empty cache folder)

def photo(w=40, h=30, seed=0, mode='RGB'):
    "A random image of `w` by `h` pixels."
    a = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(a).convert(mode)

def batch(n=4, c=3, h=12, w=12, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))

# --- per image, PIL

def test_np_to_float_is_the_byte_then_float_pair():
    for im in (photo(), photo(mode='L'), photo(mode='RGBA')):
        t = np_to_float(im)
        assert t.dtype == torch.float32 and t.is_contiguous()
        assert torch.equal(t, to_float_tensor(to_byte_tensor(im)))
    assert np_to_float._order == 30

def test_transforms_run_in_order_between_rgb_and_tensor():
    tfms = [np_to_float, PilRandomFlip(1.), CenterCrop(8)]
    out = compose(photo(), tfms)
    assert out.shape == (3, 8, 8)
    assert PilTransform._order == 11 and all(t._order == 11 for t in tfms[1:])

def test_flip():
    im = photo()
    assert np.array_equal(np.asarray(PilRandomFlip(1.)(im)), np.asarray(im)[:, ::-1])
    assert PilRandomFlip(0.)(im) is im

@pytest.mark.parametrize('p', [-0.1, 1.5, 50])
def test_probabilities_are_checked(p):
    for cls in (PilRandomFlip, PilRandomDihedral):
        with pytest.raises(ValueError, match='p must be'): cls(p)

def test_dihedral_draws_each_symmetry_of_the_square():
    im = photo(9, 9)
    group = [np.asarray(im.transpose(k)) for k in Image.Transpose] + [np.asarray(im)]
    random.seed(0)
    seen = set()
    for _ in range(200):
        out = np.asarray(PilRandomDihedral(1.)(im))
        matches = [i for i, g in enumerate(group) if np.array_equal(out, g)]
        assert matches, 'not one of the 8 symmetries'
        seen.update(matches)
    assert seen == set(range(8))
    assert PilRandomDihedral(0.)(im) is im

def test_sizes_and_crop_corners():
    assert process_sz(5) == (5, 5) and process_sz([4, 6]) == (4, 6)
    assert default_crop_size(40, 30) == [30, 30] and default_crop_size(30, 40) == [30, 30]
    assert GeneralCrop(10)(photo()).size == (10, 10)
    assert GeneralCrop((10, 6), crop_size=20).get_corners(40, 30, 20, 20) == (0, 0, 20, 20)
    assert CenterCrop(10, scale=2).get_corners(40, 30, 20, 15) == (10, 7.5, 30, 22.5)

def test_general_crop_is_crop_then_resize():
    "With NEAREST, one EXTENT transform samples what a crop and an exact 2x reduction sample."
    im = photo(40, 30)
    out = GeneralCrop(10, crop_size=20, resample=Image.Resampling.NEAREST)(im)
    assert np.array_equal(np.asarray(out), np.asarray(im)[0:20:2, 0:20:2]) or \
           np.array_equal(np.asarray(out), np.asarray(im)[1:20:2, 1:20:2])

def test_center_crop_is_symmetric():
    a = np.zeros((30, 40, 3), np.uint8)
    a[:, 20:] = 255                                   # right half white: a centred crop is half white too
    out = np.asarray(CenterCrop(20, scale=2, resample=Image.Resampling.NEAREST)(Image.fromarray(a)))
    assert (out[:, :10] == 0).all() and (out[:, 10:] == 255).all()

def _feasible(w, h, scale, ratio):
    "Whether some box inside a `w` by `h` image meets both bounds: the largest box of allowed shape is big enough."
    r = min(max(w / h, ratio[0]), ratio[1])
    return min(w * w / r, h * h * r) >= scale[0] * w * h * (1 - 1e-12)

@settings(deadline=None, max_examples=60)
@given(w=st.integers(1, 800), h=st.integers(1, 800), lo=st.floats(0.01, 1), frac=st.floats(0, 1),
       rlo=st.floats(0.2, 3), rspan=st.floats(1, 4), seed=seeds)
def test_random_resized_crop_stays_within_scale_and_ratio(w, h, lo, frac, rlo, rspan, seed):
    "Every box is inside the image, has its width/height in `ratio`, and (when any box can) its area in `scale`."
    scale, ratio = (lo, lo + frac * (1 - lo)), (rlo, rlo * rspan)
    rrc = RandomResizedCrop(8, scale, ratio)
    random.seed(seed)
    for _ in range(5):
        l, t, r, b = rrc.get_corners(w, h, None, None)
        eps = 1e-9 * max(w, h)
        assert -eps <= l < r <= w + eps and -eps <= t < b <= h + eps
        assert ratio[0] * (1 - 1e-9) <= (r - l) / (b - t) <= ratio[1] * (1 + 1e-9)
        assert (r - l) * (b - t) <= scale[1] * w * h * (1 + 1e-9)
        if _feasible(w, h, scale, ratio): assert (r - l) * (b - t) >= scale[0] * w * h * (1 - 1e-9)

def test_random_resized_crop_2019_bugs():
    "2019: failed draws shrank the next box below `scale`, and the fallback crashed on `crop_size=None`."
    random.seed(0)
    rrc = RandomResizedCrop(8, scale=(0.6, 1.))               # in a 200x100 image most draws do not fit
    areas = [(r - l) * (b - t) / 20000 for l, t, r, b in (rrc.get_corners(200, 100) for _ in range(500))]
    assert min(areas) >= 0.6 * (1 - 1e-9)
    box = RandomResizedCrop(8, scale=(0.9, 1.))(photo(400, 20))   # no box of ratio <= 4/3 fits: the fallback
    assert box.size == (8, 8)

@pytest.mark.parametrize('scale,ratio', [((0.5, 0.1), (0.75, 1.33)), ((0, 1), (0.75, 1.33)), ((0.1, 1.5), (1, 1)),
                                         ((0.1, 1), (1.33, 0.75)), ((0.1, 1), (0, 1))])
def test_random_resized_crop_bad_bounds(scale, ratio):
    with pytest.raises(ValueError, match='scale|ratio'): RandomResizedCrop(8, scale, ratio)

def _perspective(c, x, y):
    a, b, c0, d, e, f, g, h = c
    return (a * x + b * y + c0) / (g * x + h * y + 1), (d * x + e * y + f) / (g * x + h * y + 1)

@settings(deadline=None, max_examples=40)
@given(st.lists(st.floats(-20, 20), min_size=8, max_size=8), st.integers(8, 3000), st.integers(8, 3000))
def test_find_coeffs_maps_the_four_corners(jitter, w, h):
    "The perspective map sends each output corner to its source corner, for boxes up to 3000 pixels (float64)."
    targ = ((0, 0), (0, h), (w, h), (w, 0))
    src = [(x + dx * w / 100, y + dy * h / 100) for (x, y), dx, dy in zip(targ, jitter[::2], jitter[1::2])]
    c = find_coeffs(src, targ)
    for t, s in zip(targ, src):
        assert _perspective(c, *t) == pytest.approx(s, abs=1e-6 * max(w, h))

def test_warp_of_a_straight_box_is_the_crop():
    im = photo(40, 30)
    box = ((10, 5), (10, 25), (30, 25), (30, 5))
    out = warp(im, (20, 20), box, resample=Image.Resampling.NEAREST)
    assert np.array_equal(np.asarray(out), np.asarray(im)[5:25, 10:30])

def test_tilt_never_pads():
    random.seed(0)
    white = Image.new('RGB', (60, 40), 'white')
    for mag in (0.1, 0.5, 2.):
        for _ in range(20):
            out = np.asarray(PilTiltRandomCrop(16, 30, magnitude=mag, resample=Image.Resampling.NEAREST)(white))
            assert out.shape == (16, 16, 3) and out.min() == 255

def test_tilt_without_magnitude_is_a_crop():
    random.seed(1)
    im = photo(40, 30)
    out = np.asarray(PilTiltRandomCrop(20, 20, resample=Image.Resampling.NEAREST)(im))
    a = np.asarray(im)
    assert any(np.array_equal(out, a[t:t + 20, l:l + 20]) for t in range(11) for l in range(21))

# --- per batch, tensors

@settings(deadline=None, max_examples=40)
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), align=st.booleans(), ident=st.booleans(), seed=seeds)
def test_affine_grid_is_torchs(n, h, w, align, ident, seed):
    m = torch.randn(n, 3, 3, generator=torch.Generator().manual_seed(seed))
    x = torch.zeros(n, 2, 5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')          # torch warns about unit-size grids with align_corners=True
        ref = F.affine_grid(torch.eye(3)[:2].expand(n, 2, 3) if ident else m[:, :2], (n, 2, h, w), align_corners=align)
    ours = affine_grid(x, (h, w), None if ident else m, align_corners=align)
    assert ours.shape == (n, h, w, 2)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)

@pytest.mark.parametrize('deg,k', [(90, 1), (180, 2), (270, 3), (-90, -1), (0, 0)])
def test_right_angle_rotation_is_rot90(deg, k):
    x = batch(h=10, w=10)
    out = transform_batch(x, rotation_matrix(torch.full((len(x),), float(deg))))
    torch.testing.assert_close(out, torch.rot90(x, k, (2, 3)), rtol=0, atol=1e-4)

def test_dihedral_codes_are_pils_transpose():
    im = photo(9, 9)
    x = np_to_float(im).expand(8, -1, -1, -1)
    out = transform_batch(x, dihedral_matrix(torch.arange(8)))
    for k in Image.Transpose: torch.testing.assert_close(out[k.value], np_to_float(im.transpose(k)), rtol=0, atol=1e-5)
    torch.testing.assert_close(out[7], x[0], rtol=0, atol=1e-5)

def test_matrices_compose():
    "Two moves in one product: one sampling does what two do (here exactly, on pixel centres)."
    x = batch(n=8, h=8, w=8)
    k, t = torch.arange(8), torch.full((8,), 90.)
    both = transform_batch(x, rotation_matrix(t) @ dihedral_matrix(k))
    torch.testing.assert_close(both, transform_batch(transform_batch(x, rotation_matrix(t)), dihedral_matrix(k)),
                               rtol=0, atol=1e-4)

def test_rotation_matrix_leaves_its_argument_alone():
    t = torch.tensor([30., -45.])
    m = rotation_matrix(t)
    assert torch.equal(t, torch.tensor([30., -45.]))          # 2019's `thetas.mul_` turned them into radians
    torch.testing.assert_close(m[0, :2, :2], torch.tensor([[math.sqrt(3) / 2, -0.5], [0.5, math.sqrt(3) / 2]]))

def test_rotate_batch():
    x = batch()
    torch.testing.assert_close(rotate_batch(x, 12, 0), x, rtol=0, atol=1e-5)
    assert rotate_batch(x, (6, 9), 30).shape == (4, 3, 6, 9)
    torch.manual_seed(0)
    a = rotate_batch(x, 12, 30)
    torch.manual_seed(0)
    assert torch.equal(a, rotate_batch(x, 12, 30))             # torch's seed repeats it
    same = rotate_batch(x[:1].expand(4, -1, -1, -1), 12, 30)
    assert not torch.allclose(same[0], same[1])                 # each image gets its own angle

def test_rotate_batch_angles_are_within_degrees():
    "A square batch of identical images, rotated: the angle of each is recovered from where a corner dot went."
    x = torch.zeros(64, 1, 21, 21)
    x[:, :, 10, 17] = 1.                                       # a dot 7 pixels right of the centre
    torch.manual_seed(0)
    out = rotate_batch(x, 21, 20, mode='nearest')
    idx = out.view(64, -1).argmax(1)
    ys, xs = idx // 21 - 10, idx % 21 - 10
    angles = torch.rad2deg(torch.atan2(-ys.float(), xs.float()))  # counter-clockwise on screen: rows go down
    assert angles.abs().max() <= 20 + 360 / (2 * math.pi * 7)   # within the range, up to a pixel's angle
    assert angles.max() > 5 and angles.min() < -5

def test_dihedral_batch():
    x = batch(n=32, h=6, w=6)
    torch.testing.assert_close(dihedral_batch(x, p=0.), x, rtol=0, atol=1e-5)
    torch.manual_seed(0)
    out = dihedral_batch(x, p=1.)
    for i in range(32):
        cands = transform_batch(x[i:i + 1].expand(8, -1, -1, -1), dihedral_matrix(torch.arange(8)))
        assert ((cands - out[i]).abs().amax((1, 2, 3)) < 1e-5).any()

def test_batch_augment_callback_transforms_training_batches_only():
    from functools import partial
    from torch import nn
    from course_lib.callbacks import Callback, DataBunch
    from course_lib.cnn import get_runner
    from course_lib.minibatch import Dataset, get_dls
    seen = []
    class Record(Callback):
        _order = 5
        def after_pred(self): seen.append((self.in_train, self.xb.abs().sum().item()))
    ds = Dataset(torch.ones(8, 1, 4, 4), torch.zeros(8, dtype=torch.long))
    learn, run = get_runner(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), DataBunch(*get_dls(ds, ds, bs=4), c=2),
                            lr=0.1, cbs=[partial(BatchAugmentCallback, lambda xb: xb * 0), Record()])
    run.logger = lambda line: None
    run.fit(1, learn)
    assert [t for t, _ in seen] == [True, True, False]
    assert [s == 0 for _, s in seen] == [True, True, False]      # zeroed in training, untouched in validation

@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
def test_on_cuda_as_on_the_cpu():
    x = batch()
    m = rotation_matrix(torch.tensor([10., -20., 30., 45.]))
    torch.testing.assert_close(transform_batch(x.cuda(), m.cuda()).cpu(), transform_batch(x, m), rtol=0, atol=1e-4)
    assert rotate_batch(x.cuda(), 12, 30).device.type == 'cuda'

# --- the course's exp.nb_10

NB10_NAMES = ('show_image show_batch PilTransform PilRandomFlip PilRandomDihedral process_sz default_crop_size GeneralCrop '
              'CenterCrop RandomResizedCrop find_coeffs warp uniform PilTiltRandomCrop np_to_float random randint '
              'FloatTensor LongTensor np torch PIL').split()

def test_exp_nb_10_gives_the_courses_names_from_course_lib():
    import course_lib.exp.nb_10 as m10, course_lib.exp.nb_08 as m8
    import course_lib.augmentation as aug
    assert set(NB10_NAMES) <= set(m10.__all__) and set(m8.__all__) <= set(m10.__all__)
    assert m10.RandomResizedCrop is aug.RandomResizedCrop and m10.np_to_float is aug.np_to_float
    assert m10.ImageList is m8.ImageList and m10.randint is random.randint
    ns = {}
    exec('from course_lib.exp.nb_10 import *', ns)
    assert ns['PilTiltRandomCrop'] is aug.PilTiltRandomCrop

def test_exp_nb_10_answers_the_calls_libraries_removed_and_leaves_the_libraries_alone():
    import PIL as real_pil
    from course_lib.exp import nb_10
    A, B = torch.tensor([[2., 1.], [1., 3.]]), torch.tensor([[1.], [2.]])
    torch.testing.assert_close(nb_10.torch.solve(B, A)[0], torch.linalg.solve(A, B))
    assert nb_10.torch.zeros is torch.zeros and nb_10.torch.Tensor is torch.Tensor
    with pytest.raises(RuntimeError): torch.solve(B, A)                        # the real module is unchanged
    assert nb_10.np.array(photo(), dtype=np.float32, copy=False).shape == (30, 40, 3)
    with pytest.raises(ValueError): np.array(photo(), dtype=np.float32, copy=False)
    assert nb_10.PIL.Image.ANTIALIAS == Image.Resampling.LANCZOS and nb_10.PIL.Image.open is Image.open
    assert not hasattr(real_pil.Image, 'ANTIALIAS')


# ---------------------------------------------------------------- pictures of many sizes (optional Debian package)

@pytest.mark.skipif(not TUXPAINT_DIR.is_dir(), reason="Debian's tuxpaint-stamps-default is not installed")
def test_random_resized_crops_batch_the_tuxpaint_stamps(isolated):
    "Stamps of many sizes, through an ImageList with a random resized crop, stack into one batch of the crop's size."
    stamps = ImageList.from_files(tuxpaint_folder(min_size=300)/'valid')   # an empty cache: the larger stamps only
    stamps = stamps.new(stamps.items[:16])
    assert len({Image.open(f).size for f in stamps.items}) > 8
    stamps.tfms = [RandomResizedCrop(48, scale=(0.35, 1)), PilRandomFlip(), np_to_float]
    random.seed(0)
    xb = next(iter(torch.utils.data.DataLoader(stamps, 16)))
    assert xb.shape == (16, 3, 48, 48) and xb.dtype == torch.float32 and 0 <= xb.min() and xb.max() <= 1
