#!/usr/bin/env python3
"""Add what Jekyll cannot derive to a built site: per-page tables of contents and the search index.

    python3 tools/site_extras.py _site BASEURL     # run by tools/build_site.sh after `jekyll build`

For every page (`_site/*.html` with an `<h1 id="page-title">`):
  * its sections (markdown headings) and API entries (nbdev's `doc_header`s, e.g. `Runner.fit`) become the
    "On this page" list, written where the layout left `<!-- toc -->`;
  * the page, each section and each API entry become one record of `_site/search.json`: title, the page's
    title, the URL with its anchor, and the text under it, without code prompts, `[source]` links, raw TeX
    or HTML entities, so a search result lands on the section and shows a readable snippet.
New notebooks are picked up with no configuration: whatever nbdev converts is indexed. Standard library only.
"""
import html, json, re, sys
from pathlib import Path

_re_heading = re.compile(r'<h([1-6])(?P<attrs>[^>]*)\bid="(?P<id>[^"]+)"[^>]*>(?P<inner>.*?)</h\1>', re.S)
_re_content = re.compile(r'<div class="post-content">(?P<body>.*)</article>', re.S)
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


def page_records(url, page_title, body, hs):
    "Search records of one page: the page itself, then each section and API entry with its anchor."
    first = hs[0][4] if hs else len(body)
    recs = [{'title': page_title, 'page': '', 'url': url, 'kind': 'page', 'body': text_of(body[:first])[:BODY_CHARS]}]
    for i, (level, id_, title, api, start, end) in enumerate(hs):
        stop = hs[i + 1][4] if i + 1 < len(hs) else len(body)
        recs.append({'title': title, 'page': page_title, 'url': f'{url}#{id_}', 'kind': 'entry' if api else 'section',
                     'body': text_of(body[end:stop])[:BODY_CHARS]})
    return recs


def process(site, baseurl):
    "Fill in the TOCs of `site`'s pages and write `site/search.json`; returns (pages, records)."
    records, n = [], 0
    for f in sorted(site.glob('*.html')):
        text = f.read_text(encoding='utf-8')
        m_title = re.search(r'<h1[^>]*id="page-title"[^>]*>(.*?)</h1>', text, re.S)
        m_body = _re_content.search(text)
        if not (m_title and m_body): continue
        hs = headings(m_body['body'])
        text = text.replace('<!-- toc -->', toc_html(hs), 1)
        f.write_text(text, encoding='utf-8')
        if f.name == '404.html': continue
        url = baseurl + ('' if f.name == 'index.html' else f.name)
        records += page_records(url, text_of(m_title.group(1)), m_body['body'], hs)
        n += 1
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
