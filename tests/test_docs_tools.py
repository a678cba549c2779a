"The docs tooling: nbdev's links repaired, search records and contents lists, and generated pages kept current."
import importlib.util, json, re, sys
from pathlib import Path
import course_lib.all

ROOT = Path(__file__).resolve().parents[1]

def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

links, extras = _load('fix_doc_links'), _load('site_extras')
B = '/course_lib/'
IDS = {'callbacks.html': {'Runner', 'Runner.fit', 'get_model'}, 'minibatch.html': {'fit', 'get_model'},
       'data.html': {'get_data'}, 'all.html': {'MNIST_URL', 'get_data'}}
MODS = {'data', 'callbacks', 'minibatch'}

def fix(page, html): return links.fix_page(page, html, IDS, B, MODS)

def test_call_with_spaces_is_left_as_code():
    raw = f'What [<code>Runner.fit(epochs, learn)</code>]({B}callbacks.html#Runner.fit(epochs, learn)) does'
    assert fix('callbacks.html', raw) == 'What <code>Runner.fit(epochs, learn)</code> does'

def test_name_defined_on_this_page_links_here():
    a = f'<a href="{B}callbacks.html#get_model"><code>get_model</code></a>'
    assert fix('minibatch.html', a) == f'<a href="{B}minibatch.html#get_model"><code>get_model</code></a>'

def test_method_of_the_documented_class_wins_inside_its_entry():
    entry = (f'{{% raw %}}<h2 class="doc_header" id="Runner">Runner</h2><p>Trains with '
             f'<a href="{B}minibatch.html#fit"><code>fit</code></a></p>')
    assert f'href="{B}callbacks.html#Runner.fit"' in fix('callbacks.html', entry)
    # after the entry's cell ends, `fit` is the function of 03 again
    later = entry + f'{{% endraw %}}<p>the <a href="{B}minibatch.html#fit"><code>fit</code></a> of 03</p>'
    assert fix('callbacks.html', later).endswith(f'<a href="{B}minibatch.html#fit"><code>fit</code></a> of 03</p>')

def test_bare_module_word_is_not_a_link():
    assert fix('callbacks.html', f'the <a href="{B}data.html"><code>data</code></a> argument') == 'the <code>data</code> argument'

def test_constant_links_to_its_api_index_row_or_nowhere():
    assert fix('data.html', f'<a href="{B}data.html#MNIST_URL"><code>MNIST_URL</code></a>') == \
        f'<a href="{B}all.html#MNIST_URL"><code>MNIST_URL</code></a>'
    assert fix('data.html', f'<a href="{B}callbacks.html#EVENTS"><code>EVENTS</code></a>') == '<code>EVENTS</code>'

def test_good_links_and_other_links_are_untouched():
    for a in (f'<a href="{B}data.html#get_data"><code>get_data</code></a>', '<a href="data.html">00_data</a>',
              '<a href="https://github.com/x/y.py#L3" class="source_link">[source]</a>'):
        assert fix('callbacks.html', a) == a

def test_search_text_has_no_tex_source_links_or_entities():
    t = extras.text_of('<p>Softmax $\\frac{e^x}{\\sum e^x}$ &lt;shift&gt; <a class="source_link" href="x">[source]</a>'
                       '$$x^2$$ costs <code>a</code>.</p>')
    assert t == 'Softmax <shift> costs a.'

def test_sections_and_entries_become_records_with_anchors():
    body = ('<p>intro</p><h2 id="Why">Why<a class="anchor-link" href="#Why"> </a></h2><p>because</p>'
            '<h2 class="doc_header" id="Runner"><code>class</code> <code>Runner</code></h2><p>Trains.</p>')
    hs = extras.headings(body)
    recs = extras.page_records('/course_lib/callbacks.html', 'Callbacks', body, hs)
    assert [(r['title'], r['url'], r['kind'], r['body']) for r in recs] == [
        ('Callbacks', '/course_lib/callbacks.html', 'page', 'intro'),
        ('Why', '/course_lib/callbacks.html#Why', 'section', 'because'),
        ('Runner', '/course_lib/callbacks.html#Runner', 'entry', 'Trains.')]
    toc = extras.toc_html(hs)
    assert '<a href="#Why">Why</a>' in toc and '<a href="#Runner"><code>Runner</code></a>' in toc

def _outputs(nb):
    cells = json.loads((ROOT / 'nbs' / nb).read_text(encoding='utf-8'))['cells']
    return ''.join(''.join(o.get('data', {}).get('text/html', o.get('data', {}).get('text/markdown', o.get('text', ''))))
                   for c in cells for o in c.get('outputs', []))

def test_api_index_saved_in_99_all_is_current():
    rows = re.findall(r'<tr id="([^"]+)"', _outputs('99_all.ipynb'))
    want = [n for n in course_lib.all.__all__ if n not in course_lib.all._course_names]
    assert sorted(rows) == sorted(want), ('re-run nbs/99_all.ipynb: its API index is stale',
                                          set(rows) ^ set(want))

def test_reading_order_saved_in_index_is_current():
    out = _outputs('index.ipynb')
    lessons = [nb.stem for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))]
    listed = re.findall(r'^\| \[(\w+)\]\(', out, re.M)
    assert listed == lessons, 're-run nbs/index.ipynb: its reading order is stale'

def test_all_brings_the_course_names_without_a_gpu():
    ns = {}
    exec('from course_lib.all import *', ns)
    import torch, functools, pathlib, matplotlib.pyplot, fastcore.basics
    want = dict(torch=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim, partial=functools.partial,
                listify=fastcore.basics.listify, plt=matplotlib.pyplot, Path=pathlib.Path)
    assert {k: ns.get(k) for k in want} == want
    assert not [n for n in course_lib.all.__all__ if n.startswith('_')]

_MACHINE = re.compile(r'/tmp/\w|/var/folders/|/home/\w|/root/|/Users/\w|\b0x[0-9a-f]{6,}\b')

def test_saved_outputs_read_the_same_on_every_machine():
    "No saved output shows the building machine: its home or temporary folders, or memory addresses."
    bad = []
    for f in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for c in json.loads(f.read_text(encoding='utf-8'))['cells']:
            for o in c.get('outputs', []):
                t = ''.join(o.get('text', '')) + ''.join(''.join(v) for v in o.get('data', {}).values() if isinstance(v, (str, list)))
                bad += [f'{f.name}: …{t[max(0, m.start() - 30):m.end() + 20]}…' for m in _MACHINE.finditer(t)]
    assert not bad, 'outputs that differ from machine to machine:\n' + '\n'.join(bad)
