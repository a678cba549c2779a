"""The 2019 course's notebooks, run against `course_lib.exp` with only their import lines changed.

Needs a checkout of fastai/course-v3: set COURSE_V3_DL2 to its `nbs/dl2` folder (the notebooks and `exp/` modules
are read from there at test time; nothing of the course is stored here). Without it, every test here is skipped.
Each notebook runs in its own process (they change global state: `torch.Tensor.ndim`, thread counts, rcParams) on
an MNIST-shaped file written to a temporary course_lib cache; see `course_notebooks.py`.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest
import torch

from course_notebooks import NOTEBOOKS, NEEDS_CUDA, course_dir, write_mnist_shaped

HERE = Path(__file__).resolve().parent
DL2 = course_dir()
if DL2 is None:
    pytest.skip('no fastai/course-v3 checkout: set COURSE_V3_DL2 to its nbs/dl2 folder', allow_module_level=True)

MODULES = ['nb_00', 'nb_01', 'nb_02', 'nb_03', 'nb_04', 'nb_05', 'nb_05b', 'nb_06', 'nb_07', 'nb_07a', 'nb_08',
           'nb_09', 'nb_09b', 'nb_09c', 'nb_10b']

@pytest.fixture(scope='module')
def course_home(tmp_path_factory):
    "A course_lib home whose cache holds an MNIST-shaped file (the offline sample's digits repeated)."
    home = tmp_path_factory.mktemp('home')
    write_mnist_shaped(home)
    return home

def checkout_names():
    "{module: public names} of the checkout's `exp/nb_XX.py`, imported in a child process (fastai v1, CUDA stubbed)."
    code = textwrap.dedent(f'''
        import importlib, json, sys, types
        fastai = types.ModuleType('fastai'); fastai.datasets = types.ModuleType('fastai.datasets')
        sys.modules.update({{'fastai': fastai, 'fastai.datasets': fastai.datasets}})
        import torch; torch.Tensor.cuda = lambda self, *a, **k: self   # exp/nb_08.py calls .cuda() at import
        sys.path.insert(0, {str(DL2)!r})
        print(json.dumps({{m: sorted(n for n in dir(importlib.import_module('exp.' + m)) if not n.startswith('_'))
                          for m in {MODULES!r}}}))''')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.splitlines()[-1])

def test_names_match_the_checkout():
    "Each module gives the checkout's module's public names, plus fastcore's `test_close` from nb_01 on."
    import importlib
    for m, names in checkout_names().items():
        ours = set(importlib.import_module(f'course_lib.exp.{m}').__all__)
        extra = {'test_close'} if m != 'nb_00' else set()
        assert ours == set(names) | extra, (m, sorted(set(names) - ours), sorted(ours - set(names) - extra))

@pytest.mark.parametrize('name', NOTEBOOKS)
def test_course_notebook(name, course_home):
    if name in NEEDS_CUDA and not torch.cuda.is_available():
        pytest.skip(f'{name} calls torch.cuda.set_device itself: it needs a GPU')
    env = dict(os.environ, COURSE_LIB_HOME=str(course_home), COURSE_V3_DL2=str(DL2), MPLBACKEND='Agg')
    env.pop('COURSE_LIB_DOWNLOAD', None)
    r = subprocess.run([sys.executable, str(HERE/'course_notebooks.py'), name], capture_output=True, text=True,
                       env=env, timeout=1800)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
