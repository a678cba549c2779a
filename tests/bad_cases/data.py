from bad_cases import Bad
import gzip, tempfile
from pathlib import Path
import numpy as np
import course_lib.data as data
from course_lib.data import get_data, load_course_file, load_mnist_sample, safe_loads, save_course_file

def _split(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)

X, Y = _split()
OK = _split(2, 1)
NOWHERE = '/nonexistent-course-lib-dir/never-written.pkl.gz'   # every case fails before anything is written

def load_bomb():
    "A gzip'd file that inflates past the largest course-format file: refused before it is all read."
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/'bomb.pkl.gz'; p.write_bytes(gzip.compress(bytes(2 << 20)))
        saved, data.COURSE_FILE_MAX_BYTES = data.COURSE_FILE_MAX_BYTES, 1 << 20
        try: load_course_file(p)
        finally: data.COURSE_FILE_MAX_BYTES = saved

CASES = [
    Bad('get_data-source', lambda: get_data(source='internet'), ValueError, ('source', "'internet'")),
    Bad('get_data-source-type', lambda: get_data(source=3), ValueError, ('source', '3')),
    Bad('get_data-download-str', lambda: get_data(download='yes'), TypeError, ('download', "'yes'")),
    Bad('get_data-download-int', lambda: get_data(download=1), TypeError, ('download', '1')),
    Bad('get_data-path-int', lambda: get_data(path=42), TypeError, ('PathLike', 'int')),
    Bad('get_data-path-ignored', lambda: get_data(path=NOWHERE, source='sample'), ValueError, ('path=', "source='sample'")),
    Bad('load_course_file-int', lambda: load_course_file(42), TypeError, ('PathLike', 'int')),
    Bad('load_course_file-none', lambda: load_course_file(None), TypeError, ('PathLike', 'NoneType')),
    Bad('load_course_file-bomb', load_bomb, ValueError, ('bomb.pkl.gz', '1,048,576')),
    Bad('sample-zero', lambda: load_mnist_sample(0), ValueError, ('n_valid_per_class', '0')),
    Bad('sample-negative', lambda: load_mnist_sample(-1), ValueError, ('n_valid_per_class', '-1')),
    Bad('sample-too-many', lambda: load_mnist_sample(500), ValueError, ('n_valid_per_class', '500')),
    Bad('sample-float', lambda: load_mnist_sample(2.5), TypeError, ('n_valid_per_class', '2.5')),
    Bad('save-float-labels', lambda: save_course_file(NOWHERE, (X, Y + 0.5), OK, OK), ValueError, ('train split', 'y integer', 'float64')),
    Bad('save-not-a-pair', lambda: save_course_file(NOWHERE, (X, Y), X, OK), ValueError, ('unpack',)),
    Bad('save-int-pixels', lambda: save_course_file(NOWHERE, (X, Y), OK, ((X * 255).astype(np.int64), Y)), ValueError, ('test', '[0, 1]')),
    Bad('save-labels-range', lambda: save_course_file(NOWHERE, (X, Y + 10), OK, OK), ValueError, ('train', '0..9')),
    Bad('save-shape', lambda: save_course_file(NOWHERE, (X[:, :700], Y), OK, OK), ValueError, ('train', '(n, 784)')),
    Bad('save-path-int', lambda: save_course_file(42, (X, Y), OK, OK), TypeError, ('PathLike', 'int')),
    Bad('safe_loads-str', lambda: safe_loads('not bytes'), TypeError, ('string argument',)),
]
