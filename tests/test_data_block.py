"""course_lib.data_block: image files on disk to batches.

Oracles: `os.walk` for `get_files`; the tensors a folder was written from; `np.asarray` for the byte tensors; torch's
mean and std for the channel statistics. Properties (hypothesis): generated folder trees, labels in any order, images
of any mode and size.
"""
import contextlib, io, os, pickle, string, tempfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn
from PIL import Image
from hypothesis import given, settings, strategies as st

from course_lib import data_block as db
from course_lib.data_block import (
    CategoryProcessor, ImageList, ItemList, LabeledData, MakeRGB, Processor, ResizeFixed, SplitData, cached_folder,
    channel_stats, compose, digits_folder, fashion_folder, get_cnn_layers, get_cnn_model, get_files, get_learn_run,
    grandparent_splitter, imagenette_folder, label_by_func, make_rgb, model_summary, normalize_chan, parent_labeler,
    setify, split_by_func, to_byte_tensor, to_float_tensor, TUXPAINT_DIR, tuxpaint_folder)
from course_lib.callbacks import DataBunch
from course_lib.batchnorm import conv_layer
from course_lib.data import load_mnist_sample
from course_lib.download import write_idx

@pytest.fixture(scope='module')
def home(tmp_path_factory):
    "One empty course_lib home for the whole module, so that each folder is written once."
    with pytest.MonkeyPatch.context() as mp:
        h = tmp_path_factory.mktemp('home')
        mp.setenv('COURSE_LIB_HOME', str(h))
        yield h

@pytest.fixture(scope='module')
def digits(home): return digits_folder()

@pytest.fixture(scope='module')
def nette(home): return imagenette_folder('nette-test', n_train=3, n_valid=2)

# ---------------------------------------------------------------- get_files against os.walk

NAMES = st.text(alphabet='ab.', min_size=1, max_size=3).filter(lambda s: s not in ('.', '..'))
EXTS = st.sampled_from(['.png', '.PNG', '.jpg', '.JPEG', '.txt', ''])
TREES = st.lists(st.tuples(st.lists(NAMES, max_size=3), NAMES, EXTS), max_size=12)

def walk_oracle(root, extensions, recurse, include):
    "The files `get_files` should give, from an unpruned `os.walk` and the rules written out one by one."
    exts, out = {e.lower() for e in extensions}, set()
    for p, _, fs in os.walk(root):
        parts = Path(p).relative_to(root).parts
        if parts and not recurse: continue
        if parts and (parts[0] not in include if include is not None else parts[0].startswith('.')): continue
        if any(d.startswith('.') for d in parts[1:]): continue
        out |= {Path(p)/f for f in fs if not f.startswith('.') and (not exts or '.' + f.split('.')[-1].lower() in exts)}
    return out

@settings(max_examples=25, deadline=None)
@given(TREES, st.sampled_from([[], ['.png'], ['.PNG', '.jpeg'], ['.txt', '.png']]), st.booleans(),
       st.sampled_from([None, ['a'], ['b', '.a']]))
def test_get_files_matches_os_walk(tree, extensions, recurse, include):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for dirs, name, ext in tree:
            folder = root.joinpath(*dirs)
            if folder.is_file() or any(p.is_file() for p in folder.parents if p != root): continue
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder/(name + ext)).is_dir(): (folder/(name + ext)).write_text('x')
        got = get_files(root, extensions, recurse=recurse, include=include)
        assert len(got) == len(set(got)) and set(got) == walk_oracle(root, extensions, recurse, include)
        assert got == get_files(root, extensions, recurse=recurse, include=include)      # the same every time
        for a, b in zip(got, got[1:]):                                                  # sorted within a folder
            if a.parent == b.parent: assert a.name < b.name

def test_get_files_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='not a folder'): get_files(tmp_path/'nope', recurse=True)
    (tmp_path/'f.png').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='f.png'): get_files(tmp_path/'f.png')

def test_setify():
    assert setify('aa') == {'aa'} and setify(None) == set() and setify(['a', 1]) == {'a', 1}
    s = {1}
    assert setify(s) is s and setify((1, 2)) == {1, 2}

# ---------------------------------------------------------------- transforms against numpy

MODES = st.sampled_from(['L', 'RGB', 'RGBA', 'P'])

@settings(max_examples=20, deadline=None)
@given(MODES, st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_byte_and_float_tensors_match_numpy(mode, w, h, seed):
    arr = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr).convert(mode)
    want = torch.tensor(np.asarray(img))
    want = want[None] if want.ndim == 2 else want.permute(2, 0, 1)
    got = to_byte_tensor(img)
    assert got.dtype == torch.uint8 and torch.equal(got, want)
    assert torch.equal(to_float_tensor(got), want.float() / 255)
    rgb = compose(img, [to_float_tensor, to_byte_tensor, make_rgb])      # any order in, `_order` out
    want_rgb = torch.tensor(np.asarray(img.convert('RGB'))).permute(2, 0, 1) / 255
    assert rgb.shape == (3, h, w) and torch.equal(rgb, want_rgb)

def test_resize_fixed_and_order():
    img = Image.new('RGB', (30, 20))
    assert ResizeFixed(8)(img).size == (8, 8) and ResizeFixed((12, 5))(img).size == (12, 5)
    assert compose(img, [to_byte_tensor, ResizeFixed((12, 5))]).shape == (3, 5, 12)
    assert make_rgb(Image.new('L', (2, 2))).mode == 'RGB' and isinstance(make_rgb, MakeRGB)

def test_compose_passes_kwargs_and_sorts_stably():
    f = lambda x, k=0: x + [('f', k)]
    g = lambda x, k=0: x + [('g', k)]
    g._order = -1
    assert compose([], [f, g], k=3) == [('g', 3), ('f', 3)] and compose(1, None) == 1

# ---------------------------------------------------------------- ItemList

def test_itemlist_indexing_opens_items():
    il = ItemList(['a', 'b', 'c'], 'x', tfms=str.upper)
    assert il[0] == 'A' and il[1:] == ['B', 'C'] and il[[2, 0]] == ['C', 'A'] and il[[True, False, True]] == ['A', 'C']
    assert il[torch.tensor(1)] == 'B' and il.items == ['a', 'b', 'c'] and il.path == Path('x')
    n = il.new(['d'])
    assert type(n) is ItemList and n.path == il.path and n.tfms is il.tfms and n[0] == 'D'
    m = il.map(lambda o: o * 2)      # L's methods keep the kind, path and transforms
    assert type(m) is ItemList and m[0] == 'AA' and m.path == il.path

def test_an_item_that_is_a_list_is_one_item():
    "The course opened each element of a list-valued item; an index gives one item here."
    il = ItemList([['x', 'y'], ['z']], tfms=len)
    assert il[0] == 2 and il[:2] == [2, 1]

def test_repr_shows_items_from_the_path(tmp_path):
    il = ItemList([tmp_path/'a'/'b.png', 'x'] + list(range(6)), tmp_path)
    assert repr(il).splitlines()[:2] == ['ItemList (8 items)', "[a/b.png, x, 0, 1, 2, ...]"]
    assert repr(ItemList([Path.home()/'f'], Path.home())).endswith('Path: ~')

def test_imagelist_from_files(digits):
    il = ImageList.from_files(digits, include=['valid'])
    assert len(il) == 1000 and all(p.parent.parent.name == 'valid' for p in il.items)
    assert il[0].size == (28, 28) and il.path == digits

# ---------------------------------------------------------------- split and label

def test_split_by_func_drops_none_and_keeps_order():
    tr, va = split_by_func(list(range(10)), lambda o: None if o % 3 == 0 else o % 3 == 2)
    assert tr == [1, 4, 7] and va == [2, 5, 8]

def test_split_refuses_a_splitter_that_matches_nothing(nette):
    il = ImageList.from_files(nette)
    with pytest.raises(ValueError, match="valid_name"): SplitData.split_by_func(il, grandparent_splitter)
    sd = SplitData.split_by_func(il, partial(grandparent_splitter, valid_name='val'))
    assert (len(sd.train), len(sd.valid)) == (30, 20) and sd.path == nette and type(sd.valid) is ImageList

LABELS = st.lists(st.sampled_from(['cat', 'dog', 'emu', 'yak']), min_size=1, max_size=30)

@settings(max_examples=30, deadline=None)
@given(LABELS, st.randoms(use_true_random=False))
def test_vocab_is_sorted_shared_and_independent_of_order(labels, rnd):
    shuffled = labels[:]; rnd.shuffle(shuffled)
    a, b = CategoryProcessor(), CategoryProcessor()
    ia, ib = a(labels), b(shuffled)
    assert a.vocab == b.vocab == sorted(set(labels))
    assert [a.vocab[i] for i in ia] == labels and a.deprocess(ia) == labels
    valid = [o for o in reversed(labels)]
    assert a(valid) == [a.otoi[o] for o in valid] and a.vocab == sorted(set(labels))   # valid uses, never changes it

def test_processor_refuses_labels_training_never_had():
    p = CategoryProcessor(); p(['a', 'b'])
    with pytest.raises(ValueError, match="'c'"): p(['a', 'c'])
    assert Processor()([1, 2]) == [1, 2] and Processor().deprocess([1]) == [1]

def test_label_by_func_shares_processors_and_the_train_vocab(nette):
    sd = SplitData.split_by_func(ItemList(list(range(10)), 'p'), lambda o: o >= 7)
    ll = label_by_func(sd, lambda o: 'odd' if o % 2 else 'even', proc_y=CategoryProcessor())
    assert ll.train.proc_y is ll.valid.proc_y and ll.train.proc_y.vocab == ['even', 'odd']
    assert ll.train[1] == (1, 1) and ll.valid[:2] == ([7, 8], [1, 0])
    assert ll.valid.y_obj(0) == 'odd' and ll.valid.y_obj(slice(0, 2)) == ['odd', 'even'] and len(ll.valid) == 3
    assert ll.valid.y_obj(torch.tensor(1)) == 'even'
    with pytest.raises(ValueError, match='x.*y'): LabeledData(ItemList([1, 2]), ItemList([1]))

# ---------------------------------------------------------------- pickling

def test_pickle_round_trips(nette):
    il = ImageList.from_files(nette, tfms=[make_rgb, ResizeFixed(16), to_byte_tensor, to_float_tensor])
    sd = SplitData.split_by_func(il, partial(grandparent_splitter, valid_name='val'))
    ll = label_by_func(sd, parent_labeler, proc_y=CategoryProcessor())
    for o in (il, sd, ll, ll.train, ll.train.proc_y):
        assert type(pickle.loads(pickle.dumps(o))) is type(o)
    il2, ll2 = pickle.loads(pickle.dumps(il)), pickle.loads(pickle.dumps(ll))
    assert il2.items == il.items and il2.path == il.path and len(il2.tfms) == 4 and torch.equal(il2[3], il[3])
    assert ll2.train.proc_y.vocab == ll.train.proc_y.vocab and ll2.valid.proc_y is ll2.train.proc_y
    assert ll2.valid.y.items == ll.valid.y.items and torch.equal(ll2.valid[5][0], ll.valid[5][0])
    assert ll2.x.path == nette         # attributes SplitData lacks still come from the training list

# ---------------------------------------------------------------- the folders

def test_digits_folder_round_trip(digits):
    "Every file holds exactly the pixels and the label of the tensor it was written from."
    x_train, y_train, x_valid, y_valid = load_mnist_sample()
    for split, x, y in (('train', x_train, y_train), ('valid', x_valid, y_valid)):
        fns = sorted((digits/split).rglob('*.png'), key=lambda p: p.name)
        assert [int(f.stem) for f in fns] == list(range(len(x)))
        back = torch.stack([torch.from_numpy(np.array(Image.open(f))) for f in fns])
        assert back.dtype == torch.uint8 and torch.equal(back.float() / 255, x.view(-1, 28, 28))
        assert [int(f.parent.name) for f in fns] == y.tolist()

def test_folders_are_written_once(digits, monkeypatch):
    before = sorted(p.stat().st_mtime_ns for p in (digits/'valid'/'3').iterdir())
    monkeypatch.setattr(db, '_save_splits', lambda *a: pytest.fail('written twice'))
    assert digits_folder() == digits
    assert sorted(p.stat().st_mtime_ns for p in (digits/'valid'/'3').iterdir()) == before

def test_cached_folder_is_atomic(tmp_path):
    "A write that fails leaves neither the folder nor its temporary; a finished one is renamed in whole."
    def half(tmp): (tmp/'a').write_text('1'); raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt): cached_folder(tmp_path/'f', half)
    assert list(tmp_path.iterdir()) == []
    assert cached_folder(tmp_path/'f', lambda tmp: (tmp/'a').write_text('2')) == tmp_path/'f'
    assert [p.name for p in tmp_path.iterdir()] == ['f'] and (tmp_path/'f'/'a').read_text() == '2'

def test_cached_folder_keeps_a_folder_another_process_finished(tmp_path):
    def racer(tmp):
        (tmp/'mine').write_text('x')
        (tmp_path/'f').mkdir(); (tmp_path/'f'/'theirs').write_text('y')      # the other process renames first
    assert cached_folder(tmp_path/'f', racer) == tmp_path/'f'
    assert [p.name for p in tmp_path.iterdir()] == ['f'] and [p.name for p in (tmp_path/'f').iterdir()] == ['theirs']

def test_imagenette_folder_layout_sizes_and_modes(nette):
    assert sorted(p.name for p in nette.iterdir()) == ['train', 'val']
    for split, n in (('train', 3), ('val', 2)):
        assert sorted(p.name for p in (nette/split).iterdir()) == sorted(db.IMAGENETTE_WNIDS)
        assert all(len(list(d.iterdir())) == n for d in (nette/split).iterdir())
    imgs = [Image.open(f) for f in sorted(nette.rglob('*.JPEG'))]
    assert len(imgs) == 50 and all(min(im.size) == 160 and max(im.size) <= 240 for im in imgs)
    assert {im.mode for im in imgs} == {'RGB', 'L'} and len({im.size for im in imgs}) > 10
    assert sorted((nette/'val').rglob('*.JPEG'))[0].name.startswith('ILSVRC2012_val_')

def test_imagenette_folder_is_the_same_from_the_same_seed(home):
    a = imagenette_folder('same-a', size=None, n_train=1, n_valid=1, seed=3)
    b = imagenette_folder('same-b', size=None, n_train=1, n_valid=1, seed=3)
    fa, fb = sorted(a.rglob('*.JPEG')), sorted(b.rglob('*.JPEG'))
    assert [f.relative_to(a) for f in fa] == [f.relative_to(b) for f in fb]
    assert all(f.read_bytes() == g.read_bytes() for f, g in zip(fa, fb))
    assert all(240 <= min(Image.open(f).size) <= 400 for f in fa)

def test_fashion_folder_from_idx_files(home, tmp_path):
    "Fashion-MNIST's IDX files (here a small made-up set) as PNG files named by class."
    g = torch.Generator().manual_seed(0)
    x = {s: torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
         for s, n in (('train', 20), ('t10k', 10))}
    y = {s: torch.arange(len(v), dtype=torch.uint8) % 10 for s, v in x.items()}
    for s in x:
        write_idx(tmp_path/f'{s}-images-idx3-ubyte', x[s]); write_idx(tmp_path/f'{s}-labels-idx1-ubyte', y[s])
    with contextlib.redirect_stdout(io.StringIO()): path = fashion_folder(tmp_path)
    fns = sorted((path/'valid').rglob('*.png'), key=lambda p: p.name)
    assert sorted(p.name for p in (path/'train').iterdir()) == sorted(db.FASHION_CLASSES)
    assert torch.equal(torch.stack([torch.from_numpy(np.array(Image.open(f))) for f in fns]), x['t10k'])
    assert [db.FASHION_CLASSES.index(f.parent.name) for f in fns] == y['t10k'].tolist()

# ---------------------------------------------------------------- tuxpaint stamps (optional Debian package)

def _stamp(path, size, mode='RGBA'):
    "A stamp: a red square on a transparent background whose hidden colour is blue."
    a = np.zeros((size[1], size[0], 4), np.uint8)
    a[..., 2] = 255                                   # blue under the transparent pixels
    a[:2, :2] = (255, 0, 0, 255)                      # an opaque red corner
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a, 'RGBA').convert(mode).save(path)

def test_tuxpaint_folder_layout_split_and_white_background(home, tmp_path, monkeypatch):
    src = tmp_path/'stamps'
    for i in range(7): _stamp(src/'animals'/('cats' if i % 2 else 'dogs')/f'a{i}.png', (120 + i, 100))
    _stamp(src/'animals'/'dogs'/'a0_mirror.png', (120, 100))           # a mirror image: left out
    _stamp(src/'food'/'f0.png', (100, 300), 'LA'); _stamp(src/'food'/'f1.png', (150, 150), 'P')
    _stamp(src/'food'/'tiny.png', (30, 400))                            # under min_size: left out
    (src/'food'/'f2.svg').write_text('<svg/>'); (src/'empty').mkdir()
    path = tuxpaint_folder(src=src, min_size=100)
    got = sorted(str(f.relative_to(path)) for f in get_files(path, recurse=True))
    animals = sorted(get_files(src/'animals', '.png', recurse=True))
    animals = [f for f in animals if 'mirror' not in f.name]
    want = sorted([f"{'valid' if i % 5 == 2 else 'train'}/animals/{'-'.join(f.relative_to(src/'animals').parts)}"
                   for i, f in enumerate(animals)] + ['train/food/f0.png', 'train/food/f1.png'])
    assert got == want
    for f in get_files(path, recurse=True):                            # opaque pixels kept, transparent ones white
        a, orig = np.asarray(Image.open(f)), Image.open(src/f.parent.name/f.name.replace('-', '/'))
        assert Image.open(f).mode == 'RGB' and (a[2:, 2:] == 255).all()
        assert (a[:2, :2] == np.asarray(orig.convert('RGBA').convert('RGB'))[:2, :2]).all()
    ll = label_by_func(SplitData.split_by_func(ImageList.from_files(path), grandparent_splitter), parent_labeler,
                       proc_y=CategoryProcessor())
    assert ll.train.proc_y.vocab == ['animals', 'food']
    monkeypatch.setattr(db, '_save_stamps', lambda *a: pytest.fail('written twice'))
    assert tuxpaint_folder(src=src, min_size=100) == path

def test_tuxpaint_folder_says_what_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match='tuxpaint-stamps-default'): tuxpaint_folder(src=tmp_path/'none')

@pytest.mark.skipif(not TUXPAINT_DIR.is_dir(), reason="Debian's tuxpaint-stamps-default is not installed")
def test_tuxpaint_folder_from_the_debian_package(home):
    ll = label_by_func(SplitData.split_by_func(ImageList.from_files(tuxpaint_folder()), grandparent_splitter),
                       parent_labeler, proc_y=CategoryProcessor())
    vocab = ll.train.proc_y.vocab
    assert len(vocab) == 16 and 'animals' in vocab and set(ll.valid.y_obj(slice(None))) == set(vocab)
    assert 0.15 < len(ll.valid.x) / (len(ll.train.x) + len(ll.valid.x)) < 0.25
    sizes = [Image.open(f).size for f in ll.valid.x.items]
    assert min(map(min, sizes)) >= 100 and max(map(max, sizes)) > 500
    assert {Image.open(f).mode for f in ll.valid.x.items} == {'RGB'}

# ---------------------------------------------------------------- batches, statistics, model

@pytest.fixture(scope='module')
def data(digits):
    il = ImageList.from_files(digits, tfms=[to_byte_tensor, to_float_tensor])
    ll = label_by_func(SplitData.split_by_func(il, grandparent_splitter), parent_labeler, proc_y=CategoryProcessor())
    return ll, ll.to_databunch(64, c_in=1, c_out=10, generator=torch.Generator().manual_seed(0))

def test_batches_from_files_equal_the_tensors(data):
    ll, db_ = data
    _, _, x_valid, y_valid = load_mnist_sample()
    for i, (xb, yb) in enumerate(db_.valid_dl):
        if i == 2: break
        idx = [int(f.stem) for f in ll.valid.x.items[i * 128:(i + 1) * 128]]
        assert torch.equal(xb, x_valid[idx].view(-1, 1, 28, 28)) and yb.tolist() == y_valid[idx].tolist()
    xb, yb = next(iter(db_.train_dl))
    assert xb.shape == (64, 1, 28, 28) and yb.dtype == torch.int64 and len(db_.train_ds) == 4000

def test_channel_stats_equal_torch():
    g = torch.Generator().manual_seed(0)
    scale, shift = torch.tensor([1., 2., 3.])[:, None, None], torch.tensor([0., 1., -1.])[:, None, None]
    x = torch.rand(50, 3, 5, 4, generator=g) * scale + shift
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(50)), batch_size=16)
    mean, std = channel_stats(dl)
    flat = x.transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(mean, flat.mean(1)); torch.testing.assert_close(std, flat.std(1))
    m2, s2 = channel_stats(dl, n_batches=1)
    torch.testing.assert_close(m2, x[:16].transpose(0, 1).reshape(3, -1).mean(1))
    xn = normalize_chan(x, mean, std)
    torch.testing.assert_close(xn.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(xn.transpose(0, 1).reshape(3, -1).std(1), torch.ones(3))

def test_bytes_per_image_and_floats_per_batch_give_the_2019_batches(data):
    "The lesson's order (bytes per image, floats per batch) makes exactly the course's float-per-image batches."
    ll, _ = data
    x = ll.valid.x.new(ll.valid.x.items[:100]); x.tfms = [to_byte_tensor]
    xb, yb = next(iter(torch.utils.data.DataLoader(LabeledData(x, ll.valid.y.new(ll.valid.y.items[:100])), 64)))
    want, _ = next(iter(torch.utils.data.DataLoader(ll.valid, 64)))
    assert xb.dtype == torch.uint8 and torch.equal(to_float_tensor(xb), want)

def test_to_float_tensor_leaves_floats_and_stats_take_bytes():
    g = torch.Generator().manual_seed(0)
    xb = torch.randint(0, 256, (20, 3, 4, 5), dtype=torch.uint8, generator=g)
    xf = to_float_tensor(xb)
    assert torch.equal(xf, xb.float() / 255) and to_float_tensor(xf) is xf
    dl = lambda x: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(20)), batch_size=8)
    (mb, sb), (mf, sf) = channel_stats(dl(xb)), channel_stats(dl(xf))
    assert torch.equal(mb, mf) and torch.equal(sb, sf)
    assert torch.equal(normalize_chan(xb, mf, sf), normalize_chan(xf, mf, sf))

def test_normalize_chan_follows_the_batch_dtype():
    x = torch.rand(2, 3, 4, 4).half()
    assert normalize_chan(x, torch.zeros(3), torch.ones(3)).dtype == torch.float16

def test_databunch_c_c_out_and_c_in():
    a = DataBunch(None, None, 10)
    assert a.c == a.c_out == 10 and a.c_in is None
    b = DataBunch(None, None, c_in=3, c_out=5)
    assert (b.c, b.c_out, b.c_in) == (5, 5, 3)
    b.c_out = 7
    assert b.c == 7 and DataBunch(None, None, 4, c_out=4).c == 4
    with pytest.raises(ValueError, match='c=4.*c_out=5'): DataBunch(None, None, 4, c_out=5)
    with pytest.raises(TypeError, match='positional'): DataBunch(None, None, 3, 10)
    assert pickle.loads(pickle.dumps(b)).c_out == 7

def test_cnn_layers_from_c_in_and_c_out():
    data = SimpleNamespace(c_in=3, c_out=7)
    layers = get_cnn_layers(data, [32, 64], conv_layer)
    assert [l[0].out_channels for l in layers[:5]] == [16, 32, 64, 32, 64] and layers[0][0].stride == (1, 1)
    torch.manual_seed(0)
    assert get_cnn_model(data, [32])(torch.randn(2, 3, 40, 30)).shape == (2, 7)
    assert get_cnn_layers(SimpleNamespace(c_in=1, c_out=2), [])[0][0].out_channels == 8
    with pytest.raises(ValueError, match='c_in'): get_cnn_model(DataBunch(None, None, c=10), [8])

def test_model_summary_prints_every_layer_and_changes_nothing(data):
    _, d = data
    learn, run = get_learn_run([8], d, 0.1, conv_layer, norm=nn.BatchNorm2d)
    bn = learn.model[0][2]
    before = bn.running_mean.clone(), bn.num_batches_tracked.clone()
    out = io.StringIO()
    with contextlib.redirect_stdout(out): model_summary(run, learn, d)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(learn.model) and lines[0].endswith('(128, 8, 28, 28)') and lines[-1].endswith('(128, 10)')
    assert torch.equal(bn.running_mean, before[0]) and torch.equal(bn.num_batches_tracked, before[1])
    assert learn.model.training
    with contextlib.redirect_stdout(out): model_summary(run, learn, d, find_all=True)
    assert out.getvalue().count('Conv2d') > len(lines)

# ---------------------------------------------------------------- the course's names

def test_exp_untar_data_answers_with_a_substitute(home):
    from course_lib.exp import datasets
    path = datasets.untar_data(datasets.URLs.IMAGEWOOF_160)
    assert path.name == 'imagewoof-160' and sorted(p.name for p in (path/'val').iterdir()) == sorted(db.IMAGEWOOF_WNIDS)
    assert datasets.untar_data(datasets.URLs.IMAGEWOOF_160 + '.tgz') == path
    with pytest.raises(ValueError, match='no offline stand-in'): datasets.untar_data('https://example.com/x')

def test_exp_nb_08_gives_the_lesson_and_the_courses_loaders():
    import course_lib.exp.nb_08 as m8, course_lib.exp.nb_07 as m7
    assert m8.get_cnn_layers is db.get_cnn_layers and m8.ItemList is db.ItemList and m8.DataBunch is DataBunch
    ns = {}
    exec('from course_lib.exp.nb_08 import *', ns)
    assert sorted(k for k in ns if k != '__builtins__') == m8.__all__ and set(m7.__all__) < set(m8.__all__)
    tdl, vdl = m8.get_dls(list(range(10)), list(range(4)), 3, num_workers=0)
    assert isinstance(tdl, torch.utils.data.DataLoader) and vdl.batch_size == 6
    assert m8.ListContainer(list('abc'))[1:] == ['b', 'c']
    x = torch.rand(2, 3, 4, 4)
    torch.testing.assert_close(m8.norm_imagenette(x)[:, 0], (x[:, 0] - 0.47) / 0.29)

def test_exp_nb_09_adds_the_optimizers():
    import course_lib.exp.nb_09 as m9, course_lib.exp.nb_08 as m8
    from course_lib import optimizers
    assert m9.Optimizer is optimizers.Optimizer and m9.adam_opt is optimizers.adam_opt and m9.Recorder is m8.Recorder
    assert set(m8.__all__) < set(m9.__all__) and m9.get_cnn_layers is db.get_cnn_layers
