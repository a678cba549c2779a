from bad_cases import Bad
import gzip, struct, tempfile
from pathlib import Path
import numpy as np
import torch
from course_lib.download import (atomic_write, download_file, download_requested, file_digest, get_fashion_mnist, read_idx,
                                 read_maybe_gzip, write_idx)

URL, SHA = 'http://127.0.0.1:9/never-fetched', '0' * 64     # every case fails its checks before touching the network
DEST = Path(tempfile.gettempdir())/'course-lib-bad-case-dir'/'never-written'

def dl(**kw): return lambda: download_file(**{'url': URL, 'dest': DEST, 'sha256': SHA, **kw})

def read_file(reader, name, raw, **kw):
    "A call of `reader` on a file holding `raw`, written to a fresh temporary folder when the case runs."
    def call():
        with tempfile.TemporaryDirectory() as d:
            p = Path(d)/name; p.write_bytes(raw); return reader(p, **kw)
    return call

IDX_64GIB = bytes([0, 0, 8, 3]) + struct.pack('>3I', 1 << 16, 1 << 10, 1 << 10)           # a 16-byte header claiming 64 GiB
IDX_BOMB = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack('>I', 4) + bytes(16 << 20))   # claims 4 bytes, inflates to 16 MB

CASES = [
    Bad('download-url-int', dl(url=42), ValueError, ('url', '42')),
    Bad('download-url-scheme', dl(url='ftp://example.org/x'), ValueError, ('url', "'ftp://example.org/x'")),
    Bad('download-url-file', dl(url='file:///etc/passwd'), ValueError, ('url', "'file:///etc/passwd'")),
    Bad('download-no-digest', dl(sha256=None), ValueError, ('sha256', 'md5')),
    Bad('download-sha256-short', dl(sha256='abc'), ValueError, ('sha256', "'abc'")),
    Bad('download-sha256-not-hex', dl(sha256='z' * 64), ValueError, ('sha256', 'zzz')),
    Bad('download-md5-int', dl(md5=123), ValueError, ('md5', '123')),
    Bad('download-timeout-zero', dl(timeout=0), ValueError, ('timeout', '0')),
    Bad('download-timeout-str', dl(timeout='5'), TypeError, ('timeout', "'5'")),
    Bad('download-deadline-negative', dl(deadline=-1), ValueError, ('deadline', '-1')),
    Bad('download-deadline-nan', dl(deadline=float('nan')), ValueError, ('deadline', 'nan')),
    Bad('download-dest-none', dl(dest=None), TypeError, ('PathLike', 'NoneType')),
    Bad('download_requested-str', lambda: download_requested('yes'), TypeError, ('download', "'yes'")),
    Bad('file_digest-algorithm', lambda: file_digest(__file__, 'sha3000'), ValueError, ('unsupported hash type', 'sha3000')),
    Bad('file_digest-path-int', lambda: file_digest(42), TypeError, ('PathLike', 'int')),
    Bad('atomic_write-path-int', lambda: atomic_write(42).__enter__(), TypeError, ('PathLike', 'int')),
    Bad('read_idx-path-int', lambda: read_idx(42), TypeError, ('PathLike', 'int')),
    Bad('read_idx-claims-64GiB', read_file(read_idx, 'big.idx', IDX_64GIB), ValueError, ('big.idx', '68,719,476,736', 'MAX_FILE_BYTES')),
    Bad('read_idx-gzip-inflates-past-header', read_file(read_idx, 'bomb.idx.gz', IDX_BOMB), ValueError, ('bomb.idx.gz', 'has more')),
    Bad('read_maybe_gzip-past-limit', read_file(read_maybe_gzip, 'bomb.gz', IDX_BOMB, limit=1 << 20), ValueError, ('bomb.gz', '1,048,576')),
    Bad('read_maybe_gzip-none', lambda: read_maybe_gzip(None), TypeError, ('PathLike', 'NoneType')),
    Bad('write_idx-list', lambda: write_idx(DEST, [1, 2]), ValueError, ('x', 'int64')),
    Bad('write_idx-int64', lambda: write_idx(DEST, np.zeros(3, np.int64)), ValueError, ('x', 'int64')),
    Bad('write_idx-bool', lambda: write_idx(DEST, np.zeros(3, bool)), ValueError, ('x', 'bool')),
    Bad('write_idx-0d', lambda: write_idx(DEST, np.zeros((), np.uint8)), ValueError, ('x', '()')),
    Bad('write_idx-dim-2**32', lambda: write_idx(DEST, np.zeros((2**32, 0), np.uint8)), ValueError, ('x', '4294967296')),
    Bad('write_idx-bfloat16', lambda: write_idx(DEST, torch.zeros(3, dtype=torch.bfloat16)), TypeError, ('BFloat16',)),
    Bad('write_idx-complex', lambda: write_idx(DEST, torch.zeros(3, dtype=torch.complex64)), ValueError, ('x', 'complex64')),
    Bad('write_idx-sparse', lambda: write_idx(DEST, torch.eye(3).to_sparse()), TypeError, ('Sparse', 'to_dense')),
    Bad('write_idx-path-int', lambda: write_idx(42, np.zeros(3, np.uint8)), TypeError, ('PathLike', 'int')),
    Bad('get_fashion_mnist-path-int', lambda: get_fashion_mnist(42), TypeError, ('PathLike', 'int')),
]
