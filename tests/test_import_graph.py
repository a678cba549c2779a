"The package's import graph follows the lessons: no module imports a later lesson's module or another's private name."
import ast, collections, pathlib, re
import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / 'course_lib'

def _notebook(path):
    "The notebook a generated module says it comes from, e.g. '05b_early_stopping'."
    m = re.search(r'File to edit: nbs/(\S+)\.ipynb', path.read_text().split('\n', 1)[0])
    return m.group(1) if m else None

def _modules():
    return {str(p.relative_to(PKG).with_suffix('')).replace('/', '.'): p for p in PKG.rglob('*.py')
            if p.stem not in ('__init__', '_nbdev')}

def _relative_imports(path):
    "(module imported, names imported) for every relative import in `path`, resolved against the package."
    tree, pkg = ast.parse(path.read_text()), path.parent.relative_to(PKG).parts
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level:
            base = list(pkg)[:len(pkg) - (n.level - 1)] if n.level > 1 else list(pkg)
            yield '.'.join(base + ([n.module] if n.module else [])), [a.name for a in n.names]

def _order(nb): return re.match(r'\d+[a-z]?', nb).group()

MODULES = _modules()

def test_every_module_names_its_notebook():
    assert all(_notebook(p) for p in MODULES.values()), [m for m, p in MODULES.items() if not _notebook(p)]

@pytest.mark.parametrize('mod', sorted(MODULES))
def test_imports_only_earlier_lessons(mod):
    nb = _notebook(MODULES[mod])
    for target, names in _relative_imports(MODULES[mod]):
        assert target in MODULES, f"{mod} imports {target}, which is not a module of course_lib"
        tnb = _notebook(MODULES[target])
        assert tnb == nb or _order(tnb) < _order(nb) or (_order(tnb) == _order(nb) and tnb < nb), \
            f"{mod} (notebook {nb}) imports {target}, from the later lesson {tnb}"
        private = [n for n in names if n.startswith('_')]
        assert not private, f"{mod} imports the private names {private} from {target}: make them public there"

def test_one_meaning_per_private_name():
    "A private function or class name is defined by one module only."
    where = collections.defaultdict(set)
    for mod, p in MODULES.items():
        for n in ast.parse(p.read_text()).body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name.startswith('_') and not n.name.startswith('__'):
                where[n.name].add(mod)
    assert not {k: v for k, v in where.items() if len(v) > 1}

def test_order_detects_a_later_import():
    "The ordering the tests rely on puts lettered lessons after their number and before the next one."
    assert _order('05') < _order('05b') < _order('06') and _order('00a') < _order('00c') < _order('01')
