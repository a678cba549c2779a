"Bad input gets a ValueError or TypeError that names the argument: every case in tests/bad_cases/*.py."
import importlib, pkgutil, pathlib, sys
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import bad_cases

def _all_cases():
    for m in sorted(pkgutil.iter_modules(bad_cases.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f'bad_cases.{m.name}')
        for case in mod.CASES: yield pytest.param(case, id=f'{m.name}:{case.id}')

CASES = list(_all_cases())

def test_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))

@pytest.mark.parametrize('case', CASES)
def test_bad_input(case):
    assert case.exc in (ValueError, TypeError) or issubclass(case.exc, (ValueError, TypeError)), case.exc
    with pytest.raises(case.exc) as info: case.call()
    msg = str(info.value)
    for name in case.names: assert name in msg, f"{name!r} not in the message {msg!r}"
