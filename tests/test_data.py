"Tests for course_lib.data: the offline sample, safe and bounded unpickling, course-format files, get_data's sources."
import codecs, gzip, hashlib, io, os, pickle, struct, subprocess, sys, tempfile, tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import course_lib.data as data
import course_lib.download as dl
from course_lib.data import (SafeUnpickler, UnsafePickleError, get_data, load_course_file, load_mnist_sample, safe_loads,
                             save_course_file)
from course_lib.download import DownloadError, cache_file, data_dir
from local_http import Handler, serve
from strategies import file_bytes
from data_helpers import write, sha256, files_in, peak_memory, isolated   # noqa: F401 (isolated: an autouse fixture)


# ---------------------------------------------------------------- helpers and fixtures

def make_splits(sizes=(60, 20, 20), seed=0):
    rng = np.random.default_rng(seed)
    return tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)) for n in sizes)

def course_bytes(obj, protocol=2): return gzip.compress(pickle.dumps(obj, protocol=protocol))

class Py2Pickler(pickle._Pickler):
    "Writes bytes the way Python 2 wrote `str` (BINSTRING), so the output looks like the original course file."
    dispatch = pickle._Pickler.dispatch.copy()
    def save_bytes(self, obj):
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack('<i', n)) + obj)
        self.memoize(obj)
    dispatch[bytes] = save_bytes

def py2_course_bytes(obj):
    f = __import__('io').BytesIO()
    Py2Pickler(f, protocol=2).dump(obj)
    raw = f.getvalue().replace(b'cnumpy._core.multiarray\n', b'cnumpy.core.multiarray\n')
    assert b'_codecs' not in raw and b'cnumpy.core.multiarray\n_reconstruct' in raw
    return gzip.compress(raw)

GOOD_SPLITS = make_splits()
GOOD = course_bytes(GOOD_SPLITS)

@pytest.fixture(scope='module')
def server():
    "A web server on 127.0.0.1 (never the internet) serving GOOD at `/good.pkl.gz`."
    with serve({'/good.pkl.gz': GOOD}) as url: yield url

@pytest.fixture
def mnist_at(monkeypatch, server):
    "Point MNIST_URL/MNIST_SHA256 at the local server's good file."
    monkeypatch.setattr(dl, 'MNIST_URL', server + '/good.pkl.gz')
    monkeypatch.setattr(dl, 'MNIST_SHA256', sha256(GOOD))
    Handler.hits.clear()
    return server

def check_layout(x, y):
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.ndim == 2 and x.shape[1] == 784 and y.shape == (len(x),)
    assert 0 <= x.min() and x.max() <= 1 and 0 <= y.min() and y.max() <= 9


# ---------------------------------------------------------------- offline default

def test_offline_default_layout_and_notice(capsys):
    x, y, xv, yv = get_data()
    check_layout(x, y); check_layout(xv, yv)
    assert (len(x), len(xv)) == (4000, 1000)
    assert torch.bincount(y, minlength=10).tolist() == [400] * 10
    assert torch.bincount(yv, minlength=10).tolist() == [100] * 10
    assert x.max() == 1 and x.min() == 0            # real 0-255 pixels, scaled
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and 'sample' in out[0] and '4,000' in out[0] and '1,000' in out[0]

def test_offline_default_is_deterministic_and_returns_fresh_tensors():
    a = get_data()
    a[0].fill_(7.); a[1].fill_(3)              # a caller scribbles on its copy ...
    b, c = get_data(), get_data(source='sample')
    assert not torch.equal(a[0], b[0])         # ... and the next caller does not see it
    for t, u in zip(b, c): assert torch.equal(t, u)

def test_offline_train_and_valid_are_disjoint():
    x, _, xv, _ = load_mnist_sample()
    rows = {r.numpy().tobytes() for r in x}
    assert not any(r.numpy().tobytes() in rows for r in xv)

def test_no_download_unless_asked(mnist_at, capsys):
    get_data()
    assert Handler.hits == [] and 'sample' in capsys.readouterr().out
    assert files_in(data_dir()) == []

@settings(max_examples=30)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.integers(0, 5))
def test_stratified_split_property(labels, k):
    y = np.array(labels)
    tr, va = data._stratified_split(y, k)
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(len(y)))   # a partition
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        assert va[y[va] == c].tolist() == idx[:k].tolist()                   # first k of each class


def longest_run(y):
    "The most equal labels in a row."
    runs, best = 1, 1
    for a, b in zip(y[:-1], y[1:]): runs = runs + 1 if a == b else 1; best = max(best, runs)
    return best

def mixed(y, window=200):
    "Like real MNIST: no long runs of one digit, and every `window` consecutive labels hold all ten digits."
    y = y.tolist()
    return longest_run(y) <= 8 and all(len(set(y[i:i + window])) == 10 for i in range(0, len(y) - window + 1, window // 2))

def test_offline_sample_is_mixed_like_mnist():
    x, y, xv, yv = load_mnist_sample()
    assert mixed(y) and mixed(yv)
    assert not mixed(torch.sort(y).values) and not mixed(torch.sort(yv).values)   # the check can fail: sorted labels are not mixed

def test_offline_split_is_stratified_and_keeps_the_file_rows():
    "Valid holds the first 100 rows of each digit in the file, train the other 400, each only reordered."
    fx, fy = data._read_mnist_csv()
    x, y, xv, yv = load_mnist_sample()
    assert torch.bincount(y).tolist() == [400] * 10 and torch.bincount(yv).tolist() == [100] * 10
    rows = lambda a: sorted(r.tobytes() for r in np.asarray(a))
    first100 = np.concatenate([np.flatnonzero(fy == c)[:100] for c in range(10)])
    assert rows(xv) == rows(fx[first100])
    assert rows(x) == rows(np.delete(fx, first100, axis=0))
    for t, labels in ((x, y), (xv, yv)):           # each image keeps its own label
        by_row = {r.tobytes(): l for r, l in zip(fx, fy)}
        assert all(by_row[r.numpy().tobytes()] == l for r, l in zip(t[::97], labels[::97].tolist()))

def test_offline_order_is_fixed_run_to_run():
    "Two fresh interpreters give the same order, and it is the one this test pins (so it cannot drift with a seed or library change unnoticed)."
    code = "from course_lib.data import load_mnist_sample as f; x, y, xv, yv = f(); print(y[:20].tolist(), yv[:20].tolist(), float(x[:50].sum()))"
    outs = {subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout for _ in range(2)}
    assert len(outs) == 1
    _, y, _, yv = load_mnist_sample()
    assert y[:20].tolist() == [5, 2, 8, 8, 9, 5, 3, 9, 0, 2, 7, 4, 5, 5, 4, 2, 1, 2, 2, 2]
    assert yv[:20].tolist() == [6, 8, 0, 3, 2, 1, 4, 2, 3, 8, 1, 7, 8, 9, 1, 0, 9, 5, 9, 6]
    assert outs.pop().startswith(f"{y[:20].tolist()} {yv[:20].tolist()}")

@pytest.mark.parametrize('n', [1, 250, 499])
def test_sample_valid_size(n):
    x, y, xv, yv = load_mnist_sample(n)
    assert (len(x), len(xv)) == (5000 - 10 * n, 10 * n) and torch.bincount(yv).tolist() == [n] * 10


# ---------------------------------------------------------------- course-format files and the safe unpickler

@pytest.mark.parametrize('protocol', [0, 1, 2, 3, 4, 5])
def test_safe_unpickler_loads_numpy_arrays(protocol):
    a = (np.arange(12, dtype=np.float32).reshape(3, 4), np.array([1, 2], dtype=np.int64))
    b = SafeUnpickler(__import__('io').BytesIO(pickle.dumps(a, protocol=protocol))).load()
    assert all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in zip(a, b))

def test_load_course_file_round_trip(tmp_path):
    p = write(tmp_path/'m.pkl.gz', GOOD)
    for (x, y), (ex, ey) in zip(load_course_file(p), GOOD_SPLITS):
        check_layout(x, y)
        assert np.array_equal(x.numpy(), ex) and np.array_equal(y.numpy(), ey)

def test_python2_style_file_loads(tmp_path):
    p = write(tmp_path/'py2.pkl.gz', py2_course_bytes(GOOD_SPLITS))
    (x, y), _, (xt, yt) = load_course_file(p)
    assert np.array_equal(x.numpy(), GOOD_SPLITS[0][0]) and np.array_equal(yt.numpy(), GOOD_SPLITS[2][1])

def test_save_course_file_round_trip(tmp_path):
    p = save_course_file(tmp_path/'s.pkl.gz', *GOOD_SPLITS)
    assert all(np.array_equal(x.numpy(), ex) for (x, _), (ex, _) in zip(load_course_file(p), GOOD_SPLITS))

def test_a_saved_file_of_70000_images_fits_the_readers_limit(tmp_path):
    "Raw size is linear in the images: two small files give bytes per image and overhead, extrapolated to MNIST's 70,000."
    def raw_size(n, save):
        splits = make_splits((n, 10, 10), seed=n)
        return len(gzip.decompress(save(tmp_path/f'{n}.pkl.gz', splits).read_bytes()))
    ours = lambda path, splits: save_course_file(path, *splits)
    proto2 = lambda path, splits: write(path, course_bytes(splits, protocol=2))   # the control: protocol 2 from Python 3
    for save, fits in ((ours, True), (proto2, False)):
        a, b = raw_size(100, save), raw_size(300, save)
        per_image = (b - a) / 200
        assert (per_image * 70_000 + a - per_image * 120 <= data.COURSE_FILE_MAX_BYTES) == fits, (per_image, a)

def test_int32_labels_become_int64(tmp_path):
    splits = tuple((x, y.astype(np.int32)) for x, y in GOOD_SPLITS)
    (_, y), _, _ = load_course_file(write(tmp_path/'i32.pkl.gz', course_bytes(splits)))
    assert y.dtype == torch.int64

class WritesFile:
    "Unpickling this opens (and so creates) a file: a visible side effect."
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (open, (self.path, 'w'))

class RunsShell:
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

class Evals:
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (eval, (f"__import__('pathlib').Path({self.path!r}).touch()",))

@pytest.mark.parametrize('payload,protocol', [(WritesFile, 2), (RunsShell, 2), (Evals, 4), (RunsShell, 0)])
def test_malicious_pickle_is_refused_without_effect(tmp_path, payload, protocol):
    marker = tmp_path/'pwned'
    raw = pickle.dumps(payload(marker), protocol=protocol)
    # control: plain pickle really would act on this payload
    r = pickle.loads(raw)
    if hasattr(r, 'close'): r.close()
    assert marker.exists(); marker.unlink()
    # hidden after two good splits, in a course-format file
    evil = gzip.compress(raw) if payload is not RunsShell else course_bytes(GOOD_SPLITS[:2] + (payload(marker),), protocol)
    p = write(tmp_path/'evil.pkl.gz', evil)
    with pytest.raises(UnsafePickleError, match='refusing to load global') as e: load_course_file(p)
    assert str(p) in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, pickle.UnpicklingError)
    assert not marker.exists()
    with pytest.raises(ValueError): get_data(p)
    assert not marker.exists()

def test_codecs_encode_is_narrowed():
    class Rot13:
        def __reduce__(self): return (codecs.encode, ('abc', 'rot13'))
    with pytest.raises(UnsafePickleError, match='latin-1'):
        SafeUnpickler(__import__('io').BytesIO(pickle.dumps(Rot13(), protocol=2))).load()

@pytest.mark.parametrize('cut', [10, 100, 2000, -10])
def test_truncated_gzip_is_value_error(tmp_path, cut):
    p = write(tmp_path/'cut.pkl.gz', GOOD[:cut])
    with pytest.raises(ValueError, match='cut.pkl.gz'): load_course_file(p)

def test_uncompressed_file_is_read_with_the_same_checks(tmp_path):
    p = write(tmp_path/'plain.pkl', pickle.dumps(GOOD_SPLITS, protocol=2))
    assert all(np.array_equal(x.numpy(), ex) for (x, _), (ex, _) in zip(load_course_file(p), GOOD_SPLITS))
    marker = tmp_path/'pwned'
    p = write(tmp_path/'evil.pkl', pickle.dumps(RunsShell(marker), protocol=2))
    with pytest.raises(UnsafePickleError, match='evil.pkl'): load_course_file(p)
    assert not marker.exists()

def test_corrupt_pickle_is_value_error(tmp_path):
    p = write(tmp_path/'junk.pkl.gz', gzip.compress(b'\x80\x02this is not a pickle'))
    with pytest.raises(ValueError, match='junk.pkl.gz'): load_course_file(p)

def _bad(splits_fn):
    s = [list(p) for p in make_splits((8, 4, 4))]
    splits_fn(s)
    return tuple(tuple(p) for p in s)

@pytest.mark.parametrize('obj,msg', [
    ({'train': 1}, 'expected 3'),                      # Python's own unpacking refuses other structures
    (make_splits((8, 4, 4))[:2], 'expected 3'),
    ((make_splits((8, 4, 4))[0], (1, 2, 3)) * 1 + make_splits((8, 4, 4))[2:], 'expected 2'),
    (_bad(lambda s: s[0].__setitem__(0, s[0][0][:, :783])), r'\(n, 784\)'),
    (_bad(lambda s: s[1].__setitem__(0, s[1][0].astype(np.float64))), 'float32'),
    (_bad(lambda s: s[0].__setitem__(1, s[0][1][:-1])), r'y integer \(n,\)'),
    (_bad(lambda s: s[0].__setitem__(1, s[0][1].astype(np.float32))), 'integer'),
    (_bad(lambda s: s[2].__setitem__(0, s[2][0] * 2 + 1)), r'\[0, 1\]'),
    (_bad(lambda s: s[2].__setitem__(1, s[2][1] + 10)), '0..9'),
    (_bad(lambda s: s[0].__setitem__(0, s[0][0].tolist())), 'NumPy'),
])
def test_wrong_structure_shape_dtype_is_value_error(tmp_path, obj, msg):
    p = write(tmp_path/'wrong.pkl.gz', course_bytes(obj))
    with pytest.raises(ValueError, match=msg) as e: load_course_file(p)
    assert 'wrong.pkl.gz' in str(e.value)

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope'): load_course_file(tmp_path/'nope.pkl.gz')
    with pytest.raises(FileNotFoundError): get_data(tmp_path/'nope.pkl.gz')


# ---------------------------------------------------------------- tiny hostile pickles that claim huge sizes

P2 = b'\x80\x02'
RECONSTRUCT = b'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n'
HOSTILE = {
    'array-state-1G': pickle.dumps(np.zeros(1, np.float32), protocol=2).replace(b'K\x01\x85', b'J\x00\x00\x00\x40\x85'),
    'frombuffer-1G': pickle.dumps(np.zeros(2, np.float32), protocol=5).replace(b'K\x02\x85', b'J\x00\x00\x00\x40\x85'),
    'ndarray-call-1G': P2 + b'cnumpy\nndarray\nJ\x00\x00\x00\x40\x85\x85R.',
    'binbytes8-1T': b'\x80\x04\x8e' + struct.pack('<Q', 2**40) + b'xx.',
    'binbytes8-1G': b'\x80\x04\x8e' + struct.pack('<Q', 2**30) + b'xx.',
    'bytearray8-1G': b'\x80\x05\x96' + struct.pack('<Q', 2**30) + b'xx.',
    'binunicode8-1G': b'\x80\x04\x8d' + struct.pack('<Q', 2**30) + b'xx.',
    'binstring-1G': P2 + b'T' + struct.pack('<i', 2**30) + b'xx.',
    'frame-1G': b'\x80\x04\x95' + struct.pack('<Q', 2**30) + b'N.',
    'long-binput-4G': P2 + b'Nr' + struct.pack('<I', 2**32 - 1) + b'.',
    'put-text-huge': b'Np99999999999\n.',
    'long4-1G': P2 + b'\x8b' + struct.pack('<i', 2**30) + b'xx.',
    'long-binput-32M': P2 + b'Nr' + struct.pack('<I', 2**25) + b'.',          # small enough that the memo really grows
    'binstring-negative': P2 + b'T' + struct.pack('<i', -5) + b'.',          # a walk that trusted it would go back forever
}

@pytest.mark.parametrize('name', list(HOSTILE))
def test_tiny_hostile_pickle_is_refused_without_allocating(tmp_path, name):
    raw = HOSTILE[name]
    p = write(tmp_path/'h.pkl.gz', gzip.compress(raw))
    for f in (lambda: safe_loads(raw), lambda: load_course_file(p)):
        tracemalloc.start()
        try:
            with pytest.raises(ValueError): f()
            peak = tracemalloc.get_traced_memory()[1]
        finally: tracemalloc.stop()
        assert peak < 256 * 1024, (name, peak)

def test_reconstruct_ignores_the_shape_it_is_asked_for():
    "`_reconstruct` always starts an empty array: a pickle asking it for a billion elements gets nothing allocated."
    raw = P2 + RECONSTRUCT + b'J\x00\x00\x00\x40\x85C\x01b\x87R.'
    tracemalloc.start()
    try: out, peak = safe_loads(raw), tracemalloc.get_traced_memory()[1]
    finally: tracemalloc.stop()
    assert out.shape == (0,) and peak < 256 * 1024
    with pytest.raises(ValueError, match='expected 3'): load_course_file(write(Path(tempfile.mkdtemp())/'r.pkl.gz', gzip.compress(raw)))

def flagged(protocol, dtype=np.float64):
    "A pickle of a plain array whose dtype state carries NumPy's 'holds objects' flag."
    raw = pickle.dumps(np.array([1, 2], dtype), protocol=protocol)
    assert raw.count(b'J\xff\xff\xff\xffK\x00t') == 1
    return raw.replace(b'J\xff\xff\xff\xffK\x00t', b'J\xff\xff\xff\xffK\x01t')

@pytest.mark.parametrize('protocol', [2, 5])
def test_dtype_flags_from_the_file_are_dropped(protocol):
    "A dtype rebuilt from the file can mark floats as Python objects; the loaded array gets a fresh, plain dtype."
    a = safe_loads(flagged(protocol))
    assert a.tolist() == [1.0, 2.0] and not a.dtype.hasobject and a.dtype == np.float64

@pytest.mark.parametrize('protocol', [2, 5])
def test_object_dtype_is_refused_on_both_array_paths(protocol):
    "Protocol 2 (`__setstate__`) and protocol 5 (`_frombuffer`): an object dtype from the file is refused, not read."
    raw = pickle.dumps(np.zeros(1, np.float64), protocol=protocol).replace(b'\x8c\x02f8' if protocol == 5 else b'X\x02\x00\x00\x00f8',
                                                                             b'\x8c\x02O8' if protocol == 5 else b'X\x02\x00\x00\x00O8')
    with pytest.raises(UnsafePickleError, match="dtype"): safe_loads(raw)

def array_state(shape, dtype, data):
    "An array state tuple as `ndarray.__reduce__` gives it."
    return (1, shape, np.dtype(dtype), False, data)

@pytest.mark.parametrize('state,exc,msg', [
    (array_state((2**27,), 'f4', b'1234'), UnsafePickleError, 'holds 4$'),      # claims 512 MB, holds 4 bytes
    (array_state((2**40, 2**40), 'f4', b''), UnsafePickleError, 'holds 0$'),    # claims 4 YB (NumPy: MemoryError)
    (array_state((2**32, 2**32), 'u1', b''), UnsafePickleError, 'holds 0$'),    # int64 product wraps to 0 (NumPy: MemoryError)
    (array_state((2**27,), 'O', [None]), UnsafePickleError, 'dtype'),           # object array, short list: crashes NumPy
    (array_state((2,), 'V4', b'12345678'), UnsafePickleError, 'dtype'),
    (array_state((2.5,), 'u1', b'12'), UnsafePickleError, r'\(2\.5,\)'),
    (array_state((2.0,), 'u1', b'12'), TypeError, 'integer'),                   # right size, wrong type: NumPy refuses
    (array_state((2,), 'u1', [1, 2]), TypeError, 'string'),                     # a list for plain numbers: NumPy refuses
    (array_state((2,), 'u1', 12), TypeError, 'len'),
    ({'shape': (2,)}, ValueError, 'unpack'),
])
def test_array_state_is_checked_before_numpy_allocates(state, exc, msg):
    "The checked array's __setstate__ refuses, where NumPy would allocate, raise MemoryError or crash; safe_loads turns the rest into ValueErrors."
    a = data._reconstruct(data._ARRAY_CLASS, (0,), b'b')
    with pytest.raises(exc, match=msg): a.__setstate__(state)

def test_object_array_pickle_is_refused_in_a_fresh_process():
    "End to end, in a subprocess, because unpatched NumPy crashes (SIGSEGV) on this pickle."
    a = np.empty(2, dtype=object)
    raw = pickle.dumps(a, protocol=2).replace(b'K\x02\x85', b'J\x00\x00\x00\x08\x85')   # declare 2**27 elements, keep the 2-item list
    code = ("import sys; from course_lib.data import safe_loads\n"
            "try: safe_loads(sys.stdin.buffer.read())\nexcept ValueError as e: print('refused:', e)")
    r = subprocess.run([sys.executable, '-c', code], input=raw, capture_output=True)
    assert r.returncode == 0 and b'refused' in r.stdout and b'dtype' in r.stdout, (r.returncode, r.stdout, r.stderr[-500:])

def test_safe_loads_returns_plain_arrays():
    out = safe_loads(pickle.dumps((np.arange(3), [np.ones(2, np.float32)]), protocol=2))
    assert type(out[0]) is np.ndarray and type(out[1][0]) is np.ndarray and out[0].tolist() == [0, 1, 2]


# ---------------------------------------------------------------- fuzz: the course-file reader returns a valid result or a ValueError, within bounded memory

def course_pickle(protocol):
    return pickle.dumps(make_splits((3, 2, 1), seed=protocol), protocol=protocol)

def py2_pickle():
    return gzip.decompress(py2_course_bytes(make_splits((2, 1, 1))))

PICKLE_SEEDS = [course_pickle(2), course_pickle(4), course_pickle(5), py2_pickle(), pickle.dumps(np.arange(5), protocol=2)]

@pytest.fixture(scope='module')
def traced():
    tracemalloc.start(); yield; tracemalloc.stop()

@settings(max_examples=200)
@given(st.one_of(file_bytes(PICKLE_SEEDS).map(lambda b: gzip.compress(b, mtime=0)), file_bytes([gzip.compress(PICKLE_SEEDS[0], mtime=0)])))
def test_fuzz_load_course_file(traced, raw):
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d)/'f.pkl.gz', raw)
        size = max(len(raw), len(gzip.decompress(raw)) if _gunzips(raw) else 0)
        tracemalloc.reset_peak(); before = tracemalloc.get_traced_memory()[0]
        try: out, err = load_course_file(p), None
        except ValueError as e: out, err = None, e
        peak = tracemalloc.get_traced_memory()[1] - before
    assert peak <= 16 * size + 262144, (peak, size)      # 256 KiB covers zlib's window and the unpickler's own set-up
    if err is not None: assert str(p) in str(err)
    else:
        for x, y in out: check_layout(x, y)

def _gunzips(raw):
    try: gzip.decompress(raw); return True
    except Exception: return False

@settings(max_examples=200)
@given(file_bytes(PICKLE_SEEDS))
def test_fuzz_safe_loads(traced, raw):
    "Random and mutated pickles: a value or a ValueError (never another exception, a crash or a big allocation)."
    tracemalloc.reset_peak(); before = tracemalloc.get_traced_memory()[0]
    try: safe_loads(raw)
    except ValueError: pass
    assert tracemalloc.get_traced_memory()[1] - before <= 16 * len(raw) + 262144


def genops_accepts(raw):
    "The standard library's opcode walk: True if it reaches STOP with memo slots stored one at a time."
    import pickletools
    puts = 0
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(raw)):
            if op.name in ('PUT', 'BINPUT', 'LONG_BINPUT') and arg > puts: return False
            puts += op.name in ('PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE')
        return True
    except Exception: return False

def walk_accepts(raw):
    try: data._check_pickle_ops(raw); return True
    except (ValueError, struct.error): return False

picklable = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5) | st.binary(max_size=300),
                         lambda kids: st.lists(kids, max_size=4) | st.tuples(kids, kids) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
                         max_leaves=12)

@settings(max_examples=60)
@given(picklable, st.integers(0, 5))
def test_opcode_walk_accepts_every_real_pickle(obj, protocol):
    "Oracle: pickletools.genops. Whatever pickle writes, the walk accepts, and every prefix of it, it refuses."
    raw = pickle.dumps(obj, protocol=protocol)
    assert genops_accepts(raw) and walk_accepts(raw)
    assert not any(walk_accepts(raw[:i]) for i in range(0, len(raw), max(1, len(raw) // 25)))

@settings(max_examples=200)
@given(file_bytes(PICKLE_SEEDS))
def test_opcode_walk_agrees_with_genops_on_mutated_pickles(raw):
    "Where the standard library's walk accepts a damaged pickle, so does ours (ours only reads lengths, so it may accept more)."
    if genops_accepts(raw): assert walk_accepts(raw)


# ---------------------------------------------------------------- writers as strict as readers

def test_save_course_file_refuses_what_the_reader_refuses(tmp_path):
    (x, y), va, te = make_splits((4, 2, 2))
    with pytest.raises(ValueError, match='train split.*y integer.*float64'): save_course_file(tmp_path/'f.pkl.gz', (x, y + 0.5), va, te)
    with pytest.raises(ValueError, match='valid split.*y integer'): save_course_file(tmp_path/'f.pkl.gz', (x, y), va[0], te)   # two rows, not (x, y)
    with pytest.raises(ValueError, match=r'test split: pixels outside \[0, 1\]'):
        save_course_file(tmp_path/'f.pkl.gz', (x, y), va, ((te[0] * 255).astype(np.int64), te[1]))
    with pytest.raises(ValueError, match='0..9'): save_course_file(tmp_path/'f.pkl.gz', (x, y + 10), va, te)
    assert files_in(tmp_path) == []
    p = save_course_file(tmp_path/'g.pkl.gz', (torch.tensor(x, requires_grad=True), y), va, te)   # its values
    assert np.array_equal(load_course_file(p)[0][0].numpy(), x)

def test_save_course_file_takes_tensors_and_is_atomic(tmp_path, monkeypatch):
    splits = make_splits((4, 2, 2))
    p = save_course_file(tmp_path/'f.pkl.gz', *[(torch.from_numpy(x), torch.from_numpy(y)) for x, y in splits])
    assert all(np.array_equal(x.numpy(), ex) for (x, _), (ex, _) in zip(load_course_file(p), splits))
    before = p.read_bytes()
    def boom(*args, **kwargs): raise OSError('disk full')
    monkeypatch.setattr(data.pickle, 'dump', boom)
    with pytest.raises(OSError, match='disk full'): save_course_file(p, *make_splits((5, 2, 2)))
    assert p.read_bytes() == before and files_in(tmp_path) == ['f.pkl.gz']

def test_save_course_file_is_reproducible(tmp_path):
    a, b = (save_course_file(tmp_path/n, *GOOD_SPLITS).read_bytes() for n in ('a.pkl.gz', 'b.pkl.gz'))
    assert a == b


# ---------------------------------------------------------------- get_data's sources

def test_explicit_path_and_env(tmp_path, monkeypatch, capsys):
    p = write(tmp_path/'m.pkl.gz', GOOD)
    x, y, xv, yv = get_data(p)
    check_layout(x, y); check_layout(xv, yv)
    assert (len(x), len(xv)) == (60, 20) and '60 train / 20 valid' in capsys.readouterr().out
    monkeypatch.setenv('COURSE_LIB_DATA', str(p))
    assert torch.equal(get_data()[0], x)

def test_path_beats_cache_beats_download(tmp_path, mnist_at):
    write(cache_file(), course_bytes(make_splits((30, 10, 10), seed=1)))
    assert len(get_data(download=True)[0]) == 30 and Handler.hits == []       # cache first, no network
    assert len(get_data(write(tmp_path/'m.pkl.gz', GOOD))[0]) == 60            # explicit path first

def test_source_by_name(tmp_path):
    with pytest.raises(ValueError, match='source must be one of'): get_data(source='internet')
    with pytest.raises(ValueError, match='COURSE_LIB_DATA'): get_data(source='path')
    with pytest.raises(FileNotFoundError, match='mnist.pkl.gz'): get_data(source='cache')   # open() names the file
    p = write(tmp_path/'m.pkl.gz', GOOD)
    assert len(get_data(p, source='path')[0]) == 60
    for source in ('sample', 'cache', 'download'):     # a path that the source would ignore is refused
        with pytest.raises(ValueError, match="path=.*source='"): get_data(p, source=source)

def test_tilde_in_paths_means_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path/'me')); monkeypatch.chdir(tmp_path)
    save_course_file('~/m.pkl.gz', *make_splits((6, 2, 2)))
    assert len(get_data('~/m.pkl.gz')[0]) == 6 and files_in(tmp_path/'me') == ['m.pkl.gz']
    monkeypatch.setenv('COURSE_LIB_DATA', '~/m.pkl.gz')
    assert len(get_data()[0]) == 6 and not (tmp_path/'~').exists()

def test_a_gzip_bomb_is_not_read_past_the_largest_course_file(tmp_path, monkeypatch):
    monkeypatch.setattr(data, 'COURSE_FILE_MAX_BYTES', 1 << 20)
    p = write(tmp_path/'bomb.pkl.gz', gzip.compress(bytes(8 << 20)))
    err, peak = peak_memory(lambda: load_course_file(p))
    assert 'bomb.pkl.gz' in str(err) and '1,048,576' in str(err) and peak < 4 << 20, (err, peak)

# ---------------------------------------------------------------- get_data's download source (local server only)

def test_download_then_cache_without_network(mnist_at, capsys):
    first = get_data(download=True)
    assert len(Handler.hits) == 1 and files_in(data_dir()) == ['mnist.pkl.gz']
    assert cache_file().read_bytes() == GOOD
    second = get_data()                      # no download flag needed: the cache is source 2
    third = get_data(download=True)
    assert len(Handler.hits) == 1            # neither touched the server
    for a, b, c in zip(first, second, third): assert torch.equal(a, b) and torch.equal(a, c)
    assert np.array_equal(first[0].numpy(), GOOD_SPLITS[0][0])

def test_download_env_flag(mnist_at, monkeypatch):
    monkeypatch.setenv('COURSE_LIB_DOWNLOAD', '1')
    assert len(get_data()[0]) == 60 and len(Handler.hits) == 1

def test_download_by_published_md5_prints_sha256(mnist_at, monkeypatch, capsys):
    monkeypatch.setattr(dl, 'MNIST_SHA256', None)
    monkeypatch.setattr(dl, 'MNIST_MD5', hashlib.md5(GOOD).hexdigest())
    get_data(download=True)
    assert sha256(GOOD) in capsys.readouterr().out

def test_wrong_digest_leaves_nothing(mnist_at, monkeypatch):
    monkeypatch.setattr(dl, 'MNIST_SHA256', '0' * 64)
    with pytest.raises(DownloadError) as e: get_data(download=True)
    msg = str(e.value)
    assert dl.MNIST_URL in msg and '0' * 64 in msg and sha256(GOOD) in msg and 'Nothing was saved' in msg
    assert files_in(data_dir()) == []

def test_wrong_md5_leaves_nothing(mnist_at, monkeypatch):
    monkeypatch.setattr(dl, 'MNIST_SHA256', None)
    with pytest.raises(DownloadError, match=hashlib.md5(GOOD).hexdigest()): get_data(download=True)
    assert files_in(data_dir()) == []

def test_a_downloaded_file_is_still_read_safely(mnist_at, monkeypatch, tmp_path):
    "A file that passes its digest check is still unpickled with the restricted unpickler."
    marker = tmp_path/'pwned'
    evil = gzip.compress(pickle.dumps(RunsShell(marker), protocol=2))
    with serve({'/evil.pkl.gz': evil}) as url:
        monkeypatch.setattr(dl, 'MNIST_URL', url + '/evil.pkl.gz')
        monkeypatch.setattr(dl, 'MNIST_SHA256', sha256(evil))
        with pytest.raises(UnsafePickleError): get_data(download=True)
    assert not marker.exists()


