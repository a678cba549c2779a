#!/usr/bin/env python3
"""Check the built docs site in a real browser (Playwright + Debian's /usr/bin/chromium), offline.

    bash tools/build_site.sh && python tools/check_site.py [--site _site] [--search matmul]

Serves `_site/` under `/course_lib/` on a free 127.0.0.1 port (tools/serve_site.py), then for every
page (every `_site/*.html` and every sidebar entry) checks that:
  * the page loads (HTTP 200) and its <title> and <h1> match the `title:` front matter of docs/NAME.html;
  * every sidebar entry points at a page of the site, and every page is in the sidebar;
  * every in-site link (sidebar, doc links, anchors) resolves: no 404, and `#fragment`s exist;
  * every `[source]` link has the form `{git_url}{lib_path}/FILE.py#L<n>` (settings.ini), FILE exists
    locally and line n is the definition (`def NAME`/`class NAME`, its decorator, or `NAME =`);
  * every image loads (naturalWidth > 0);
  * math is rendered by KaTeX (no leftover `$...$`, no `.katex-error`), and at least one page has math;
  * the console shows no errors, no request fails, and no request leaves 127.0.0.1 (others are aborted);
and that the search box finds `--search` (default: matmul) with a result linking to that page.
A full-page screenshot of each page goes to `_site/_screenshots/`. Exits 1 with a list of failures.
Never downloads a browser: it uses `--chromium` (default /usr/bin/chromium).
"""
import argparse, configparser, html as htmllib, re, sys, tempfile, threading, time, urllib.error, urllib.parse, urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_site import make_server  # noqa: E402
from fix_front_matter import quote_front_matter  # noqa: E402

CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
                 '--metrics-recording-only', '--disable-domain-reliability']

# Text nodes (outside code/math) that still contain TeX delimiters => KaTeX did not render them.
JS_LEFTOVER_MATH = r"""() => {
  const root = document.getElementById('content') || document.body;
  const skip = 'PRE,CODE,SCRIPT,STYLE,TEXTAREA,KBD,SAMP';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const bad = [];
  const re = /\$\$|\\\(|\\\[|(^|[^\\\w$])\$[^\s$][^$]*?[^\s$\\]\$|(^|[^\\\w$])\$[^\s$]\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || el.closest('.katex, .input_area, .output_text, .output_stream, .highlight, .nomath')) continue;
    if (re.test(n.nodeValue)) bad.push(n.nodeValue.trim().slice(0, 80));
  }
  return bad;
}"""

JS_IMAGES = r"""async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 5000); })));
  return imgs.map(i => ({src: (i.currentSrc || i.src).slice(0, 100), ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}));
}"""

JS_LINKS = r"""() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
  href: a.href, raw: a.getAttribute('href'), text: a.textContent.trim().slice(0, 60),
  source: a.classList.contains('source_link'), sidebar: !!a.closest('#sidebar'),
  header: (a.closest('.doc_header') || {}).id || null,
  headerText: a.closest('.doc_header') ? a.closest('.doc_header').textContent : null}))"""


def read_settings(repo):
    cfg = configparser.ConfigParser()
    cfg.read(repo / 'settings.ini')
    d = cfg['DEFAULT']
    return {'git_url': d.get('git_url'), 'lib_path': d.get('lib_path', d.get('lib_name')),
            'doc_path': d.get('doc_path', 'docs'), 'title': d.get('title', d.get('lib_name'))}


def front_matter(path):
    "The YAML front matter of a Jekyll source file as tools/build_site.sh stages it, or {}."
    text = quote_front_matter(path.read_text(encoding='utf-8'))
    m = re.match(r'---\s*\n(.*?)\n---\s*\n', text, re.S)
    if not m: return {}
    try: return yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e: return {'_error': str(e).splitlines()[0]}


def sidebar_items(repo, doc_path):
    "(title, url) for every entry of docs/_data/sidebars/home_sidebar.yml (nbdev's format)."
    p = repo / doc_path / '_data' / 'sidebars' / 'home_sidebar.yml'
    if not p.exists(): return []
    out = []
    def walk(o):
        if isinstance(o, dict):
            if 'title' in o and ('url' in o or 'external_url' in o): out.append((o['title'], o.get('url') or o['external_url']))
            for v in o.values(): walk(v)
        elif isinstance(o, list):
            for v in o: walk(v)
    walk(yaml.safe_load(p.read_text(encoding='utf-8')))
    return out


_id_cache = {}
def fetch(url):
    "(status, body) for an in-site URL, cached."
    if url not in _id_cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as r: _id_cache[url] = (r.status, r.read().decode('utf-8', 'replace'))
        except urllib.error.HTTPError as e: _id_cache[url] = (e.code, '')
        except Exception as e: _id_cache[url] = (0, str(e))
    return _id_cache[url]


def has_id(html, frag):
    "Does `html` have an element the fragment `frag` scrolls to? (browsers try it as is, then percent-decoded)"
    cands = {frag, urllib.parse.unquote(frag)}
    for m in re.finditer(r'\b(?:id|name)=(["\'])(.*?)\1', html):
        if m.group(2) in cands or htmllib.unescape(m.group(2)) in cands: return True
    return False


def check_source_link(href, name, settings, repo):
    "Problems (list of str) with one `[source]` link of the doc entry `name`."
    git_url = settings['git_url']
    if not href.startswith(git_url):
        return [f'[source] of {name} points at {href}, not at git_url {git_url}']
    m = re.fullmatch(r'(?P<path>[^#?]+\.py)#L(?P<line>\d+)', href[len(git_url):])
    if not m: return [f'[source] of {name}: {href} is not of the form {git_url}PATH.py#L<n>']
    path, line = m['path'], int(m['line'])
    lib = settings['lib_path'].strip('/')
    if not path.startswith(lib + '/'): return [f'[source] of {name}: {path} is not in the package folder {lib}/']
    f = repo / path
    if not f.is_file(): return [f'[source] of {name}: {path} does not exist in the repository']
    lines = f.read_text(encoding='utf-8').splitlines()
    if not 1 <= line <= len(lines): return [f'[source] of {name}: {path} has {len(lines)} lines, link says #L{line}']
    short = name.split('.')[-1]
    i = line - 1
    while i < len(lines) and lines[i].lstrip().startswith('@'): i += 1   # decorators: look at what they decorate
    target = lines[i].strip() if i < len(lines) else ''
    ok = (re.match(rf'(async\s+)?def\s+{re.escape(short)}\b|class\s+{re.escape(short)}\b', target)
          or re.match(rf'{re.escape(short)}\s*(:[^=]*)?=', target))
    if not ok:
        return [f'[source] of {name}: {path}#L{line} is {lines[line - 1].strip()[:70]!r}, not the definition of {short}']
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--repo', default=str(REPO))
    ap.add_argument('--site', default=None, help='built site (default: REPO/_site)')
    ap.add_argument('--search', default='matmul', help='term to type in the search box (a page named after it must exist)')
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--no-screenshots', action='store_true')
    ap.add_argument('--strict-anchors', action='store_true',
                    help='fail on links to missing #fragments (nbdev links backticked constants that have no doc entry)')
    ap.add_argument('--allow-no-math', action='store_true', help="don't require a page with math")
    a = ap.parse_args(argv)
    repo = Path(a.repo).resolve()
    site = Path(a.site).resolve() if a.site else repo / '_site'
    settings = read_settings(repo)
    docs = repo / settings['doc_path']
    failures, warnings = [], []
    def fail(page, msg): failures.append(f'{page}: {msg}')
    def anchor(page, msg):
        "A link to a missing #fragment (the page loads, it just doesn't scroll): a warning unless --strict-anchors"
        (failures if a.strict_anchors else warnings).append(f'{page}: {msg}')
    t0 = time.time()

    try: srv = make_server(site, '127.0.0.1', 0, quiet=True)
    except FileNotFoundError as e: sys.exit(f'check_site: {e}')
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base, prefix = srv.url, srv.prefix
    host, port = srv.server_address[:2]

    # ---- the pages: every top-level html file, and every sidebar entry
    pages = {}   # url -> dict(name, title)
    for f in sorted(site.glob('*.html')):
        url = base if f.name == 'index.html' else base + f.name
        fm = front_matter(docs / f.name) if (docs / f.name).exists() else {}
        if '_error' in fm: fail(f.name, f'front matter of docs/{f.name} is not valid YAML: {fm["_error"]}')
        pages[url] = {'name': f.stem, 'title': fm.get('title')}
    side = sidebar_items(repo, settings['doc_path'])
    if not side: fail('sidebar', f'{settings["doc_path"]}/_data/sidebars/home_sidebar.yml is missing or empty')
    side_urls = set()
    for title, u in side:
        if u.startswith('http'): continue
        full = urllib.parse.urljoin(base, u.lstrip('/'))
        side_urls.add(full)
        if full not in pages:
            status, _ = fetch(full)
            fail('sidebar', f'entry {title!r} -> {u} ({full}) is not a page of the site (HTTP {status})')
        elif full != base and pages[full]['title'] and str(pages[full]['title']) != str(title):
            fail('sidebar', f'entry {title!r} -> {u}: the page title is {pages[full]["title"]!r}')
    for url, p in pages.items():
        if url not in side_urls:
            fail(p['name'] + '.html', 'not in the sidebar (run a full `nbdev_build_docs` to regenerate it)')

    shots = site / '_screenshots'
    if not a.no_screenshots:
        shots.mkdir(exist_ok=True)
        for old in shots.glob('*.png'): old.unlink()

    from playwright.sync_api import sync_playwright, Error as PWError
    pages_with_math = []
    stats = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix='check_site_') as profile:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=a.chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={'width': 1280, 'height': 900}, service_workers='block', offline=False)
        current = {'page': 'browser'}
        def route(r):
            u = urllib.parse.urlsplit(r.request.url)
            if u.scheme in ('http', 'https', 'ws', 'wss') and (u.hostname, u.port) == (host, port): return r.continue_()
            if u.scheme in ('data', 'blob', 'about'): return r.continue_()
            fail(current['page'], f'request leaving 127.0.0.1 blocked: {r.request.url[:120]}')
            return r.abort()
        ctx.route('**/*', route)
        ctx.on('requestfailed', lambda req: None if urllib.parse.urlsplit(req.url).hostname != host
               else fail(current['page'], f'request failed: {req.url} ({req.failure})'))
        ctx.on('response', lambda resp: resp.status >= 400 and fail(current['page'], f'HTTP {resp.status} for {resp.url}'))
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.on('console', lambda m: m.type == 'error' and fail(current['page'], f'console error: {m.text[:200]}'))
        page.on('pageerror', lambda e: fail(current['page'], f'page error: {str(e)[:200]}'))

        for url, info in pages.items():
            name = info['name'] + '.html'
            current['page'] = name
            tp = time.time()
            try:
                resp = page.goto(url, wait_until='load', timeout=20000)
            except PWError as e:
                fail(name, f'could not load {url}: {str(e).splitlines()[0]}'); continue
            if not resp or resp.status != 200:
                fail(name, f'HTTP {resp.status if resp else "?"} for {url}'); continue
            page.evaluate('document.fonts.ready.then(() => true)')

            # title
            want = info['title']
            h1 = page.locator('h1#page-title')
            got_h1 = h1.first.inner_text().strip() if h1.count() else None
            if not want: fail(name, f'no title in the front matter of {settings["doc_path"]}/{name}')
            else:
                if got_h1 != str(want): fail(name, f'<h1> is {got_h1!r}, expected {want!r}')
                site_title = settings['title']
                exp_title = site_title if str(want) == site_title else f'{want} | {site_title}'
                if page.title() != exp_title: fail(name, f'<title> is {page.title()!r}, expected {exp_title!r}')
            if page.locator('#sidebar a').count() == 0: fail(name, 'no sidebar links')

            # links
            links = page.evaluate(JS_LINKS)
            n_src = 0
            for l in links:
                u = urllib.parse.urlsplit(l['href'])
                if u.scheme not in ('http', 'https'): continue
                if l['source']:
                    n_src += 1
                    nm = l['header'] or l['headerText'] or l['text']
                    for msg in check_source_link(l['href'], nm, settings, repo): fail(name, msg)
                    continue
                if (u.hostname, u.port) != (host, port): continue   # external link: not followed
                target = urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, u.query, ''))
                what = f'link {l["raw"]!r} ({l["text"]!r}{", sidebar" if l["sidebar"] else ""})'
                if not u.path.startswith(prefix):
                    fail(name, f'{what} is outside the site prefix {prefix}'); continue
                status, body = fetch(target)
                if status != 200: fail(name, f'{what} -> HTTP {status}'); continue
                if u.fragment and target != url.split('#')[0] and not has_id(body, u.fragment):
                    anchor(name, f'{what}: no element with id {u.fragment!r} in {u.path}')
                elif u.fragment and target == url.split('#')[0] and not page.evaluate(
                        'fs => fs.some(f => !!document.getElementById(f) || document.getElementsByName(f).length > 0)',
                        [u.fragment, urllib.parse.unquote(u.fragment)]):
                    anchor(name, f'{what}: no element with id {u.fragment!r} on this page')

            # images
            imgs = page.evaluate(JS_IMAGES)
            for im in imgs:
                if not im['ok']: fail(name, f'image does not load: {im["src"]}')

            # math
            n_katex = page.locator('#content .katex').count()
            for e in page.locator('#content .katex-error').all()[:5]:
                fail(name, f'KaTeX error: {e.get_attribute("title") or e.inner_text()[:80]}')
            for t in page.evaluate(JS_LEFTOVER_MATH)[:5]:
                fail(name, f'unrendered math: {t!r}')
            if n_katex: pages_with_math.append(name)

            if not a.no_screenshots:
                page.screenshot(path=str(shots / (info['name'] + '.png')), full_page=True)
            stats.append(f'  {name:32s} links {len(links):3d}  [source] {n_src:2d}  images {len(imgs):2d}  math {n_katex:3d}  {time.time() - tp:4.1f}s')

        # search: type the term, expect a result linking to the page named after it, follow it
        term = a.search
        current['page'] = f'search {term!r}'
        targets = [u for u, p in pages.items() if term.lower() in p['name'].lower()]
        if not targets:
            fail(current['page'], f'no page named after {term!r} to look for (pages: {", ".join(p["name"] for p in pages.values())})')
        else:
            try:
                page.goto(base, wait_until='load')
                box = page.locator('#search-input')
                box.click()
                box.press_sequentially(term, delay=20)
                page.locator('#search-results a').first.wait_for(timeout=5000)
                hrefs = page.eval_on_selector_all('#search-results a', 'as => as.map(a => a.href)')
                hit = [h for h in hrefs if h.split('#')[0] in targets]
                if not hit: fail(current['page'], f'results {hrefs} do not include {targets}')
                else:
                    page.locator('#search-results a').nth(hrefs.index(hit[0])).click()
                    page.wait_for_url(hit[0].split('#')[0] + '*', timeout=5000)
                    stats.append(f'  search {term!r}: {len(hrefs)} result(s), followed {hit[0]}')
            except PWError as e:
                fail(current['page'], f'no search result appeared: {str(e).splitlines()[0]}')
        ctx.close()
    srv.shutdown()

    if not pages_with_math and not a.allow_no_math:
        fail('math', 'no page has rendered math: KaTeX is untested (a notebook with $...$ math is expected)')

    print(f'check_site: {len(pages)} pages at {base} in {time.time() - t0:.1f}s'
          + ('' if a.no_screenshots else f'; screenshots in {shots}'))
    print('\n'.join(stats))
    failures, warnings = list(dict.fromkeys(failures)), list(dict.fromkeys(warnings))
    if warnings:
        print(f'\ncheck_site: {len(warnings)} warning(s) (not failures; --strict-anchors makes them fail):')
        for w in warnings: print(f'  - {w}')
    if failures:
        print(f'\ncheck_site: FAILED ({len(failures)} problems):')
        for f in failures: print(f'  - {f}')
        return 1
    print('check_site: OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
