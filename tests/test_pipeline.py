"The daily loop works: editing a notebook's `#export` cell, then `nbdev_build_lib`, changes what `import` sees."
import json, os, shutil, subprocess, sys, uuid
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns('.venv', '.git', '_site', '.hypothesis', '.pytest_cache', '__pycache__',
                                '*.egg-info', '.ipynb_checkpoints', 'docs')

def _export_cell(src):
    return {'cell_type': 'code', 'execution_count': None, 'id': uuid.uuid4().hex[:8],
            'metadata': {}, 'outputs': [], 'source': src}

def _build_and_call(repo, expr):
    subprocess.run([str(BIN / 'nbdev_build_lib'), '--fname', 'nbs/00c_data.ipynb'], cwd=repo, check=True,
                   capture_output=True, text=True)
    code = f"import course_lib, course_lib.data as d; print(course_lib.__file__); print({expr})"
    env = {**os.environ, 'PYTHONPATH': str(repo)}
    out = subprocess.run([sys.executable, '-c', code], cwd=repo, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[0], out[1]

@pytest.fixture
def repo_copy(tmp_path):
    dst = tmp_path / 'repo'
    shutil.copytree(ROOT, dst, ignore=IGNORE)
    return dst

def test_edit_export_cell_then_build_changes_import(repo_copy):
    nb_path = repo_copy / 'nbs' / '00c_data.ipynb'
    nb = json.loads(nb_path.read_text())
    nb['cells'].append(_export_cell('#export\ndef pipeline_probe():\n    "Added by the pipeline test."\n    return 42'))
    nb_path.write_text(json.dumps(nb, indent=1))
    where, value = _build_and_call(repo_copy, 'd.pipeline_probe()')
    assert Path(where).is_relative_to(repo_copy), where   # imported the copy, not the installed package
    assert value == '42'
    assert 'pipeline_probe' in (repo_copy / 'course_lib' / 'data.py').read_text()

    nb['cells'][-1]['source'] = nb['cells'][-1]['source'].replace('return 42', 'return 43')
    nb_path.write_text(json.dumps(nb, indent=1))
    assert _build_and_call(repo_copy, 'd.pipeline_probe()')[1] == '43'

def test_removing_export_flag_removes_name(repo_copy):
    nb_path = repo_copy / 'nbs' / '00c_data.ipynb'
    nb = json.loads(nb_path.read_text())
    nb['cells'].append(_export_cell('def pipeline_probe(): return 1'))   # no #export flag
    nb_path.write_text(json.dumps(nb, indent=1))
    assert _build_and_call(repo_copy, "hasattr(d, 'pipeline_probe')")[1] == 'False'
