#!/usr/bin/env python
"""How much of course_lib checks its arguments instead of doing its lesson's work, and how many lines are too long.

Defensive lines, counted broadly: every line of a `raise` statement; every line of an `if` whose body only raises
(the whole guard); every line that calls a validator (a function whose name starts with `check` or `_check`); and the
whole body of every validator and of `checks.py`. The denominator is every function-body line (methods and nested
functions too, without docstrings, comments or blank lines). Long lines are lines over 120 characters in any module.
Usage: tools/lean_share.py [--max-defensive PCT] [--max-long PCT] [-v] [modules...]   (exit 1 over a maximum)."""
import argparse, ast, pathlib, re, sys

PKG = pathlib.Path(__file__).resolve().parents[1] / 'course_lib'
SKIP = {'_nbdev', ''}   # nbdev's generated index and the package's empty __init__.py
VALIDATOR = re.compile(r'_?check')

def _lines(node): return set(range(node.lineno, node.end_lineno + 1))

def _called(node):
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ''

def _body(f, text):
    "Lines of `f`'s body without its docstring, comments and blank lines."
    body = f.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    lines = set().union(*map(_lines, body)) if body else set()
    return {l for l in lines if text[l - 1].strip() and not text[l - 1].strip().startswith('#')}

def _name(path):
    "The module's dotted name inside the package: 'data', or 'exp' for exp/__init__.py."
    parts = path.relative_to(PKG).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)

def _is_guard(n): return isinstance(n, ast.If) and n.body and all(isinstance(s, ast.Raise) for s in n.body) and not n.orelse

def measure(path):
    "(defensive lines, body lines, long lines, all lines, {function: defensive lines}) of the module at `path`."
    src = path.read_text(); text = src.splitlines(); tree = ast.parse(src)
    body, defensive, per_fn = set(), set(), {}
    for f in ast.walk(tree):
        if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
        fb = _body(f, text); body |= fb
        d = set(fb) if VALIDATOR.match(f.name) or path.stem == 'checks' else set()
        for n in ast.walk(f):
            if isinstance(n, ast.Raise) or _is_guard(n) or isinstance(n, ast.Call) and VALIDATOR.match(_called(n)):
                d |= _lines(n)
        d &= fb; defensive |= d
        if d: per_fn[f.name] = per_fn.get(f.name, 0) + len(d)
    long = sum(len(l) > 120 for l in text)
    return len(defensive), len(body), long, len(text), per_fn

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('modules', nargs='*'); ap.add_argument('-v', action='store_true', help='list functions with checks')
    ap.add_argument('--max-defensive', type=float); ap.add_argument('--max-long', type=float)
    a = ap.parse_args()
    every = {_name(p): p for p in sorted(PKG.rglob('*.py')) if _name(p) not in SKIP}
    paths = {m: every[m] for m in a.modules} if a.modules else every
    td = tb = tl = tn = 0
    print(f"{'module':<22} {'defensive / body lines':>24}   {'long / all lines':>18}")
    for m, p in paths.items():
        d, b, l, n, per_fn = measure(p)
        td, tb, tl, tn = td + d, tb + b, tl + l, tn + n
        print(f"{m:<22} {d:>5} / {b:>5} ({100 * d / max(b, 1):5.1f} %)   {l:>4} / {n:>5} ({100 * l / max(n, 1):4.1f} %)")
        if a.v:
            for name, k in sorted(per_fn.items(), key=lambda kv: -kv[1]): print(f"    {name:<40} {k}")
    dp, lp = 100 * td / max(tb, 1), 100 * tl / max(tn, 1)
    print(f"{'TOTAL':<22} {td:>5} / {tb:>5} ({dp:5.1f} %)   {tl:>4} / {tn:>5} ({lp:4.1f} %)")
    bad = [f"defensive share {dp:.1f} % exceeds {a.max_defensive} %"] if a.max_defensive is not None and dp > a.max_defensive else []
    bad += [f"long-line share {lp:.1f} % exceeds {a.max_long} %"] if a.max_long is not None and lp > a.max_long else []
    if bad: sys.exit('; '.join(bad))

if __name__ == '__main__': main()
