#!/usr/bin/env python
"""Share of body lines in public functions and methods of course_lib that are argument validation.

A line counts as validation when it belongs to a `raise` statement, or to an `if` whose body only raises
(the `if …: raise …` guard). Public means: a module-level function or a class's method whose name (and
class name) has no leading underscore, dunder methods excluded except `__init__` and `__call__`.
Usage: tools/validation_share.py [--max PCT] [modules...]   (exit 1 when the total share exceeds --max)."""
import argparse, ast, pathlib, sys

PKG = pathlib.Path(__file__).resolve().parents[1] / 'course_lib'
SKIP = {'_nbdev', 'all', 'checks'}   # generated index, re-exports, and the validators themselves

def _only_raises(node): return isinstance(node, ast.If) and all(isinstance(s, ast.Raise) for s in node.body) and not node.orelse

def _lines(node): return set(range(node.lineno, node.end_lineno + 1))

def _public_funcs(tree):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith('_'): yield node.name, node
        if isinstance(node, ast.ClassDef) and not node.name.startswith('_'):
            for f in node.body:
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and (not f.name.startswith('_') or f.name in ('__init__', '__call__')):
                    yield f"{node.name}.{f.name}", f

def _body_lines(f):
    "Lines of `f`'s body, without its docstring and blank lines."
    body = f.body[1:] if f.body and isinstance(f.body[0], ast.Expr) and isinstance(getattr(f.body[0], 'value', None), ast.Constant) and isinstance(f.body[0].value.value, str) else f.body
    lines = set()
    for s in body: lines |= _lines(s)
    return lines

def measure(path):
    src = path.read_text(); tree = ast.parse(src); text = src.splitlines()
    rows = []
    for name, f in _public_funcs(tree):
        body = {l for l in _body_lines(f) if text[l - 1].strip() and not text[l - 1].strip().startswith('#')}
        val = set()
        for node in ast.walk(f):
            if isinstance(node, ast.Raise) or _only_raises(node): val |= _lines(node)
        rows.append((name, len(body), len(val & body)))
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('modules', nargs='*'); ap.add_argument('--max', type=float); ap.add_argument('-v', action='store_true')
    a = ap.parse_args()
    mods = a.modules or sorted(p.stem for p in PKG.glob('*.py') if p.stem not in SKIP and not p.stem.startswith('__'))
    tot_b = tot_v = 0
    for m in mods:
        rows = measure(PKG / f'{m}.py')
        b, v = sum(r[1] for r in rows), sum(r[2] for r in rows)
        tot_b, tot_v = tot_b + b, tot_v + v
        print(f"{m:<22} {v:>4} / {b:>4} body lines validate  ({100 * v / max(b, 1):5.1f} %)")
        if a.v:
            for n, bb, vv in rows:
                if vv: print(f"    {n:<40} {vv}/{bb}")
    share = 100 * tot_v / max(tot_b, 1)
    print(f"{'all':<22} {tot_v:>4} / {tot_b:>4} body lines validate  ({share:5.1f} %)")
    if a.max is not None and share > a.max: sys.exit(f"validation share {share:.1f} % exceeds {a.max} %")

if __name__ == '__main__': main()
