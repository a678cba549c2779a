#!/usr/bin/env python3
"""Add what Jekyll cannot derive to a built site: contents lists, the course map line, and the search index.

    python3 tools/site_extras.py _site BASEURL     # run by tools/build_site.sh after `jekyll build`

For every page (`_site/*.html` with an `<h1 id="page-title">`):
  * its sections (markdown headings) and API entries (nbdev's `doc_header`s, e.g. `Runner.fit`) become the
    "On this page" list, written where the layout left `<!-- toc -->`;
  * under its title, a line says which video lesson and 2019 notebook it follows, or that it is our own
    addition (tools/course_map.py, from the notebook named in the footer's download link);
  * set-up cells that come before the first sentence (imports only) move below it, folded, so a lesson opens
    with prose; every table is wrapped in a box that scrolls sideways on a narrow screen;
  * the page, each section and each API entry (and each constant of the API index) become one record of
    `_site/search.json`: title, the page's title, the URL with its anchor, the prose under it (no code, no
    outputs, `[source]` links, raw TeX or HTML entities: the snippet a result shows) and, apart, its code.
New notebooks are picked up with no configuration: whatever nbdev converts is indexed. Standard library only.
"""
import html, json, re, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_map

_re_heading = re.compile(r'<h([1-6])(?P<attrs>[^>]*)\bid="(?P<id>[^"]+)"[^>]*>(?P<inner>.*?)</h\1>', re.S)
_re_content = re.compile(r'<div class="post-content">(?P<body>.*)</article>', re.S)
_re_cell = re.compile(r'<div class="cell border-box-sizing (code|text)_cell')
_re_pre = re.compile(r'<pre\b[^>]*>.*?</pre>', re.S)
_re_input = re.compile(r'<div class="input_area">\s*<div class="highlight[^"]*">\s*<pre>(.*?)</pre>', re.S)
_re_setup_line = re.compile(r'(?:import\s|from\s\S+\s+import\s|#|%|torch\.(?:set_num_threads|manual_seed)\(|\w+ = time\.perf_counter\(\)|\s|[\w., ]*\)?\s*$)')
_re_api_row = re.compile(r'<tr id="(?P<id>[^"]+)"><td>(?P<name>.*?)</td><td>(?P<kind>\w+)</td><td>(?P<what>.*?)</td></tr>', re.S)
_re_tex = re.compile(r'\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\w$\\])\$[^\s$](?:[^$]*?[^\s$\\])?\$(?!\w)', re.S)
BODY_CHARS = 1500


def text_of(fragment):
    "Readable text of an HTML fragment: no tags, scripts, anchor marks, `[source]`, TeX or entities."
    s = re.sub(r'<(script|style)\b.*?</\1>', ' ', fragment, flags=re.S)
    s = re.sub(r'<a class="(?:anchor-link|source_link)"[^>]*>.*?</a>', ' ', s, flags=re.S)
    s = re.sub(r'</?(?:p|div|li|tr|td|th|h[1-6]|br|pre|table|ul|ol|blockquote|details|summary)\b[^>]*>', ' ', s)
    s = re.sub(r'<[^>]+>', '', s)
    s = html.unescape(s)
    s = _re_tex.sub(' ', s)
    s = s.replace('[source]', ' ').replace('¶', ' ')
    s = re.sub(r'\s+', ' ', s)
    return re.sub(r' ([,.;:)])', r'\1', s).strip()


def prose_of(fragment):
    "Readable prose of an HTML fragment: `text_of` without code blocks or printed outputs (a search snippet)."
    return text_of(_re_pre.sub(' ', fragment))


def code_of(fragment):
    "The source code of the notebook cells in an HTML fragment (searchable, never shown as a snippet)."
    return text_of(' '.join(_re_input.findall(fragment)))


def headings(body):
    "(level, id, title, is_api_entry, start, end) of each heading with an id in `body`."
    out = []
    for m in _re_heading.finditer(body):
        api = 'doc_header' in m['attrs']
        title = html.unescape(m['id']) if api else text_of(m['inner'])
        if title: out.append((int(m.group(1)), html.unescape(m['id']), title, api, m.start(), m.end()))
    return out


def toc_html(hs):
    "The 'On this page' navigation for headings `hs` (empty when there is nothing to list)."
    if len(hs) < 2: return ''
    top = min(l for l, _, _, api, *_ in hs if not api) if any(not h[3] for h in hs) else 2
    items = []
    for level, id_, title, api, *_ in hs:
        cls = 'toc-entry' if api else f'toc-l{min(max(level - top, 0), 2)}'
        label = f'<code>{html.escape(title)}</code>' if api else html.escape(title)
        items.append(f'<li class="{cls}"><a href="#{html.escape(id_, quote=True)}">{label}</a></li>')
    return ('<details class="toc-box" open><summary class="toc-title">On this page</summary>'
            '<ul class="toc-list">' + ''.join(items) + '</ul></details>')


def _record(title, page, url, kind, fragment):
    rec = {'title': title, 'page': page, 'url': url, 'kind': kind, 'body': prose_of(fragment)[:BODY_CHARS]}
    code = code_of(fragment)[:BODY_CHARS]
    if code: rec['code'] = code
    return rec


def page_records(url, page_title, body, hs):
    "Search records of one page: the page itself, then each section and API entry with its anchor."
    first = hs[0][4] if hs else len(body)
    recs = [_record(page_title, '', url, 'page', body[:first])]
    for i, (level, id_, title, api, start, end) in enumerate(hs):
        stop = hs[i + 1][4] if i + 1 < len(hs) else len(body)
        recs.append(_record(title, page_title, f'{url}#{id_}', 'entry' if api else 'section', body[end:stop]))
    return recs


def api_index_records(url, page_title, body, known):
    "Records for the API index's rows (`<tr id=NAME>`) whose names have no entry of their own (constants)."
    return [{'title': m['id'], 'page': page_title, 'url': f'{url}#{m["id"]}', 'kind': 'entry',
             'body': f'{m["kind"]}: {text_of(m["what"])}'} for m in _re_api_row.finditer(body) if m['id'] not in known]


def is_setup_cell(cell):
    "True for a code cell with no output that only imports (sets threads, seeds, a timer): set-up, not lesson."
    src = _re_input.search(cell)
    if not src or 'output_area' in cell: return False
    lines = [l for l in html.unescape(re.sub(r'<[^>]+>', '', src.group(1))).split('\n') if l.strip()]
    return bool(lines) and all(_re_setup_line.match(l) for l in lines)


def move_setup_cells(body):
    "`body` with the set-up cells that precede its first prose cell moved below that cell, folded."
    ms = list(_re_cell.finditer(body))
    starts = [m.start() for m in ms]
    first = next((i for i, m in enumerate(ms) if m.group(1) == 'text'), None)
    if not first or first + 1 >= len(starts): return body
    cells = [body[starts[i]:starts[i + 1]] for i in range(first)]
    shown = [c for c in cells if 'input_area' in c]
    if not shown or not all(is_setup_cell(c) for c in shown): return body
    fold = ('<details class="setup-cells"><summary>The imports this lesson uses</summary>\n'
            + ''.join(shown) + '</details>\n')
    return (body[:starts[0]] + ''.join(c for c in cells if c not in shown) + body[starts[first]:starts[first + 1]]
            + fold + body[starts[first + 1]:])


def wrap_tables(body):
    "Every table in a box that scrolls sideways when the table is wider than the column (site.js adds the cue)."
    return re.sub(r'<table\b.*?</table>', lambda m: f'<div class="table-scroll">{m.group(0)}</div>', body, flags=re.S)


def course_note(text):
    "The line under the title: which video lesson and 2019 notebook the page follows (from its notebook's name)."
    m = re.search(r'class="nb-download" href="[^"]*/([^"/]+)\.ipynb"', text)
    line = course_map.note(m.group(1)) if m else ''
    return f'<p class="course-follows">{line}</p>' if line else ''


def process(site, baseurl):
    "Fill in the TOCs of `site`'s pages and write `site/search.json`; returns (pages, records)."
    records, n, index = [], 0, None
    for f in sorted(site.glob('*.html')):
        text = f.read_text(encoding='utf-8')
        m_title = re.search(r'<h1[^>]*id="page-title"[^>]*>(.*?)</h1>', text, re.S)
        m_body = _re_content.search(text)
        if not (m_title and m_body): continue
        body = wrap_tables(move_setup_cells(m_body['body']))
        hs = headings(body)
        text = text[:m_body.start('body')] + body + text[m_body.end('body'):]
        text = text.replace('<!-- toc -->', toc_html(hs), 1)
        h = text.find('</header>', text.find('class="post-header"'))
        text = text[:h] + course_note(text) + text[h:]
        f.write_text(text, encoding='utf-8')
        if f.name == '404.html': continue
        url = baseurl + ('' if f.name == 'index.html' else f.name)
        records += page_records(url, text_of(m_title.group(1)), body, hs)
        if _re_api_row.search(body): index = (url, text_of(m_title.group(1)), body)
        n += 1
    if index: records += api_index_records(*index, {r['title'] for r in records if r['kind'] == 'entry'})
    (site / 'search.json').write_text(json.dumps(records, ensure_ascii=False, separators=(',', ':')), encoding='utf-8')
    return n, records


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2: sys.exit('usage: site_extras.py SITE_DIR BASEURL')
    n, recs = process(Path(args[0]), '/' + args[1].strip('/') + '/')
    kinds = {k: sum(r['kind'] == k for r in recs) for k in ('page', 'section', 'entry')}
    print(f'site_extras: {n} pages; search index: {kinds["page"]} pages, {kinds["section"]} sections, {kinds["entry"]} API entries')


if __name__ == '__main__':
    main()
