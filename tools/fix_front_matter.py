#!/usr/bin/env python3
"""Quote the notebook-derived values in the YAML front matter of nbdev 1 pages.

    python3 tools/fix_front_matter.py DIR   # rewrites DIR/*.html and DIR/*.md in place

nbdev 1 (templates/jekyll.tpl) writes the notebook's `# Title` unquoted and its `> summary` inside
plain double quotes: `title: Data: MNIST ...` or a summary containing `"` is invalid YAML, and Jekyll
then fails. tools/build_site.sh runs this on a staging copy of docs/ (docs/ itself stays exactly as
nbdev wrote it). Standard library only.
"""
import json, re, sys
from pathlib import Path

# keys nbdev fills from notebook text (other keys -- keywords, sidebar, nb_path, toc... -- are left alone)
TEXT_KEYS = ('title', 'summary', 'description')
_re_fm = re.compile(r'\A---[ \t]*\n(.*?\n)---[ \t]*\n', re.S)
MARK = '# front matter quoted by tools/fix_front_matter.py'
_re_line = re.compile(r'^(?P<key>[A-Za-z_][\w-]*):[ \t]*(?P<val>.*?)[ \t]*$')


def _raw_value(val):
    "The text nbdev meant: nbdev wraps summary/description in double quotes without escaping."
    if len(val) >= 2 and val[0] == val[-1] == '"': return val[1:-1]
    return val


def quote_front_matter(text):
    "`text` with title/summary/description in its front matter written as JSON strings (valid YAML)."
    m = _re_fm.match(text)
    if not m or MARK in m.group(1).splitlines(): return text   # not a page, or done already
    out = [MARK]
    for line in m.group(1).splitlines():
        lm = _re_line.match(line)
        if lm and lm['key'] in TEXT_KEYS and lm['val']:
            line = f"{lm['key']}: {json.dumps(_raw_value(lm['val']), ensure_ascii=False)}"
        out.append(line)
    return '---\n' + '\n'.join(out) + '\n---\n' + text[m.end():]


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1: sys.exit(__doc__.strip().splitlines()[2].strip())
    n = 0
    for f in sorted(Path(args[0]).glob('*.html')) + sorted(Path(args[0]).glob('*.md')):
        text = f.read_text(encoding='utf-8')
        new = quote_front_matter(text)
        if new != text:
            f.write_text(new, encoding='utf-8')
            n += 1
    print(f'fix_front_matter: quoted front matter in {n} file(s) of {args[0]}')


if __name__ == '__main__':
    main()
