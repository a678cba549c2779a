"Tests for course_lib.data: sources, safe loading, checked downloads (local server only), IDX files."
import ast, codecs, functools, gzip, hashlib, http.server, os, pickle, struct, tempfile, threading
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import course_lib
import course_lib.data as data
from course_lib.data import (DownloadError, SafeUnpickler, UnsafePickleError, cache_file, data_dir, download_file,
                             get_data, get_fashion_mnist, load_course_file, load_mnist_sample, read_idx,
                             save_course_file, write_idx)


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

def write(path, raw):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True); path.write_bytes(raw); return path

def sha256(raw): return hashlib.sha256(raw).hexdigest()

def files_in(folder): return sorted(p.name for p in Path(folder).rglob('*')) if Path(folder).exists() else []

@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    "Every test gets an empty cache folder and none of the user's data settings."
    monkeypatch.setenv('COURSE_LIB_HOME', str(tmp_path/'home'))
    for v in ('COURSE_LIB_DATA', 'COURSE_LIB_DOWNLOAD'): monkeypatch.delenv(v, raising=False)
    return tmp_path

GOOD_SPLITS = make_splits()
GOOD = course_bytes(GOOD_SPLITS)

class Handler(http.server.BaseHTTPRequestHandler):
    routes, hits = {}, []
    def log_message(self, *args): pass
    def do_GET(self):
        Handler.hits.append(self.path)
        body = Handler.routes.get(self.path.split('?')[0].replace('/drop', '', 1))
        if body is None: return self.send_error(404)
        self.send_response(200)
        self.send_header('Content-Length', str(len(body))); self.end_headers()
        if self.path.startswith('/drop'):   # promise the whole file, send half, hang up
            self.wfile.write(body[:len(body) // 2]); self.wfile.flush(); self.close_connection = True
        else: self.wfile.write(body)

@pytest.fixture(scope='module')
def server():
    "A web server on 127.0.0.1 (never the internet): `/good.pkl.gz` serves GOOD, `/drop/...` hangs up halfway."
    Handler.routes = {'/good.pkl.gz': GOOD}
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{srv.server_port}'
    srv.shutdown(); srv.server_close()

@pytest.fixture
def mnist_at(monkeypatch, server):
    "Point MNIST_URL/MNIST_SHA256 at the local server's good file."
    monkeypatch.setattr(data, 'MNIST_URL', server + '/good.pkl.gz')
    monkeypatch.setattr(data, 'MNIST_SHA256', sha256(GOOD))
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

def test_not_gzip_is_value_error(tmp_path):
    p = write(tmp_path/'plain.pkl', pickle.dumps(GOOD_SPLITS, protocol=2))
    with pytest.raises(ValueError, match='plain.pkl.*gzip'): load_course_file(p)

def test_corrupt_pickle_is_value_error(tmp_path):
    p = write(tmp_path/'junk.pkl.gz', gzip.compress(b'\x80\x02this is not a pickle'))
    with pytest.raises(ValueError, match='junk.pkl.gz'): load_course_file(p)

def _bad(splits_fn):
    s = [list(p) for p in make_splits((8, 4, 4))]
    splits_fn(s)
    return tuple(tuple(p) for p in s)

@pytest.mark.parametrize('obj,msg', [
    ({'train': 1}, 'three'),
    (make_splits((8, 4, 4))[:2], 'three'),
    (_bad(lambda s: s[0].__setitem__(0, s[0][0][:, :783])), r'\(n, 784\)'),
    (_bad(lambda s: s[1].__setitem__(0, s[1][0].astype(np.float64))), 'float32'),
    (_bad(lambda s: s[0].__setitem__(1, s[0][1][:-1])), 'y must have shape'),
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
    with pytest.raises(FileNotFoundError, match='download=True'): get_data(source='cache')
    p = write(tmp_path/'m.pkl.gz', GOOD)
    assert len(get_data(p, source='sample')[0]) == 4000

def test_cache_dir_follows_course_lib_home(monkeypatch, tmp_path):
    monkeypatch.setenv('COURSE_LIB_HOME', str(tmp_path/'elsewhere'))
    assert cache_file() == tmp_path/'elsewhere'/'data'/'mnist.pkl.gz'
    monkeypatch.delenv('COURSE_LIB_HOME')
    assert data_dir() == Path.home()/'.course_lib'/'data'


# ---------------------------------------------------------------- downloads (local server only)

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
    monkeypatch.setattr(data, 'MNIST_SHA256', None)
    monkeypatch.setattr(data, 'MNIST_MD5', hashlib.md5(GOOD).hexdigest())
    get_data(download=True)
    assert sha256(GOOD) in capsys.readouterr().out

def test_wrong_digest_leaves_nothing(mnist_at, monkeypatch):
    monkeypatch.setattr(data, 'MNIST_SHA256', '0' * 64)
    with pytest.raises(DownloadError) as e: get_data(download=True)
    msg = str(e.value)
    assert data.MNIST_URL in msg and '0' * 64 in msg and sha256(GOOD) in msg and 'Nothing was saved' in msg
    assert files_in(data_dir()) == []

def test_wrong_md5_leaves_nothing(mnist_at, monkeypatch):
    monkeypatch.setattr(data, 'MNIST_SHA256', None)
    with pytest.raises(DownloadError, match=hashlib.md5(GOOD).hexdigest()): get_data(download=True)
    assert files_in(data_dir()) == []

def test_dropped_connection_leaves_nothing(server, tmp_path):
    dest = tmp_path/'dl'/'m.pkl.gz'
    with pytest.raises(DownloadError, match='cut short') as e:
        download_file(server + '/drop/good.pkl.gz', dest, sha256=sha256(GOOD), progress=False)
    assert server in str(e.value) and sha256(GOOD) in str(e.value)
    assert files_in(tmp_path/'dl') == []

def test_http_error_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match='404') as e:
        download_file(server + '/missing.pkl.gz', tmp_path/'dl'/'m', sha256=sha256(GOOD), progress=False)
    assert '/missing.pkl.gz' in str(e.value) and files_in(tmp_path/'dl') == []

def test_unreachable_server_leaves_nothing(tmp_path):
    import socket
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()   # a closed local port
    with pytest.raises(DownloadError): download_file(f'http://127.0.0.1:{port}/x', tmp_path/'dl'/'m', md5='0' * 32, progress=False)
    assert files_in(tmp_path/'dl') == []

def test_failed_download_keeps_existing_file(server, tmp_path):
    dest = write(tmp_path/'dl'/'m.pkl.gz', b'old good copy')
    with pytest.raises(DownloadError): download_file(server + '/drop/good.pkl.gz', dest, sha256=sha256(GOOD), progress=False)
    assert dest.read_bytes() == b'old good copy' and files_in(tmp_path/'dl') == ['m.pkl.gz']
    download_file(server + '/good.pkl.gz', dest, sha256=sha256(GOOD).upper(), progress=False)
    assert dest.read_bytes() == GOOD and files_in(tmp_path/'dl') == ['m.pkl.gz']

def test_interrupted_download_leaves_nothing(server, tmp_path, monkeypatch):
    def boom(*args, **kwargs): raise KeyboardInterrupt
    monkeypatch.setattr(data, '_stream_to', boom)
    with pytest.raises(KeyboardInterrupt): download_file(server + '/good.pkl.gz', tmp_path/'dl'/'m', sha256=sha256(GOOD))
    assert files_in(tmp_path/'dl') == []

def test_download_file_refuses_bad_requests(tmp_path):
    with pytest.raises(ValueError, match='digest'): download_file('http://127.0.0.1:1/x', tmp_path/'m')
    with pytest.raises(ValueError, match='http'): download_file((tmp_path/'m').as_uri(), tmp_path/'n', sha256='0' * 64)
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- IDX files and Fashion-MNIST

IDX_TYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]

@settings(max_examples=40)
@given(st.sampled_from(IDX_TYPES).flatmap(lambda t: hnp.arrays(t, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))),
       st.booleans())
def test_idx_round_trip(arr, gz):
    with tempfile.TemporaryDirectory() as d:
        p = write_idx(Path(d)/('a.idx.gz' if gz else 'a.idx'), arr)
        assert (p.read_bytes()[:2] == b'\x1f\x8b') == gz
        t = read_idx(p)
    assert tuple(t.shape) == arr.shape and t.numpy().dtype == arr.dtype
    assert t.numpy().tobytes() == arr.tobytes()

def test_idx_known_bytes(tmp_path):
    "The layout from the MNIST page: magic 00 00 08 03, big-endian dims, then the bytes."
    raw = bytes([0, 0, 8, 3]) + struct.pack('>3I', 2, 2, 3) + bytes(range(12))
    t = read_idx(write(tmp_path/'x', raw))
    assert t.dtype == torch.uint8 and t.tolist() == np.arange(12).reshape(2, 2, 3).tolist()
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack('>I', 2) + struct.pack('>2i', -5, 70000)
    assert read_idx(write(tmp_path/'y', raw)).tolist() == [-5, 70000]
    assert write_idx(tmp_path/'z', t).read_bytes() == bytes([0, 0, 8, 3]) + struct.pack('>3I', 2, 2, 3) + bytes(range(12))

@pytest.mark.parametrize('raw,msg', [
    (b'\x08\x03\x00\x00' + bytes(16), 'magic'),                                 # bytes in the wrong order
    (bytes([0, 0, 0x07, 1]) + struct.pack('>I', 1) + b'\0', 'magic'),           # unknown type
    (bytes([0, 0, 8, 0]), 'magic'),                                             # no dimensions
    (b'', 'magic'),
    (bytes([0, 0, 8, 3]) + struct.pack('>2I', 2, 2), 'header'),                 # header cut short
    (bytes([0, 0, 8, 2]) + struct.pack('>2I', 2, 3) + bytes(5), '5'),           # data cut short
    (bytes([0, 0, 8, 1]) + struct.pack('>I', 2) + bytes(3), '3'),               # trailing bytes
    (bytes([0, 0, 0x0D, 1]) + struct.pack('>I', 2) + bytes(6), '8'),            # float32 needs 8 bytes
])
def test_idx_bad_files(tmp_path, raw, msg):
    for name, content in (('bad', raw), ('bad.gz', gzip.compress(raw))):
        with pytest.raises(ValueError, match=msg) as e: read_idx(write(tmp_path/name, content))
        assert name in str(e.value)

def test_idx_truncated_gzip(tmp_path):
    raw = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 1000) + os.urandom(1000))
    with pytest.raises(ValueError, match='gzip'): read_idx(write(tmp_path/'t.gz', raw[:-20]))

def test_write_idx_rejects_unsupported(tmp_path):
    with pytest.raises(TypeError, match='int64'): write_idx(tmp_path/'a', np.zeros(3, np.int64))
    with pytest.raises(ValueError, match='dimensions'): write_idx(tmp_path/'a', np.zeros((), np.uint8))

def make_fashion_folder(folder, n_train=30, n_test=10, seed=0, gz=(True, False, True, False)):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {'train-images-idx3-ubyte': rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              'train-labels-idx1-ubyte': (np.arange(n_train) % 10).astype(np.uint8),
              't10k-images-idx3-ubyte': rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              't10k-labels-idx1-ubyte': (np.arange(n_test) % 10).astype(np.uint8)}
    for (stem, a), z in zip(arrays.items(), gz): write_idx(folder/(stem + ('.gz' if z else '')), a)
    return arrays

def test_fashion_mnist_from_generated_folder(tmp_path, capsys):
    arrays = make_fashion_folder(tmp_path/'f')
    x, y, xv, yv = get_fashion_mnist(tmp_path/'f')
    check_layout(x, y); check_layout(xv, yv)
    assert (len(x), len(xv)) == (30, 10)
    assert np.array_equal((x * 255).round().to(torch.uint8).numpy(), arrays['train-images-idx3-ubyte'].reshape(30, 784))
    assert y.tolist() == arrays['train-labels-idx1-ubyte'].tolist()
    assert 'Fashion-MNIST' in capsys.readouterr().out

def test_fashion_mnist_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(data, 'FASHION_MNIST_DIR', tmp_path/'not-installed')
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist') as e: get_fashion_mnist()
    assert 'not-installed' in str(e.value)
    arrays = make_fashion_folder(tmp_path/'f')
    (tmp_path/'f'/'t10k-labels-idx1-ubyte').unlink()
    with pytest.raises(FileNotFoundError, match='t10k-labels'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.full(10, 12, np.uint8))
    with pytest.raises(ValueError, match='0..9'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.zeros(9, np.uint8))
    with pytest.raises(ValueError, match='labels.*match the 10 images'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.zeros(10, np.uint8))
    write_idx(tmp_path/'f'/'t10k-images-idx3-ubyte.gz', np.zeros((10, 27, 28), np.uint8))
    with pytest.raises(ValueError, match='28, 28'): get_fashion_mnist(tmp_path/'f')

@pytest.mark.skipif(not Path('/usr/share/datasets/fashion-mnist').is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist():
    x, y, xv, yv = get_fashion_mnist()
    check_layout(x, y); check_layout(xv, yv)
    assert (tuple(x.shape), tuple(xv.shape)) == ((60000, 784), (10000, 784))
    assert torch.bincount(y).tolist() == [6000] * 10 and torch.bincount(yv).tolist() == [1000] * 10


# ---------------------------------------------------------------- project-wide rule

def test_no_torch_load_without_weights_only():
    "Anywhere in the package, torch.load must be called with weights_only=True."
    offenders = []
    for f in Path(course_lib.__file__).parent.glob('*.py'):
        for node in ast.walk(ast.parse(f.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'load'
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == 'torch'):
                ok = any(k.arg == 'weights_only' and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)
                if not ok: offenders.append(f'{f.name}:{node.lineno}')
    assert offenders == []
