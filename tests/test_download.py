"Tests for course_lib.download: atomic writes, checked downloads with a deadline (local server only), IDX files, Fashion-MNIST."
import gzip, hashlib, os, socket, struct, tempfile, time, tracemalloc, zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import course_lib.download as dl
from course_lib.download import (DownloadError, atomic_write, cache_file, data_dir, download_file, download_mnist,
                                 download_requested, file_digest, get_fashion_mnist, read_idx, read_maybe_gzip, write_idx)
from local_http import Handler, serve
from strategies import file_bytes
from data_helpers import write, sha256, files_in, peak_memory, isolated   # noqa: F401 (isolated: an autouse fixture)


BODY = os.urandom(3000)

@pytest.fixture(scope='module')
def server():
    with serve({'/f.bin': BODY, '/small.bin': BODY[:40]}) as url: yield url


# ---------------------------------------------------------------- cache folder and the download flag

def test_cache_dir_follows_course_lib_home(monkeypatch, tmp_path):
    monkeypatch.setenv('COURSE_LIB_HOME', str(tmp_path/'elsewhere'))
    assert cache_file() == tmp_path/'elsewhere'/'data'/'mnist.pkl.gz'
    monkeypatch.delenv('COURSE_LIB_HOME')
    assert data_dir() == Path.home()/'.course_lib'/'data'

@pytest.mark.parametrize('value,want', [('1', True), ('yes', True), (' ON ', True), ('0', False), ('', False), ('no', False)])
def test_download_requested_by_env(monkeypatch, value, want):
    monkeypatch.setenv('COURSE_LIB_DOWNLOAD', value)
    assert download_requested() is want
    assert download_requested(True) is True


# ---------------------------------------------------------------- atomic writes

def test_atomic_write_replaces_only_on_success(tmp_path):
    p = tmp_path/'sub'/'f'
    with atomic_write(p) as f: f.write(b'one')
    assert p.read_bytes() == b'one'
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(p) as f:
            f.write(b'tw'); raise KeyboardInterrupt
    assert p.read_bytes() == b'one' and files_in(tmp_path/'sub') == ['f']


# ---------------------------------------------------------------- downloads (local server only)

def test_download_file_checks_and_saves(server, tmp_path):
    dest = download_file(server + '/f.bin', tmp_path/'dl'/'f', sha256=sha256(BODY), progress=False)
    assert dest.read_bytes() == BODY and files_in(tmp_path/'dl') == ['f']
    download_file(server + '/f.bin', dest, md5=hashlib.md5(BODY).hexdigest().upper(), progress=False)
    assert dest.read_bytes() == BODY

def test_wrong_digest_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError) as e: download_file(server + '/f.bin', tmp_path/'dl'/'f', sha256='0' * 64, progress=False)
    msg = str(e.value)
    assert server in msg and '0' * 64 in msg and sha256(BODY) in msg and 'Nothing was saved' in msg
    assert files_in(tmp_path/'dl') == []

def test_dropped_connection_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match='cut short') as e:
        download_file(server + '/drop/f.bin', tmp_path/'dl'/'f', sha256=sha256(BODY), progress=False)
    assert server in str(e.value) and sha256(BODY) in str(e.value)
    assert files_in(tmp_path/'dl') == []

def test_http_error_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match='404') as e:
        download_file(server + '/missing.bin', tmp_path/'dl'/'m', sha256=sha256(BODY), progress=False)
    assert '/missing.bin' in str(e.value) and files_in(tmp_path/'dl') == []

def test_unreachable_server_leaves_nothing(tmp_path):
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()   # a closed local port
    with pytest.raises(DownloadError): download_file(f'http://127.0.0.1:{port}/x', tmp_path/'dl'/'m', md5='0' * 32, progress=False)
    assert files_in(tmp_path/'dl') == []

def test_failed_download_keeps_existing_file(server, tmp_path):
    dest = write(tmp_path/'dl'/'f', b'old good copy')
    with pytest.raises(DownloadError): download_file(server + '/drop/f.bin', dest, sha256=sha256(BODY), progress=False)
    assert dest.read_bytes() == b'old good copy' and files_in(tmp_path/'dl') == ['f']

def test_interrupted_download_leaves_nothing(server, tmp_path, monkeypatch):
    def boom(*args, **kwargs): raise KeyboardInterrupt
    monkeypatch.setattr(dl, '_stream_to', boom)
    with pytest.raises(KeyboardInterrupt): download_file(server + '/f.bin', tmp_path/'dl'/'m', sha256=sha256(BODY))
    assert files_in(tmp_path/'dl') == []

@pytest.mark.parametrize('mode', ['trickle', 'slowheaders', 'stall'])
def test_deadline_ends_a_slow_or_stalled_download(server, tmp_path, mode):
    "One byte every 0.25 s never trips the 30 s read timeout; the 1 s deadline for the whole transfer ends it."
    start = time.monotonic()
    with pytest.raises(DownloadError, match='deadline of 1 s') as e:
        download_file(f'{server}/{mode}/f.bin', tmp_path/'dl'/'f', sha256=sha256(BODY), progress=False, timeout=30, deadline=1)
    took = time.monotonic() - start
    assert took < 10, took            # a generous bound for a busy machine: the transfer alone would take 750 s
    assert server in str(e.value) and files_in(tmp_path/'dl') == []

@pytest.mark.parametrize('scheme', ['http', 'https'])
def test_deadline_ends_a_silent_server(tmp_path, scheme):
    "A socket that accepts connections (the kernel's backlog does) but never says a word: over https the TLS handshake waits."
    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(4)
    try:
        start = time.monotonic()
        with pytest.raises(DownloadError, match='deadline of 1 s'):
            download_file(f'{scheme}://127.0.0.1:{s.getsockname()[1]}/x', tmp_path/'dl'/'f', md5='0' * 32, progress=False, timeout=30, deadline=1)
        assert time.monotonic() - start < 10 and files_in(tmp_path/'dl') == []
    finally: s.close()

def test_deadline_does_not_cut_a_transfer_that_finishes(server, tmp_path):
    Handler.pause = 0.01
    try: assert download_file(f'{server}/trickle/small.bin', tmp_path/'f', sha256=sha256(BODY[:40]), progress=False, deadline=60).read_bytes() == BODY[:40]
    finally: Handler.pause = 0.25

def test_download_mnist_uses_cache_and_prints_sha256(server, monkeypatch, capsys):
    monkeypatch.setattr(dl, 'MNIST_URL', server + '/f.bin')
    monkeypatch.setattr(dl, 'MNIST_SHA256', None)
    monkeypatch.setattr(dl, 'MNIST_MD5', hashlib.md5(BODY).hexdigest())
    Handler.hits.clear()
    assert download_mnist(progress=False).read_bytes() == BODY
    assert sha256(BODY) in capsys.readouterr().out
    assert download_mnist() == cache_file() and Handler.hits == ['/f.bin']   # the second call only reads the cache

def test_tilde_means_home(tmp_path, monkeypatch):
    "A `~` in COURSE_LIB_HOME or in a path means the home folder, not a folder named `~` here."
    monkeypatch.setenv('HOME', str(tmp_path/'me')); monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('COURSE_LIB_HOME', '~/course')
    assert data_dir() == tmp_path/'me'/'course'/'data'
    with atomic_write('~/notes.bin') as f: f.write(b'x')
    write_idx('~/a.idx.gz', np.arange(3, dtype=np.uint8))
    assert read_idx('~/a.idx.gz').tolist() == [0, 1, 2] and file_digest('~/notes.bin') == sha256(b'x')
    assert files_in(tmp_path/'me') == ['a.idx.gz', 'notes.bin'] and not (tmp_path/'~').exists()

def test_atomic_write_to_a_name_at_the_file_system_limit(tmp_path):
    "A destination name of 255 bytes (NAME_MAX on most file systems) still gets a valid temporary name."
    name = 'n' * os.pathconf(tmp_path, 'PC_NAME_MAX')
    with atomic_write(tmp_path/name) as f: f.write(b'done')
    assert files_in(tmp_path) == [name] and (tmp_path/name).read_bytes() == b'done'

def test_file_digest(tmp_path):
    p = write(tmp_path/'f', BODY)
    assert file_digest(p) == sha256(BODY) and file_digest(p, 'md5') == hashlib.md5(BODY).hexdigest()


# ---------------------------------------------------------------- bounded reads

def test_gzip_bomb_is_refused_within_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, 'MAX_FILE_BYTES', 1 << 20)
    p = write(tmp_path/'bomb.gz', gzip.compress(bytes(20 << 20)))     # 20 KB that expand to 20 MB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match='bomb.gz.*1,048,576'): read_maybe_gzip(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally: tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert read_maybe_gzip(write(tmp_path/'ok.gz', gzip.compress(bytes(1 << 20)))) == bytes(1 << 20)   # exactly the cap is fine

def test_gzip_data_past_what_the_header_claims_is_not_read(tmp_path):
    "A gzip'd IDX file whose 16-byte header claims 4 bytes but whose data inflates to 64 MB: read no further than the claim."
    p = write(tmp_path/'bomb.idx.gz', gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 4) + bytes(64 << 20)))
    err, peak = peak_memory(lambda: read_idx(p))
    assert 'bomb.idx.gz' in str(err) and 'has more' in str(err) and peak < 512 << 10, (err, peak)
    with pytest.raises(ValueError, match='limit of 100 bytes'): read_maybe_gzip(p, limit=100)

def test_read_maybe_gzip_reads_concatenated_members_and_plain_files(tmp_path):
    assert read_maybe_gzip(write(tmp_path/'two.gz', gzip.compress(b'ab') + gzip.compress(b'cd'))) == b'abcd'
    assert read_maybe_gzip(write(tmp_path/'plain', b'abc')) == b'abc'
    with pytest.raises(ValueError, match='trail.gz'): read_maybe_gzip(write(tmp_path/'trail.gz', gzip.compress(b'ab') + b'junk'))


# ---------------------------------------------------------------- IDX files

IDX_TYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]

@settings(max_examples=40)
@given(st.sampled_from(IDX_TYPES).flatmap(lambda t: hnp.arrays(t, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))),
       st.booleans())
def test_idx_round_trip(arr, gz):
    with tempfile.TemporaryDirectory() as d:
        p = write_idx(Path(d)/('a.idx.gz' if gz else 'a.idx'), arr)
        assert (p.read_bytes()[:2] == b'\x1f\x8b') == gz
        t = read_idx(p)
        assert sorted(os.listdir(d)) == [p.name]
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
    assert write_idx(tmp_path/'a.gz', t).read_bytes() == write_idx(tmp_path/'b.gz', t).read_bytes()   # reproducible gzip

@pytest.mark.parametrize('raw,msg', [
    (b'\x08\x03\x00\x00' + bytes(16), 'magic'),                                 # bytes in the wrong order
    (bytes([0, 0, 0x07, 1]) + struct.pack('>I', 1) + b'\0', 'magic'),           # unknown type
    (bytes([0, 0, 8, 0]), 'magic'),                                             # no dimensions
    (bytes([0, 0, 8, 65]) + bytes(4 * 65), 'magic'),                            # more dimensions than NumPy has
    (b'', 'magic'),
    (bytes([0, 0, 8, 3]) + struct.pack('>2I', 2, 2), 'header'),                 # header cut short
    (bytes([0, 0, 8, 2]) + struct.pack('>2I', 2, 3) + bytes(5), '5'),           # data cut short
    (bytes([0, 0, 8, 1]) + struct.pack('>I', 2) + bytes(3), 'has more'),        # trailing bytes
    (bytes([0, 0, 0x0D, 1]) + struct.pack('>I', 2) + bytes(6), '8'),            # float32 needs 8 bytes
    (bytes([0, 0, 8, 2]) + struct.pack('>2I', 2**32 - 1, 2**32 - 1) + bytes(8), '18,446'),   # claims 16 EiB
    (bytes([0, 0, 8, 4]) + struct.pack('>4I', *[65536] * 4), '18,446'),        # int64 product wraps around to 0
    (bytes([0, 0, 0x0E, 3]) + struct.pack('>3I', 2**31, 2**31, 0), 'MAX_FILE_BYTES'),   # 0 bytes, but overflowing strides
    (bytes([0, 0, 8, 3]) + struct.pack('>3I', 1 << 16, 1 << 10, 1 << 10), '68,719,476,736'),   # claims 64 GiB
])
def test_idx_bad_files(tmp_path, raw, msg):
    for name, content in (('bad', raw), ('bad.gz', gzip.compress(raw))):
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=msg) as e: read_idx(write(tmp_path/name, content))
            peak = tracemalloc.get_traced_memory()[1]
        finally: tracemalloc.stop()
        assert name in str(e.value) and peak < 64 * 1024, peak

def test_idx_truncated_gzip(tmp_path):
    raw = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 1000) + os.urandom(1000))
    with pytest.raises(ValueError, match='gzip'): read_idx(write(tmp_path/'t.gz', raw[:-20]))

def test_write_idx_is_as_strict_as_read_idx(tmp_path):
    with pytest.raises(ValueError, match='int64'): write_idx(tmp_path/'a', np.zeros(3, np.int64))
    with pytest.raises(ValueError, match='dimension'): write_idx(tmp_path/'a', np.zeros((), np.uint8))
    with pytest.raises(ValueError, match='2\\*\\*32'): write_idx(tmp_path/'a', np.zeros((2**32, 0), np.uint8))
    with pytest.raises(TypeError, match='BFloat16'): write_idx(tmp_path/'a', torch.zeros(3, dtype=torch.bfloat16))
    assert files_in(tmp_path) == []
    assert read_idx(write_idx(tmp_path/'a', torch.zeros(3, requires_grad=True))).tolist() == [0, 0, 0]   # its values

def test_write_idx_failure_keeps_the_old_file(tmp_path, monkeypatch):
    p = write_idx(tmp_path/'a.gz', np.arange(4, dtype=np.uint8))
    def boom(*args, **kwargs): raise OSError('disk full')
    monkeypatch.setattr(dl.gzip, 'compress', boom)
    with pytest.raises(OSError, match='disk full'): write_idx(p, np.arange(9, dtype=np.uint8))
    assert read_idx(p).tolist() == [0, 1, 2, 3] and files_in(tmp_path) == ['a.gz']


# ---------------------------------------------------------------- fuzz: every reader returns a valid result or a ValueError, within bounded memory

IDX_SEEDS = [bytes([0, 0, 8, 3]) + struct.pack('>3I', 2, 2, 3) + bytes(range(12)),
             bytes([0, 0, 0x0D, 2]) + struct.pack('>2I', 2, 2) + np.arange(4, dtype='>f4').tobytes(),
             bytes([0, 0, 0x0B, 1]) + struct.pack('>I', 3) + bytes(6)]

def content_size(raw, cap):
    "How many bytes the file holds: its length, or what its gzip data decompresses to (up to `cap`, even if damaged)."
    if raw[:2] != b'\x1f\x8b': return len(raw)
    try: return len(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, cap + 1))
    except zlib.error: return len(raw)

def bounded(f, raw, cap):
    "Run `f()`; assert it returned or raised ValueError, and that it allocated at most 16 bytes per byte the file holds (+256 KiB: zlib alone reserves a 32 KiB window and its state)."
    tracemalloc.reset_peak(); before = tracemalloc.get_traced_memory()[0]
    try: out, err = f(), None
    except ValueError as e: out, err = None, e
    peak = tracemalloc.get_traced_memory()[1] - before
    assert peak <= 16 * max(len(raw), content_size(raw, cap)) + 262144, (peak, len(raw))
    return out, err

@pytest.fixture(scope='module')
def traced():
    tracemalloc.start(); yield; tracemalloc.stop()

@settings(max_examples=150)
@given(st.one_of(file_bytes(IDX_SEEDS), file_bytes(IDX_SEEDS).map(lambda b: gzip.compress(b, mtime=0))))
def test_fuzz_read_idx(traced, raw):
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d)/'f.idx', raw)
        t, err = bounded(lambda: read_idx(p), raw, dl.MAX_FILE_BYTES)
    assert isinstance(t, torch.Tensor) and t.ndim >= 1 if err is None else str(p) in str(err)

@settings(max_examples=60)
@given(file_bytes([gzip.compress(bytes([0, 0, 8, 3]) + struct.pack('>3I', 2, 28, 28) + bytes(2 * 784), mtime=0)]))
def test_fuzz_get_fashion_mnist(traced, raw):
    with tempfile.TemporaryDirectory() as d:
        make_fashion_folder(Path(d), n_train=2, n_test=2)
        write(Path(d)/'train-images-idx3-ubyte.gz', raw)
        out, err = bounded(lambda: get_fashion_mnist(d), raw, dl.MAX_FILE_BYTES)
    assert err is not None or (out[0].shape == (2, 784) and out[0].dtype == torch.float32)

@settings(max_examples=40)
@given(st.binary(max_size=300))
def test_fuzz_file_digest(traced, raw):
    with tempfile.TemporaryDirectory() as d:
        p = write(Path(d)/'f', raw)
        out, _ = bounded(lambda: file_digest(p), raw, 0)
    assert out == sha256(raw)


# ---------------------------------------------------------------- Fashion-MNIST

def make_fashion_folder(folder, n_train=30, n_test=10, seed=0, gz=(True, False, True, False)):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {'train-images-idx3-ubyte': rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              'train-labels-idx1-ubyte': (np.arange(n_train) % 10).astype(np.uint8),
              't10k-images-idx3-ubyte': rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              't10k-labels-idx1-ubyte': (np.arange(n_test) % 10).astype(np.uint8)}
    for (stem, a), z in zip(arrays.items(), gz): write_idx(folder/(stem + ('.gz' if z else '')), a)
    return arrays

def check_layout(x, y):
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.ndim == 2 and x.shape[1] == 784 and y.shape == (len(x),)
    assert 0 <= x.min() and x.max() <= 1 and 0 <= y.min() and y.max() <= 9

def test_fashion_mnist_from_generated_folder(tmp_path, capsys):
    arrays = make_fashion_folder(tmp_path/'f')
    x, y, xv, yv = get_fashion_mnist(tmp_path/'f')
    check_layout(x, y); check_layout(xv, yv)
    assert (len(x), len(xv)) == (30, 10)
    assert np.array_equal((x * 255).round().to(torch.uint8).numpy(), arrays['train-images-idx3-ubyte'].reshape(30, 784))
    assert y.tolist() == arrays['train-labels-idx1-ubyte'].tolist()
    assert 'Fashion-MNIST' in capsys.readouterr().out

def test_fashion_mnist_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, 'FASHION_MNIST_DIR', tmp_path/'not-installed')
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist') as e: get_fashion_mnist()
    assert 'not-installed' in str(e.value)
    make_fashion_folder(tmp_path/'f')
    (tmp_path/'f'/'t10k-labels-idx1-ubyte').unlink()
    with pytest.raises(FileNotFoundError, match='t10k-labels'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.full(10, 12, np.uint8))
    with pytest.raises(ValueError, match='0..9'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.zeros(9, np.uint8))
    with pytest.raises(ValueError, match=r'labels uint8 \(10,\)'): get_fashion_mnist(tmp_path/'f')
    write_idx(tmp_path/'f'/'t10k-labels-idx1-ubyte', np.zeros(10, np.uint8))
    write_idx(tmp_path/'f'/'t10k-images-idx3-ubyte.gz', np.zeros((10, 27, 28), np.uint8))
    with pytest.raises(ValueError, match='28, 28'): get_fashion_mnist(tmp_path/'f')

@pytest.mark.skipif(not Path('/usr/share/datasets/fashion-mnist').is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist():
    x, y, xv, yv = get_fashion_mnist()
    check_layout(x, y); check_layout(xv, yv)
    assert (tuple(x.shape), tuple(xv.shape)) == ((60000, 784), (10000, 784))
    assert torch.bincount(y).tolist() == [6000] * 10 and torch.bincount(yv).tolist() == [1000] * 10
