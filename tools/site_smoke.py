#!/usr/bin/env python3
"""What only a browser sees: a short headless-Chromium check of the built site (links, anchors and images are
checked by htmlproofer, see tools/check_site.sh).

    python tools/site_smoke.py [--site _site] [--chromium /usr/bin/chromium] [--screenshots]

Serves `_site/` with `jekyll serve --skip-initial-build --no-watch` (under the baseurl), then asserts:
  * every page loads with no console error, failed request or request leaving 127.0.0.1, and KaTeX rendered
    its math (no `.katex-error`, no leftover `$...$`; at least one page has math);
  * no page shows raw markdown link text (`](/course_lib/...`), and none is wider than a 375 px phone;
  * an anchor jump lands below the sticky top bar (`scroll-margin-top`);
  * `fit` in `Runner`'s entry links to `Runner.fit`, and the home page installs the git filter with `make hooks`;
  * every lesson page has an "On this page" list whose links all hit an element, previous/next links,
    and a footer link that downloads its notebook;
  * the content uses a 1920 px screen (its column is at least 1200 px wide);
  * search answers with sections and API entries (anchored URLs), its snippets are prose (no raw TeX, `[source]`,
    HTML entities or import lines), the arrow keys move through the results and Enter follows the selected one;
  * every documented name (each API entry's heading on its page, each row of the API index) typed into the search
    finds its own anchor first; "DistributedDataParallel" finds the distributed lesson's sections; "batch norm"
    ranks the from-scratch section of the batch-norm page before the one on folding it for inference;
  * each lesson says under its title which video lesson and 2019 notebook it follows (or that it is our own), opens
    with prose (not a code cell), and has a working "Copy" button on its code cells; the footer says what to install;
  * at 375 px: no table is cut off without a scroll cue, and after scrolling down the top bar is still there with a
    "Contents" button (opening this page's contents) and a button back to the top;
  * at 1280x800: the contents list sits beside the text and follows the reader; the sidebar shows the current page;
  * an unknown URL gets the site's 404 page.
Screenshots of the search, an anchor jump, the phone contents and the 404 page go to `_site/_screenshots/`; with
`--screenshots`, of every page at 375, 1280x800 and 1920 px too (full page at 1280: slow, so `make test` skips them).
Never downloads a browser. Exits 1 with the list of failures.
"""
import argparse, re, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
        '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-extensions']
JS_NAMES = r"""() => [...document.querySelectorAll('#content .doc_header[id]')].map(h => h.id)"""
JS_INDEX_ROWS = r"""() => [...document.querySelectorAll('#content tr[id]')].map(tr => {
  const a = tr.querySelector('td a'), own = a && a.getAttribute('href');
  return [tr.id, own && own.startsWith('/') ? own : location.pathname + '#' + tr.id];
})"""
JS_SEARCH_ALL = r"""async (pairs) => {
  const bad = [];
  for (const [name, want] of pairs) {
    const got = await window.courseSearch(name);
    if (!got.length || !want.includes(got[0])) bad.push(`${name}: ${got[0] || 'no result'} (want ${want.join(' or ')})`);
  }
  return bad;
}"""
JS_TABLES = r"""() => [...document.querySelectorAll('#content table')].map(t => {
  const box = t.closest('.table-scroll'), r = t.getBoundingClientRect(), c = document.getElementById('content').getBoundingClientRect();
  const cut = box ? box.scrollWidth > box.clientWidth + 1 : r.right > c.right + 1;
  const hint = box && box.previousElementSibling && box.previousElementSibling.classList.contains('scroll-hint')
    && getComputedStyle(box.previousElementSibling).display !== 'none';
  return {cut, cue: !!(box && box.classList.contains('scrolls') && hint), wrapped: !!box};
})"""
JS_FIRST_CELL = r"""() => {
  const c = [...document.querySelectorAll('#content .post-content .cell')].find(e => e.offsetHeight > 0 && !e.closest('details.setup-cells'));
  return c ? (c.classList.contains('text_cell') ? 'text' : c.textContent.trim().slice(0, 60)) : 'none';
}"""
JS_LEFTOVER_MATH = r"""() => {
  const skip = 'PRE,CODE,SCRIPT,STYLE,.katex,.input_area,.output_area,.highlight,.nomath';
  const w = document.createTreeWalker(document.getElementById('content'), NodeFilter.SHOW_TEXT), bad = [];
  const re = /\$\$|\\\(|\\\[|(^|[^\\\w$])\$[^\s$][^$]*?[^\s$\\]\$/;
  for (let n = w.nextNode(); n; n = w.nextNode())
    if (n.parentElement && !n.parentElement.closest(skip) && re.test(n.nodeValue)) bad.push(n.nodeValue.trim().slice(0, 80));
  return bad;
}"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def serve(site, port, baseurl):
    "`jekyll serve` of the built `site` on 127.0.0.1:`port`; waits until it answers."
    p = subprocess.Popen(['jekyll', 'serve', '--skip-initial-build', '--no-watch', '--source', str(REPO / 'docs'),
                          '--destination', str(site), '--host', '127.0.0.1', '--port', str(port), '--baseurl', baseurl],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}{baseurl}', timeout=1); return p
        except OSError: time.sleep(0.1)
    p.kill(); sys.exit('site_smoke: jekyll serve did not answer')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--site', default=str(REPO / '_site'))
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--screenshots', action='store_true', help='also a screenshot of every page at each width')
    a = ap.parse_args(argv)
    site = Path(a.site).resolve()
    baseurl = '/' + re.search(r'^baseurl:\s*(\S+)', (REPO / 'docs/_config.yml').read_text(), re.M).group(1).strip('/') + '/'
    port = free_port()
    base = f'http://127.0.0.1:{port}{baseurl}'
    names = sorted(f.stem for f in site.glob('*.html') if f.name != '404.html')
    shots = site / '_screenshots'
    shots.mkdir(exist_ok=True)
    for old in shots.glob('*.png'): old.unlink()
    failures, notes, where = [], [], {'page': 'browser'}
    def check(ok, msg):
        if not ok: failures.append(f'{where["page"]}: {msg}')
        return ok

    from playwright.sync_api import sync_playwright
    srv = serve(site, port, baseurl)
    t0 = time.time()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix='site_smoke_') as prof:
            ctx = pw.chromium.launch_persistent_context(prof, executable_path=a.chromium, headless=True, args=ARGS,
                                                        viewport={'width': 1280, 'height': 900}, service_workers='block')
            def route(r):
                u = urllib.parse.urlsplit(r.request.url)
                if u.scheme in ('data', 'blob', 'about') or (u.hostname, u.port) == ('127.0.0.1', port): return r.continue_()
                check(False, f'request leaving 127.0.0.1 blocked: {r.request.url[:100]}'); return r.abort()
            ctx.route('**/*', route)
            ctx.grant_permissions(['clipboard-read', 'clipboard-write'], origin=f'http://127.0.0.1:{port}')
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            on_console = lambda m: m.type == 'error' and check(False, f'console error: {m.text[:160]}')
            page.on('console', on_console)
            page.on('pageerror', lambda e: check(False, f'page error: {str(e)[:160]}'))
            page.on('requestfailed', lambda r: check(False, f'request failed: {r.url}'))
            math_pages = []
            for w in (1280, 375, 1920):
                page.set_viewport_size({'width': w, 'height': 800 if w == 1280 else 900})
                for name in names:
                    where['page'] = f'{name}.html @{w}px'
                    url = base if name == 'index' else f'{base}{name}.html'
                    resp = page.goto(url, wait_until='load')
                    if not check(resp and resp.status == 200, f'HTTP {resp and resp.status}'): continue
                    page.evaluate('document.fonts.ready.then(() => true)')
                    if a.screenshots: page.screenshot(path=str(shots / f'{name}-{w}.png'), full_page=(w == 1280))
                    if w == 375:   # item 1: nothing wider than a phone; wide tables scroll in their box, with a cue
                        sw = page.evaluate('document.documentElement.scrollWidth')
                        check(sw <= w + 1, f'page is {sw} px wide on a {w} px screen')
                        tables = page.evaluate(JS_TABLES)
                        check(all(t['cue'] for t in tables if t['cut']), f'{sum(t["cut"] and not t["cue"] for t in tables)} wide tables without a scroll cue')
                        check(all(t['wrapped'] for t in tables), 'a table outside a scrolling box')
                        if name == 'index' or not page.locator('#toc .toc-list a').count(): continue
                        # the way back: after scrolling, the bar is still on screen, with Contents and Top
                        page.evaluate('window.scrollTo(0, document.body.scrollHeight / 2)'); page.wait_for_timeout(100)
                        bar_top = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().top")
                        check(abs(bar_top) < 1, f'the top bar scrolled away (top {bar_top:.0f} px)')
                        check(page.locator('.to-top.shown').count() == 1, 'no "back to the top" button after scrolling')
                        page.click('.nav-toggle'); page.wait_for_timeout(100)
                        links = page.locator('#nav-panel .toc-list a')
                        check(links.count() >= 1 and links.first.is_visible(), '"Contents" does not show the page\'s contents')
                        if name == 'batchnorm': page.screenshot(path=str(shots / f'{name}-{w}-contents.png'))
                        if links.count():
                            target = links.nth(links.count() // 2).get_attribute('href')
                            links.nth(links.count() // 2).click(); page.wait_for_timeout(150)
                            at = page.evaluate('h => { const e = document.getElementById(decodeURIComponent(h.slice(1))); return e && e.getBoundingClientRect().top; }', target)
                            check(at is not None and 0 <= at < 900, f'a "Contents" link did not bring {target} into view ({at})')
                            check(page.locator('#nav-panel').is_hidden(), 'the contents panel stays open after following a link')
                        continue
                    if w == 1920:   # item 4: the content uses a wide screen
                        cw = page.evaluate("document.getElementById('content').getBoundingClientRect().width")
                        check(cw >= 1200, f'content column is only {cw:.0f} px wide')
                        continue
                    body = page.inner_text('#content')
                    check('](' + baseurl not in body, 'raw markdown link text ("](/…") on the page')
                    check(page.locator('#content .katex-error').count() == 0, 'KaTeX error')
                    left = page.evaluate(JS_LEFTOVER_MATH)
                    check(not left, f'unrendered math: {left[:3]}')
                    if page.locator('#content .katex').count(): math_pages.append(name)
                    if name in ('404',): continue
                    if name not in ('index', 'all'):   # item 7: the course map line, prose first, copy buttons
                        check(page.locator('.post-header .course-follows').count() == 1
                              and len(page.inner_text('.post-header .course-follows')) > 10,
                              'no line under the title saying which video lesson and 2019 notebook it follows')
                        first = page.evaluate(JS_FIRST_CELL)
                        check(first in ('text', 'none'), f'the lesson opens with code, not prose: {first!r}')
                        check('pip install' in page.inner_text('.site-footer'), 'the footer does not say what to install')
                    if name != 'all':
                        blocks = '#content .input_area, #content .text_cell_render div.highlight'
                        check(page.locator(blocks).count() == page.locator('#content .copy-code').count(),
                              'a code cell without a Copy button')
                    # item 6: 1280x800, the contents beside the text, following the reader; the sidebar shows this page
                    if page.locator('#toc .toc-list a').count() >= 2:
                        box = page.evaluate("(() => { const t = document.getElementById('toc').getBoundingClientRect(), c = document.querySelector('.content').getBoundingClientRect(); return [t.left, c.right]; })()")
                        check(box[0] >= box[1] - 1, f'the contents list is not beside the text (left {box[0]:.0f}, text ends {box[1]:.0f})')
                        page.evaluate('window.scrollTo(0, document.body.scrollHeight * 0.6)'); page.wait_for_timeout(150)
                        tr = page.evaluate("document.getElementById('toc').getBoundingClientRect().top")
                        check(0 <= tr < 120, f'the contents list does not follow the reader (top {tr:.0f} px)')
                        check(page.locator('#toc a.current').count() == 1, 'the contents list does not mark the section being read')
                        page.evaluate('window.scrollTo(0, 0)')
                    act = page.evaluate("(() => { const a = document.querySelector('.sidebar a.active'), s = document.querySelector('.sidebar'); if (!a) return null; const r = a.getBoundingClientRect(), q = s.getBoundingClientRect(); return r.top >= q.top - 1 && r.bottom <= Math.min(q.bottom, innerHeight) + 1; })()")
                    check(act is not False, 'the sidebar does not show the current page')
                    # item 5: contents list, previous/next, notebook download
                    toc = page.eval_on_selector_all('#toc a', 'as => as.map(a => a.getAttribute("href"))')
                    if len(page.locator('#content h2, #content h3').all()) >= 2:
                        check(len(toc) >= 2, f'no "On this page" list ({len(toc)} links)')
                    missing = page.evaluate('hs => hs.filter(h => !document.getElementById(h.slice(1)) && !document.getElementById(decodeURIComponent(h.slice(1))))', toc)
                    check(not missing, f'contents links without a target: {missing[:3]}')
                    check(page.locator('nav.pager a').count() >= 1, 'no previous/next links')
                    nb = page.locator('a.nb-download')
                    if name != 'index' or nb.count():
                        if check(nb.count() == 1, 'no notebook download link in the footer'):
                            href = urllib.parse.urljoin(url, nb.get_attribute('href'))
                            with urllib.request.urlopen(href) as r: data = r.read()
                            check(b'"cells"' in data, f'{href} is not a notebook')

            # item 3: a method's own name links to the method; item 12: the home page installs hooks with make hooks
            where['page'] = 'cross-links'
            page.goto(f'{base}callbacks.html', wait_until='load')
            fits = page.eval_on_selector_all('#Runner ~ blockquote ~ p a, #Runner + blockquote + p a', 'as => as.filter(a => a.textContent === "fit").map(a => a.getAttribute("href"))')
            check(all(h.endswith('#Runner.fit') for h in fits), f'`fit` in Runner\'s entry links to {fits}')
            page.goto(base, wait_until='load')
            home = page.inner_text('#content')
            check('make hooks' in home and 'nbdev_install_git_hooks' not in home, 'the home page does not install the git hooks with `make hooks`')

            # item 2: an anchor jump lands below the sticky top bar
            page.set_viewport_size({'width': 1280, 'height': 900})
            where['page'] = 'anchor jump'
            page.goto(f'{base}callbacks.html#Runner.fit', wait_until='load')
            page.wait_for_timeout(300)
            bar = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().bottom")
            top = page.evaluate("document.getElementById('Runner.fit').getBoundingClientRect().top")
            check(top >= bar, f'#Runner.fit is at {top:.0f} px, under the top bar ending at {bar:.0f} px')
            page.screenshot(path=str(shots / 'anchor-jump-1280.png'))

            # item 9: search finds sections and API entries, clean snippets, arrow keys
            where['page'] = 'search'
            page.goto(base, wait_until='load')
            box = page.locator('#search-input')
            box.click(); box.press_sequentially('Runner', delay=15)
            page.locator('#search-results a').first.wait_for(timeout=5000)
            hrefs = page.eval_on_selector_all('#search-results a', 'as => as.map(a => a.href)')
            check(any(h.endswith('callbacks.html#Runner') for h in hrefs), f'"Runner" does not find its API entry: {hrefs[:4]}')
            check(sum('#' in h for h in hrefs) >= 3, f'results do not land on sections: {hrefs[:4]}')
            snips = page.eval_on_selector_all('#search-results .search-snippet', 'ss => ss.map(s => s.textContent)')
            box.fill(''); box.press_sequentially('softmax', delay=15)
            page.wait_for_timeout(300)
            snips += page.eval_on_selector_all('#search-results .search-snippet', 'ss => ss.map(s => s.textContent)')
            bad = [s for s in snips if re.search(r'\$|\[source\]|&[a-z]+;|&#\d+;|\\[a-zA-Z]+', s)]
            check(not bad, f'snippets with TeX, [source] or entities: {bad[:2]}')
            page.screenshot(path=str(shots / 'search-1280.png'))
            box.press('ArrowDown'); box.press('ArrowDown')
            sel = page.eval_on_selector_all('#search-results a', 'as => as.findIndex(a => a.classList.contains("selected"))')
            check(sel == 1, f'two ArrowDown presses select result {sel}, not the second')
            want = page.eval_on_selector_all('#search-results a', 'as => as[1] && as[1].href')
            box.press('Enter')
            page.wait_for_url(want, timeout=5000)
            notes.append(f'search: "Runner" {len(hrefs)} results; ArrowDown×2 + Enter -> {want}')

            # item 1 of issue 26: every documented name finds its own anchor first
            where['page'] = 'search: every name'
            pairs = {}
            for name in names:
                if name in ('404',): continue
                page.goto(base if name == 'index' else f'{base}{name}.html', wait_until='load')
                path = page.evaluate('location.pathname')
                # a name two lessons document (03's and 09's Optimizer.step) may land on either entry
                for n in page.evaluate(JS_NAMES): pairs.setdefault(n, []).append(f'{path}#{n}')
                for n, href in page.evaluate(JS_INDEX_ROWS): pairs.setdefault(n, []).append(href)
            pairs = {n: [u if not u.endswith('/index.html') else u[:-10] for u in us] for n, us in pairs.items()}
            bad = page.evaluate(JS_SEARCH_ALL, [[n, u] for n, u in sorted(pairs.items())])
            check(len(pairs) > 100, f'only {len(pairs)} documented names found')
            check(not bad, f'{len(bad)} of {len(pairs)} names do not find their own anchor first: {bad[:5]}')
            notes.append(f'search: all {len(pairs)} documented names find their own anchor first' if not bad else f'search: {len(bad)} names fail')
            ddp = page.evaluate("window.courseSearch('DistributedDataParallel')")[:3]
            check(any('distributed.html#' in u and '#api-' not in u for u in ddp), f'"DistributedDataParallel" does not find the distributed sections: {ddp}')
            import json as _json
            recs = _json.loads((site / 'search.json').read_text(encoding='utf-8'))
            bn = [r['url'] for r in recs if r['kind'] == 'section' and 'batchnorm' in r['url']]
            scratch = next((u for u in bn if re.search(r'from.scratch', u, re.I)), None)
            folding = next((u for u in bn if re.search(r'fold|fus|inference', u, re.I)), None)
            if scratch and folding:
                got = page.evaluate("window.courseSearch('batch norm')")
                check(scratch in got and (folding not in got or got.index(scratch) < got.index(folding)),
                      f'"batch norm" ranks {folding} before {scratch}: {got[:5]}')
            else: notes.append('search: the batch-norm page has no from-scratch/folding sections to compare')
            page.goto(base, wait_until='load')
            box = page.locator('#search-input')
            snips = []
            for q in ('data', 'lesson', 'callbacks', 'set_seed'):
                box.fill(''); box.press_sequentially(q, delay=5); page.wait_for_timeout(250)
                snips += page.eval_on_selector_all('#search-results .search-snippet', 'ss => ss.map(s => s.textContent)')
            bad = [s for s in snips if re.match(r'…?\s*(import|from \S+ import)\s', s)]
            check(not bad, f'snippets that show import lines: {bad[:2]}')

            # item 7: the Copy button copies the cell's code
            where['page'] = 'copy'
            page.goto(f'{base}callbacks.html', wait_until='load')
            btn = page.locator('#content .copy-code').first
            want = page.evaluate("document.querySelector('#content .input_area pre').innerText.replace(/\\n$/, '')")
            btn.click(); page.wait_for_timeout(200)
            got = page.evaluate('navigator.clipboard.readText()')
            check(got == want and btn.inner_text() == 'Copied', f'Copy put {got[:40]!r} on the clipboard, want {want[:40]!r}')

            # item 8: a 404 page
            where['page'] = '404'
            page.remove_listener('console', on_console)   # the 404 status itself is logged as an error
            resp = page.goto(f'{base}no-such-page.html', wait_until='load')
            check(resp.status == 404 and 'not found' in page.title().lower(), f'HTTP {resp.status}, title {page.title()!r}')
            page.screenshot(path=str(shots / '404-1280.png'))
            where['page'] = 'math'
            check(math_pages, 'no page has rendered math')
            ctx.close()
    finally:
        srv.terminate(); srv.wait()
    print(f'site_smoke: {len(names)} pages at 375/1280/1920 px in {time.time() - t0:.1f}s; screenshots in {shots}')
    for n in notes: print('  ' + n)
    if failures:
        print(f'site_smoke: FAILED ({len(failures)}):'); [print('  - ' + f) for f in dict.fromkeys(failures)]
        return 1
    print('site_smoke: OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
