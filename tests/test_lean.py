"The package stays lean, as tools/lean_share.py counts it: few defensive lines, no over-long lines."
import importlib.util, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / 'tools' / 'lean_share.py'

def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True, text=True)

def test_package_within_the_bars():
    "At most 12 % of function-body lines check arguments (counted broadly) and at most 1 % of lines exceed 120 chars."
    r = _run('--max-defensive', '12', '--max-long', '1')
    assert r.returncode == 0, r.stdout + r.stderr

def test_the_count_sees_a_guard(tmp_path):
    "The tool counts an `if ...: raise` guard, a validator call and a validator's body (so the bar above can fail)."
    spec = importlib.util.spec_from_file_location('lean_share', TOOL)
    lean = importlib.util.module_from_spec(spec); spec.loader.exec_module(lean)
    p = tmp_path / 'm.py'
    p.write_text('def f(x):\n    if x < 0:\n        raise ValueError(x)\n    check_int("x", x)\n    return x\n\n'
                 'def _check_y(y):\n    return y\n' + 'z = 1  # ' + 'x' * 120 + '\n')
    defensive, body, long, n, per_fn = lean.measure(p)
    assert (defensive, body, long) == (4, 5, 1) and per_fn == {'f': 3, '_check_y': 1}
