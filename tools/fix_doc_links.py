#!/usr/bin/env python3
"""Repair the cross-links nbdev 1 writes into docs/*.html (run by tools/build_docs.sh after nbdev_build_docs).

    python3 tools/fix_doc_links.py docs     # rewrites docs/*.html in place; idempotent

nbdev turns every backticked name it knows into a link, and guesses wrong in a few ways:
  * a backticked call with spaces, `Runner.fit(epochs, learn)`, becomes a markdown link with a space in its
    URL that no markdown parser accepts: the page shows the raw `[...](...)` text. We keep the code, unlinked;
  * a name documented on this page as well links elsewhere (`get_model`): it links to this page's entry (the
    API index's rows are not entries: they link to the lessons);
  * a name inside a class's entry links to a function of the same name elsewhere (`fit` in `Runner`'s
    docstring -> `minibatch.fit`): when the class has a method of that name, it links to the method;
  * the bare word of a module (`data`) links to that lesson's page: it is left as code;
  * a name without a doc entry (a constant such as `MNIST_URL`) links to an anchor that does not exist: it
    links to its entry in the API index (all.html, one row per public name) or, failing that, is unlinked;
  * a class's base, `BatchNorm(nf) :: Module`, is linked by its bare name: a `torch.nn.Module` subclass linked to
    lesson 02's toy `Module`. The base is looked up in the package: a PyTorch class links to PyTorch's docs, any
    other class outside course_lib is left unlinked;
  * a name that two lessons define (`Learner`: 04's, then 09b's) links to the later one from every page: it links
    to the entry of the latest lesson at or before this page (`lessons`: each page's lesson entries, in order);
    a name only a later lesson defines that torch has too (10b's `unsqueeze`, in 01's prose about torch's) is left
    as code; other names a later lesson defines (`get_data` in 00b) keep their forward link;
  * a method without a docstring of its own shows the one it inherits (`Ensemble.forward` showed
    `nn.Module.forward`'s reST): that text is dropped, the signature stays.
It also drops the random `id="cell-id=..."` nbdev gives cells that lack an id, so rebuilding changes nothing.
Run it with the project's Python (it imports course_lib to read the bases; without it those two fixes are skipped).
No `sed -i`, which differs on macOS.
"""
import html, importlib, inspect, pkgutil, re, sys
from pathlib import Path

_re_id = re.compile(r'\bid="([^"]+)"')
_re_a = re.compile(r'<a href="(?P<href>/[^"#]*?(?P<page>[\w.-]+\.html)?(?:#(?P<frag>[^"]*))?)"(?P<rest>[^>]*)>(?P<text>.*?)</a>', re.S)
_re_raw_md = re.compile(r'\[(<code>[^<]*</code>)\]\(/[^()\s]*\.html(?:#(?:[^()]|\([^()]*\))*)?\)')
_re_cell_id = re.compile(r' id="cell-id=[0-9a-f]+"')
_re_doc_header = re.compile(r'<h[1-6] class="doc_header" id="([^"]+)"')


def page_ids(docs):
    "{page file name: set of element ids} for every page in `docs`."
    return {f.name: set(html.unescape(i) for i in _re_id.findall(f.read_text(encoding='utf-8'))) for f in docs.glob('*.html')}


def fix_page(name, text, ids, baseurl, modules, lessons=()):
    "`text` of page `name` with nbdev's wrong links repaired; `ids` as from `page_ids`, `lessons` from `lesson_entries`."
    text = _re_raw_md.sub(r'\1', text)
    here = ids.get(name, set())
    headers = [(m.start(), m.group(1)) for m in _re_doc_header.finditer(text)]
    entries = {html.unescape(h) for _, h in headers}   # names documented on this page (an API index row is not one)

    def owner(pos):
        "The class whose doc entry contains position `pos` (the nearest doc header above it)."
        prev = [(p, h) for p, h in headers if p < pos]
        if not prev or '{% endraw %}' in text[prev[-1][0]:pos]: return None   # each cell ends with endraw
        return prev[-1][1].split('.')[0]

    def fix(m):
        href, page, frag, text_ = m['href'], m['page'], m['frag'], m['text']
        if not href.startswith(baseurl) or m['rest'].strip(): return m.group(0)   # only nbdev's own links
        page = page or 'index.html'
        code = re.fullmatch(r'<code>([^<]*)</code>', text_.strip())
        if frag is None:   # a link to a whole page: nbdev's only such links are bare module words like `data`
            return text_ if code and code.group(1) in modules else m.group(0)
        frag = html.unescape(frag)
        if re.search(r'[\s(),]', frag): return text_
        cls = owner(m.start())
        if cls and f'{cls}.{frag}' in here and f'{cls}.{frag}' != frag: return _link(f'#{cls}.{frag}', text_, baseurl, name)
        if frag in entries and page != name: return _link(f'#{frag}', text_, baseurl, name)
        defined = [p for p, es in lessons if frag in es]
        pages = [p for p, _ in lessons]
        if page in defined and name in pages and pages.index(page) > pages.index(name):   # a later lesson's
            earlier = [p for p in defined if pages.index(p) <= pages.index(name)]
            if earlier: return _link(f'{baseurl}{earlier[-1]}#{frag}', text_)
            if _torch_name(frag): return text_   # prose about torch's `unsqueeze`, not a later lesson's
        if frag in ids.get(page, set()): return m.group(0)
        if frag in ids.get('all.html', set()) and name != 'all.html': return _link(f'{baseurl}all.html#{frag}', text_)
        return text_
    return _re_a.sub(fix, text)


TORCH_DOCS = 'https://pytorch.org/docs/stable/generated/{}.html'
_re_entry = re.compile(r'(?P<head><h[1-6] class="doc_header" id="(?P<id>[^"]+)">[^\n]*?</h[1-6]>\s*<blockquote>\s*<p>'
                       r'(?:(?!</p>).)*?\) :: )<a href="[^"]*"><code>(?P<base>\w+)</code></a>', re.S)
_re_docstring = re.compile(r'(?P<head><h[1-6] class="doc_header" id="(?P<id>[^"]+)">[^\n]*?</h[1-6]>\s*<blockquote>(?:(?!<h[1-6] ).)*?</blockquote>)'
                           r'(?P<doc>.*?)(?=</div>)', re.S)


def public_torch_name(cls):
    "`torch.nn.Module` for `torch.nn.modules.module.Module`: the documented name of a PyTorch class, or None."
    for path in ('torch.nn', 'torch.optim', 'torch.utils.data', 'torch'):
        try: mod = importlib.import_module(path)
        except ImportError: return None
        if getattr(mod, cls.__name__, None) is cls: return f'{path}.{cls.__name__}'
    return None


def lookup(ns, dotted):
    "The object `ns.A.b` for the doc entry id 'A.b', or None."
    o = ns
    for part in dotted.split('.'):
        o = getattr(o, part, None)
        if o is None: return None
    return o


def fix_bases(text, ns):
    "`text` with each class's `:: Base` link pointing at the class it really subclasses (`ns`: the package's names)."
    def fix(m):
        cls = lookup(ns, m['id'])
        base = cls.__bases__[0] if inspect.isclass(cls) and cls.__bases__ else None
        if base is None or base.__name__ != m['base'] or base.__module__.startswith(ns.__name__.split('.')[0] + '.'):
            return m.group(0)
        name = public_torch_name(base)
        code = f'<code>{name or m["base"]}</code>'
        return m['head'] + (f'<a href="{TORCH_DOCS.format(name)}">{code}</a>' if name else code)
    return _re_entry.sub(fix, text)


def drop_inherited_docs(text, ns):
    "`text` without the docstrings that entries' methods only inherit (from PyTorch, say): they document another function."
    def fix(m):
        o = lookup(ns, m['id'])
        if not m['doc'].strip() or '.' not in m['id'] or not inspect.isroutine(o) or o.__doc__: return m.group(0)
        return m['head'] + '\n'
    return _re_docstring.sub(fix, text)


def package_names(lib):
    "The names of `from <lib>.all import *`, then every other top-level name of the package's modules, or None."
    try: ns = importlib.import_module(f'{lib}.all')
    except Exception as e:   # run without the project's venv: leave the bases and docstrings as nbdev wrote them
        print(f'fix_doc_links: {lib}.all not importable ({type(e).__name__}): base classes left as written', file=sys.stderr)
        return None
    names = type(ns)(ns.__name__)
    names.__dict__.update(vars(ns))
    for m in _submodules(lib):
        for k, v in vars(m).items(): names.__dict__.setdefault(k, v)   # documented names that `all` does not bring
    return names


def _submodules(lib):
    "Every module of the package `lib` but `all`, imported."
    pkg = importlib.import_module(lib)
    return [importlib.import_module(f'{lib}.{m.name}') for m in pkgutil.iter_modules(pkg.__path__) if m.name != 'all']


def lesson_entries(docs, nbs):
    "[(page, names with a doc entry on it)] of the lessons' pages, in notebook order (nbdev drops the numbers)."
    pages = [re.sub(r'^\d+[a-z]?_', '', f.stem) + '.html' for f in sorted(nbs.glob('[0-9]*.ipynb'))]
    return [(p, set(_re_doc_header.findall((docs/p).read_text(encoding='utf-8')))) for p in pages if (docs/p).exists()]


def _torch_name(name):
    "Whether torch or its tensors have an attribute `name` (False where torch is not installed)."
    try: import torch
    except ImportError: return False
    return hasattr(torch, name) or hasattr(torch.Tensor, name)


def _link(href, text, baseurl=None, name=None):
    if href.startswith('#') and name: href = f'{baseurl}{name}{href}'
    return f'<a href="{href}">{text}</a>'


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    docs = Path(args[0] if args else 'docs')
    cfg = (docs.parent / 'settings.ini').read_text(encoding='utf-8')
    baseurl = re.search(r'^doc_baseurl\s*=\s*(\S+)', cfg, re.M).group(1)
    lib = docs.parent / re.search(r'^lib_path\s*=\s*(\S+)', cfg, re.M).group(1)
    modules = {p.stem for p in lib.glob('*.py') if not p.stem.startswith('_')}
    sys.path.insert(0, str(lib.parent.resolve()))
    ns = package_names(lib.name)
    for f in docs.glob('*.html'):
        t = f.read_text(encoding='utf-8')
        if _re_cell_id.search(t): f.write_text(_re_cell_id.sub('', t), encoding='utf-8')
    ids, n = page_ids(docs), 0
    nbs = docs.parent / re.search(r'^nbs_path\s*=\s*(\S+)', cfg, re.M).group(1)
    lessons = lesson_entries(docs, nbs)
    for f in sorted(docs.glob('*.html')):
        old = f.read_text(encoding='utf-8')
        new = fix_page(f.name, old, ids, baseurl, modules, lessons)
        if ns is not None: new = drop_inherited_docs(fix_bases(new, ns), ns)
        if new != old: f.write_text(new, encoding='utf-8'); n += 1
    print(f'fix_doc_links: repaired links in {n} page(s) of {docs}')


if __name__ == '__main__':
    main()
