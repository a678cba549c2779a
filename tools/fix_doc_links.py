#!/usr/bin/env python3
"""Repair the cross-links nbdev 1 writes into docs/*.html (run by tools/build_docs.sh after nbdev_build_docs).

    python3 tools/fix_doc_links.py docs     # rewrites docs/*.html in place; idempotent

nbdev turns every backticked name it knows into a link, and guesses wrong in a few ways:
  * a backticked call with spaces, `Runner.fit(epochs, learn)`, becomes a markdown link with a space in its
    URL that no markdown parser accepts: the page shows the raw `[...](...)` text. We keep the code, unlinked;
  * a name defined on this page as well links elsewhere (`get_model`): it links to this page's entry;
  * a name inside a class's entry links to a function of the same name elsewhere (`fit` in `Runner`'s
    docstring -> `minibatch.fit`): when the class has a method of that name, it links to the method;
  * the bare word of a module (`data`) links to that lesson's page: it is left as code;
  * a name without a doc entry (a constant such as `MNIST_URL`) links to an anchor that does not exist: it
    links to its entry in the API index (all.html, one row per public name) or, failing that, is unlinked.
It also drops the random `id="cell-id=..."` nbdev gives cells that lack an id, so rebuilding changes nothing.
Standard library only (and no `sed -i`, which differs on macOS).
"""
import html, re, sys
from pathlib import Path

_re_id = re.compile(r'\bid="([^"]+)"')
_re_a = re.compile(r'<a href="(?P<href>/[^"#]*?(?P<page>[\w.-]+\.html)?(?:#(?P<frag>[^"]*))?)"(?P<rest>[^>]*)>(?P<text>.*?)</a>', re.S)
_re_raw_md = re.compile(r'\[(<code>[^<]*</code>)\]\(/[^()\s]*\.html(?:#(?:[^()]|\([^()]*\))*)?\)')
_re_cell_id = re.compile(r' id="cell-id=[0-9a-f]+"')
_re_doc_header = re.compile(r'<h[1-6] class="doc_header" id="([^"]+)"')


def page_ids(docs):
    "{page file name: set of element ids} for every page in `docs`."
    return {f.name: set(html.unescape(i) for i in _re_id.findall(f.read_text(encoding='utf-8'))) for f in docs.glob('*.html')}


def fix_page(name, text, ids, baseurl, modules):
    "`text` of page `name` with nbdev's wrong links repaired; `ids` as from `page_ids`."
    text = _re_raw_md.sub(r'\1', text)
    here = ids.get(name, set())
    headers = [(m.start(), m.group(1)) for m in _re_doc_header.finditer(text)]

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
        if frag in here and page != name: return _link(f'#{frag}', text_, baseurl, name)
        if frag in ids.get(page, set()): return m.group(0)
        if frag in ids.get('all.html', set()) and name != 'all.html': return _link(f'{baseurl}all.html#{frag}', text_)
        return text_
    return _re_a.sub(fix, text)


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
    for f in docs.glob('*.html'):
        t = f.read_text(encoding='utf-8')
        if _re_cell_id.search(t): f.write_text(_re_cell_id.sub('', t), encoding='utf-8')
    ids, n = page_ids(docs), 0
    for f in sorted(docs.glob('*.html')):
        old = f.read_text(encoding='utf-8')
        new = fix_page(f.name, old, ids, baseurl, modules)
        if new != old: f.write_text(new, encoding='utf-8'); n += 1
    print(f'fix_doc_links: repaired links in {n} page(s) of {docs}')


if __name__ == '__main__':
    main()
