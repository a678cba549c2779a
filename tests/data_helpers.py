"Helpers shared by the tests of course_lib.data and course_lib.download: files on disk and an isolated data folder."
import hashlib, tracemalloc
from pathlib import Path
import pytest

def write(path, raw):
    "Write bytes `raw` to `path` (making its folder) and return the path."
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True); path.write_bytes(raw); return path

def sha256(raw): return hashlib.sha256(raw).hexdigest()

def files_in(folder): return sorted(p.name for p in Path(folder).rglob('*')) if Path(folder).exists() else []

@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    "Every test gets an empty cache folder and none of the user's data settings."
    monkeypatch.setenv('COURSE_LIB_HOME', str(tmp_path/'home'))
    for v in ('COURSE_LIB_DATA', 'COURSE_LIB_DOWNLOAD'): monkeypatch.delenv(v, raising=False)
    return tmp_path

def peak_memory(call, exc=ValueError):
    "Run `call()`, which must raise `exc`; return (the error, the most memory it held above the start, in bytes)."
    started = not tracemalloc.is_tracing()
    if started: tracemalloc.start()
    tracemalloc.reset_peak(); before = tracemalloc.get_traced_memory()[0]
    try:
        with pytest.raises(exc) as e: call()
        return e.value, tracemalloc.get_traced_memory()[1] - before
    finally:
        if started: tracemalloc.stop()
