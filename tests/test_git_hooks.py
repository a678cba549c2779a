"`make hooks`: git stages notebooks cleaned, from a shell whose PATH lacks the project's venv (git hooks, not PyTorch hooks)."
import json, os, shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = 'nbs/99_all.ipynb'
BARE_PATH = '/usr/local/bin:/usr/bin:/bin'   # no .venv/bin, so no nbdev_clean_nbs


def git(repo, *args, check=True):
    env = {'PATH': BARE_PATH, 'HOME': str(repo), 'GIT_CONFIG_NOSYSTEM': '1', 'LANG': 'C.UTF-8'}
    return subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', *args], cwd=repo, env=env,
                          capture_output=True, text=True, check=check)


@pytest.fixture
def repo(tmp_path):
    "A fresh git repository holding one clean notebook, the hook scripts and a link to the project's venv."
    r = tmp_path / 'repo'
    (r / 'nbs').mkdir(parents=True); (r / 'tools').mkdir()
    shutil.copy(ROOT / NB, r / NB)
    for f in ('install_hooks.sh', 'nb_filter.sh'): shutil.copy(ROOT / 'tools' / f, r / 'tools' / f)
    (r / '.venv').symlink_to(ROOT / '.venv')
    git(r, 'init', '-q'); git(r, 'add', NB); git(r, 'commit', '-qm', 'clean notebook')
    assert shutil.which('nbdev_clean_nbs', path=BARE_PATH) is None
    subprocess.run(['bash', 'tools/install_hooks.sh'], cwd=r, env={'PATH': BARE_PATH, 'HOME': str(r)}, check=True,
                   capture_output=True)
    return r


def dirty(path):
    "Edit the notebook as Jupyter does when it runs it: execution counts, cell and notebook metadata."
    nb = json.loads(path.read_text(encoding='utf-8'))
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    for i, c in enumerate(code): c['execution_count'] = i + 1; c['metadata']['scrolled'] = True
    nb['metadata']['language_info'] = {'name': 'python', 'version': '3.11.7'}
    path.write_text(json.dumps(nb, indent=2), encoding='utf-8')


def test_git_add_stages_the_notebook_cleaned(repo):
    clean = (repo / NB).read_text(encoding='utf-8')
    dirty(repo / NB)
    assert (repo / NB).read_text(encoding='utf-8') != clean
    git(repo, 'add', NB)
    staged = git(repo, 'show', f':{NB}').stdout
    nb = json.loads(staged)
    assert all(c.get('execution_count') is None for c in nb['cells'] if c['cell_type'] == 'code')
    assert not any('scrolled' in c['metadata'] for c in nb['cells'])
    assert 'language_info' not in nb['metadata']
    assert staged == clean                      # only Jupyter's noise was added: the index holds the clean notebook
    assert git(repo, 'status', '--porcelain', '--', 'nbs').stdout == ''   # and git sees no change at all


def test_git_add_from_a_subfolder(repo):
    dirty(repo / NB)
    git(repo / 'nbs', 'add', Path(NB).name)
    assert git(repo, 'show', f':{NB}').stdout == git(repo, 'show', f'HEAD:{NB}').stdout


def test_a_real_edit_is_staged(repo):
    nb = json.loads((repo / NB).read_text(encoding='utf-8'))
    nb['cells'][2]['source'] = 'A changed sentence.'
    (repo / NB).write_text(json.dumps(nb, indent=2), encoding='utf-8')
    git(repo, 'add', NB)
    assert json.loads(git(repo, 'show', f':{NB}').stdout)['cells'][2]['source'] == 'A changed sentence.'


def test_without_any_nbdev_git_add_says_what_to_do(repo):
    (repo / '.venv').unlink()
    dirty(repo / NB)
    r = git(repo, 'add', NB, check=False)
    assert r.returncode != 0
    assert 'make setup' in r.stderr and 'nbdev_clean_nbs' in r.stderr


def test_make_hooks_installs_the_filter(tmp_path):
    "`make hooks` in a clone with its setup done writes the clean filter into that clone's git config."
    r = tmp_path / 'clone'
    (r / 'tools').mkdir(parents=True); (r / '.venv').mkdir()
    shutil.copy(ROOT / 'Makefile', r / 'Makefile')
    for f in ('install_hooks.sh', 'nb_filter.sh'): shutil.copy(ROOT / 'tools' / f, r / 'tools' / f)
    (r / 'tools' / 'install_system_deps.sh').write_text('exit 0\n')
    for f in ('requirements-pins.txt', 'constraints.txt', 'setup.py', 'settings.ini'): (r / f).write_text('')
    (r / '.venv' / '.installed').touch()              # setup is up to date: make goes straight to the hooks
    git(r, 'init', '-q')
    env = {'PATH': BARE_PATH, 'HOME': str(r), 'GIT_CONFIG_NOSYSTEM': '1'}
    subprocess.run(['make', '-s', 'hooks'], cwd=r, env=env, check=True, capture_output=True)
    assert 'nb_filter.sh' in git(r, 'config', '--local', 'filter.clean-nbs.clean').stdout
    assert git(r, 'config', '--local', 'filter.clean-nbs.required').stdout.strip() == 'true'
    assert '*.ipynb filter=clean-nbs' in (r / '.git' / 'info' / 'attributes').read_text()
