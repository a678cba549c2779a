"The docs tooling: nbdev's links repaired, search records and contents lists, and generated pages kept current."
import importlib.util, json, re, shutil, subprocess, sys
from pathlib import Path
import pytest
import course_lib.all

ROOT = Path(__file__).resolve().parents[1]

def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

links, extras, cmap = _load('fix_doc_links'), _load('site_extras'), _load('course_map')
B = '/course_lib/'
IDS = {'callbacks.html': {'Runner', 'Runner.fit', 'get_model'}, 'minibatch.html': {'fit', 'get_model'},
       'data.html': {'get_data'}, 'all.html': {'MNIST_URL', 'get_data'}}
MODS = {'data', 'callbacks', 'minibatch'}

def fix(page, html): return links.fix_page(page, html, IDS, B, MODS)

def test_call_with_spaces_is_left_as_code():
    raw = f'What [<code>Runner.fit(epochs, learn)</code>]({B}callbacks.html#Runner.fit(epochs, learn)) does'
    assert fix('callbacks.html', raw) == 'What <code>Runner.fit(epochs, learn)</code> does'

def test_name_documented_on_this_page_links_here():
    entry = '<h2 class="doc_header" id="get_model"><code>get_model</code></h2>'
    a = f'<a href="{B}callbacks.html#get_model"><code>get_model</code></a>'
    assert fix('minibatch.html', entry + a) == entry + f'<a href="{B}minibatch.html#get_model"><code>get_model</code></a>'

def test_api_index_rows_link_to_the_lessons_not_to_themselves():
    row = f'<tr id="get_data"><td><a href="{B}data.html#get_data"><code>get_data</code></a></td></tr>'
    assert fix('all.html', row) == row

def _entry(id_, sig, base_link='', doc=''):
    return (f'<div class="output_markdown"><h2 class="doc_header" id="{id_}"><code>{id_}</code></h2>\n<blockquote>\n'
            f'<p>{sig}{base_link}</p>\n</blockquote>\n{doc}</div>')

def test_torch_subclass_links_pytorch_docs_not_the_toy_module():
    import torch, types
    class Toy: pass
    Toy.__module__ = 'course_lib.init'; Toy.__name__ = 'Module'
    class Norm(torch.nn.Module): pass
    class Lin(Toy): pass
    ns = types.SimpleNamespace(Norm=Norm, Lin=Lin, __name__='course_lib.all')
    toy = f' :: <a href="{B}initializing.html#Module"><code>Module</code></a>'
    out = links.fix_bases(_entry('Norm', '<code>Norm</code>(nf)', toy) + _entry('Lin', '<code>Lin</code>()', toy), ns)
    assert out.count(toy) == 1 and 'href="https://pytorch.org/docs/stable/generated/torch.nn.Module.html"><code>torch.nn.Module' in out
    assert links.fix_bases(out, ns) == out   # idempotent

def test_inherited_docstring_is_dropped_own_one_kept():
    import torch, types
    class Ens(torch.nn.Module):
        def forward(self, x): return x
        def extra(self): "Own words."
    ns = types.SimpleNamespace(Ens=Ens, __name__='course_lib.all')
    page = (_entry('Ens.forward', '<code>Ens.forward</code>(x)', doc='<p>Define the computation .. note:: reST</p>\n')
            + _entry('Ens.extra', '<code>Ens.extra</code>()', doc='<p>Own words.</p>\n'))
    out = links.drop_inherited_docs(page, ns)
    assert 'reST' not in out and 'Own words.' in out and '<code>Ens.forward</code>(x)' in out

def test_no_base_links_to_the_toy_module_in_the_docs():
    "Every `:: Module` linking lesson 02's toy Module belongs to a class that subclasses it (checked by import)."
    import inspect, course_lib.init
    toy = re.compile(r'class="doc_header" id="([^"]+)"[^\n]*\n<blockquote>\n<p>[^\n]*:: <a href="[^"]*#Module"><code>Module</code></a>')
    found = [(f.name, n) for f in (ROOT / 'docs').glob('*.html') for n in toy.findall(f.read_text(encoding='utf-8'))]
    ns = links.package_names('course_lib')
    wrong = [(f, n) for f, n in found if course_lib.init.Module not in inspect.getmro(links.lookup(ns, n))]
    assert not wrong, wrong

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

def test_search_body_is_prose_code_apart():
    frag = ('<p>Why we load it.</p><div class="input_area">\n<div class="highlight hl-ipython3"><pre><span>import</span> torch'
            '</pre></div>\n</div><div class="output_area"><pre>tensor([1.])</pre></div>')
    rec = extras._record('T', 'P', '/u', 'section', frag)
    assert rec['body'] == 'Why we load it.' and rec['code'] == 'import torch'

def _cell(kind, inner): return f'<div class="cell border-box-sizing {kind}_cell rendered">{inner}</div>\n'
def _code(src, out=''):
    return _cell('code', f'<div class="input_area">\n<div class="highlight hl-ipython3"><pre>{src}</pre></div>\n</div>{out}')

def test_setup_cells_before_the_first_sentence_move_below_it_folded():
    body = (_cell('code', '') + _code('import torch\nfrom x import (a,\n    b)') + _cell('text', '<p>First sentence.</p>')
            + _code('x = 1'))
    out = extras.move_setup_cells(body)
    assert out.index('First sentence') < out.index('setup-cells') < out.index('import torch') < out.index('x = 1')
    for keep in (_code('x = 1') + _cell('text', '<p>Prose</p>') + _code('y'),                      # not set-up: stays
                 _code('import torch', '<div class="output_area">1</div>') + _cell('text', 'p') + _code('y')):
        assert extras.move_setup_cells(keep) == keep

def test_tables_scroll_in_a_box_and_constants_are_searchable():
    assert extras.wrap_tables('<p>a</p><table><tr><td>1</td></tr></table>') == \
        '<p>a</p><div class="table-scroll"><table><tr><td>1</td></tr></table></div>'
    body = ('<tr id="MNIST_URL"><td><code>MNIST_URL</code></td><td>constant</td><td><code>\'https://x\'</code></td></tr>'
            '<tr id="get_data"><td><a href="/d.html#get_data">get_data</a></td><td>function</td><td>Load.</td></tr>')
    recs = extras.api_index_records('/course_lib/all.html', 'All', body, {'get_data'})
    assert [(r['title'], r['url'], r['kind']) for r in recs] == [('MNIST_URL', '/course_lib/all.html#MNIST_URL', 'entry')]

def test_course_map_numbers_and_own_additions():
    assert cmap.follows('09b_learner') == ['09b_learner'] and cmap.videos('09b_learner') == [11]
    assert cmap.follows('02_initializing') == ['02_fully_connected', '02a_why_sqrt5', '02b_initializing']
    assert cmap.videos('02_initializing') == [8, 9]
    assert cmap.follows('07b_distributed') == [] and 'own addition' in cmap.note('07b_distributed')
    assert cmap.note('99_all') == '' and cmap.note('index') == ''
    assert 'video lesson 10' in cmap.note('07_batchnorm') and '07_batchnorm.ipynb' in cmap.note('07_batchnorm')
    assert sorted(cmap.COURSE) == sorted(set(cmap.COURSE)) and len(cmap.COURSE) == 26

def test_every_lesson_says_what_it_follows():
    for nb in sorted((ROOT / 'nbs').glob('[0-8]*.ipynb')):
        assert cmap.note(nb.stem), nb.name

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
    want = list(course_lib.all.__all__)   # every name `from course_lib.all import *` brings, the course's tools too
    assert sorted(rows) == sorted(want), ('re-run nbs/99_all.ipynb: its API index is stale',
                                          set(rows) ^ set(want))

def test_reading_order_saved_in_index_is_current():
    out = _outputs('index.ipynb')
    lessons = [nb.stem for nb in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))]
    listed = re.findall(r'^\| \[(\w+)\]\(', out, re.M)
    assert listed == lessons, 're-run nbs/index.ipynb: its reading order is stale'
    mapped = re.findall(r'\) → ([^<|]+)', out)   # the video table: each 2019 notebook -> our pages
    assert len(mapped) == len(cmap.COURSE), 're-run nbs/index.ipynb: its video table is stale'
    for stem in lessons:
        if cmap.follows(stem): assert f'[{stem}](' in ''.join(mapped), f're-run nbs/index.ipynb: {stem} not in the video table'

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


def test_a_name_two_lessons_define_links_to_the_one_at_or_before_the_page():
    "04's `Learner` and 09b's: pages 05 to 09 link 04's, pages from 09b on link 09b's; other names are untouched."
    lessons = [('callbacks.html', {'Learner', 'Runner'}), ('anneal.html', set()), ('learner.html', {'Learner'}),
               ('add_progress_bar.html', set())]
    ids = {**IDS, 'learner.html': {'Learner'}}
    a = lambda page, frag='Learner': f'<a href="{B}{page}#{frag}"><code>{frag}</code></a>'
    fixed = lambda here, html: links.fix_page(here, html, ids, B, MODS, lessons)
    assert fixed('anneal.html', a('learner.html')) == a('callbacks.html')
    assert fixed('add_progress_bar.html', a('learner.html')) == a('learner.html')
    assert fixed('all.html', a('learner.html')) == a('learner.html')                  # not a lesson: as nbdev wrote it
    assert fixed('anneal.html', a('callbacks.html', 'Runner')) == a('callbacks.html', 'Runner')
    ids['add_progress_bar.html'] = {'unsqueeze', 'get_learner'}   # defined by a later lesson only
    lessons[-1] = ('add_progress_bar.html', {'unsqueeze', 'get_learner'})
    assert fixed('anneal.html', a('add_progress_bar.html', 'unsqueeze')) == '<code>unsqueeze</code>'   # torch's too
    assert fixed('anneal.html', a('add_progress_bar.html', 'get_learner')) == a('add_progress_bar.html', 'get_learner')
    later = a('add_progress_bar.html', 'unsqueeze')
    assert fixed('add_progress_bar.html', later) == later


RETINA = "%config InlineBackend.figure_formats = ['retina']"

def test_every_notebook_that_plots_draws_sharp_plots():
    "A notebook with saved plots asks for retina PNGs in a #hide set-up cell: twice the pixels, shown at their size."
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        plots = any('image/png' in o.get('data', {}) for c in cells for o in c.get('outputs', []))
        code = [''.join(c['source']) for c in cells if c['cell_type'] == 'code']
        setup = [s for s in code if s.startswith('#hide')]
        assert not plots or any(RETINA in s for s in setup), f"{nb.name}: add {RETINA!r} to its #hide set-up cell"


@pytest.mark.skipif(not shutil.which('htmlproofer'), reason="Debian's ruby-html-proofer is not installed")
def test_cached_htmlproofer_reports_what_htmlproofer_reports(tmp_path):
    "tools/htmlproofer_cached.rb parses each page once, and still finds each missing page and anchor, as htmlproofer does."
    (tmp_path / 'a.html').write_text('<html><body><h1 id="top-a">A</h1><a href="/course_lib/b.html#there">ok</a>'
        '<a href="/course_lib/b.html#There">case</a><a href="/course_lib/b.html#nope">bad</a>'
        '<a href="/course_lib/c.html">missing</a><a href="#top-a">self</a><a href="#gone">gone</a></body></html>')
    (tmp_path / 'b.html').write_text('<html><body><p id="there">B</p><a name="named"></a>'
                                     '<a href="/course_lib/b.html#named">n</a></body></html>')
    ours = subprocess.run(['ruby', str(ROOT / 'tools/htmlproofer_cached.rb'), str(tmp_path), '/course_lib/', '/_x/'],
                          capture_output=True, text=True)
    theirs = subprocess.run(['htmlproofer', str(tmp_path), '--disable-external', '--allow-hash-href',
                             '--url-swap', '^/course_lib/:/'], capture_output=True, text=True)
    found = lambda r: sorted(l.strip() for l in (r.stdout + r.stderr).splitlines() if l.strip().startswith('*'))
    assert ours.returncode == theirs.returncode == 1
    assert found(ours) == found(theirs)
    assert {re.search(r'(c\.html|#\w+)', l)[1] for l in found(ours)} == {'c.html', '#There', '#nope', '#gone'}
