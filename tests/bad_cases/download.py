from bad_cases import Bad
import tempfile
from pathlib import Path
import numpy as np
import torch
from course_lib.download import (atomic_write, download_file, download_requested, file_digest, get_fashion_mnist, read_idx,
                                 read_maybe_gzip, write_idx)

URL, SHA = 'http://127.0.0.1:9/never-fetched', '0' * 64     # every case fails its checks before touching the network
DEST = Path(tempfile.gettempdir())/'course-lib-bad-case-dir'/'never-written'

def dl(**kw): return lambda: download_file(**{'url': URL, 'dest': DEST, 'sha256': SHA, **kw})

CASES = [
    Bad('download-url-int', dl(url=42), TypeError, ('url', '42')),
    Bad('download-url-scheme', dl(url='ftp://example.org/x'), ValueError, ('url', "'ftp://example.org/x'")),
    Bad('download-url-file', dl(url='file:///etc/passwd'), ValueError, ('url', "'file:///etc/passwd'")),
    Bad('download-no-digest', dl(sha256=None), ValueError, ('sha256', 'md5')),
    Bad('download-sha256-short', dl(sha256='abc'), ValueError, ('sha256', "'abc'")),
    Bad('download-sha256-not-hex', dl(sha256='z' * 64), ValueError, ('sha256', 'zzz')),
    Bad('download-md5-int', dl(md5=123), TypeError, ('md5', '123')),
    Bad('download-timeout-zero', dl(timeout=0), ValueError, ('timeout', '0')),
    Bad('download-timeout-str', dl(timeout='5'), TypeError, ('timeout', "'5'")),
    Bad('download-deadline-negative', dl(deadline=-1), ValueError, ('deadline', '-1')),
    Bad('download-deadline-nan', dl(deadline=float('nan')), ValueError, ('deadline', 'nan')),
    Bad('download-progress-str', dl(progress='no'), TypeError, ('progress', "'no'")),
    Bad('download-dest-none', dl(dest=None), TypeError, ('dest', 'None')),
    Bad('download_requested-str', lambda: download_requested('yes'), TypeError, ('download', "'yes'")),
    Bad('file_digest-algorithm', lambda: file_digest(__file__, 'sha3000'), ValueError, ('algorithm', "'sha3000'")),
    Bad('file_digest-path-int', lambda: file_digest(42), TypeError, ('path', '42')),
    Bad('atomic_write-path-int', lambda: atomic_write(42).__enter__(), TypeError, ('path', '42')),
    Bad('read_idx-path-int', lambda: read_idx(42), TypeError, ('path', '42')),
    Bad('read_maybe_gzip-none', lambda: read_maybe_gzip(None), TypeError, ('path', 'None')),
    Bad('write_idx-list', lambda: write_idx(DEST, [1, 2]), TypeError, ('x', 'list')),
    Bad('write_idx-int64', lambda: write_idx(DEST, np.zeros(3, np.int64)), TypeError, ('x', 'int64')),
    Bad('write_idx-bool', lambda: write_idx(DEST, np.zeros(3, bool)), TypeError, ('x', 'bool')),
    Bad('write_idx-0d', lambda: write_idx(DEST, np.zeros((), np.uint8)), ValueError, ('x', '()')),
    Bad('write_idx-dim-2**32', lambda: write_idx(DEST, np.zeros((2**32, 0), np.uint8)), ValueError, ('x', '4294967296')),
    Bad('write_idx-requires-grad', lambda: write_idx(DEST, torch.zeros(3, requires_grad=True)), ValueError, ('x', 'detach')),
    Bad('write_idx-bfloat16', lambda: write_idx(DEST, torch.zeros(3, dtype=torch.bfloat16)), TypeError, ('x', 'bfloat16')),
    Bad('write_idx-complex', lambda: write_idx(DEST, torch.zeros(3, dtype=torch.complex64)), TypeError, ('x', 'complex64')),
    Bad('write_idx-sparse', lambda: write_idx(DEST, torch.eye(3).to_sparse()), TypeError, ('x', 'sparse')),
    Bad('write_idx-path-int', lambda: write_idx(42, np.zeros(3, np.uint8)), TypeError, ('path', '42')),
    Bad('get_fashion_mnist-path-int', lambda: get_fashion_mnist(42), TypeError, ('path', '42')),
]
