"""Run the 2019 course's notebooks (fastai/course-v3, `nbs/dl2`) against `course_lib.exp`, in this process.

Only import lines change: `from exp.nb_XX import *` becomes `from course_lib.exp.nb_XX import *`, and 01_matmul's
`from fastai import datasets` becomes `from course_lib.exp import datasets`. IPython syntax
is kept and answered by a small stand-in for `get_ipython()`: `%time`/`%timeit` run their statement once, `x??` and
`!shell` lines, `%matplotlib`, `%load_ext` and `%autoreload` do nothing. Without CUDA, `.cuda()` on a tensor or a
module leaves it on the CPU (08 on call it on tensors) and `torch.cuda.synchronize()` does nothing (12a). The
course's notebooks are read from a checkout at run time; nothing of them is stored here.

A notebook runs as the `__main__` module, as in Jupyter, so that the classes it defines pickle (12_text sends its
tokenizer to worker processes and pickles its data). Where spaCy is not installed, `import spacy` in 12_text gets a
stand-in (`spacy_stand_in`) whose blank tokenizer is course_lib's regular expression. Where the stand-in data is
smaller than the course's, `SMALLER_DATA` lists the few literal indices changed to fit it; nothing else changes.
A notebook whose base module is not written yet imports the stand-in that `NOT_WRITTEN` names.

Also a command: `python tests/course_notebooks.py [NAME ...]` prints pass/fail per notebook (COURSE_V3_DL2 must be set).
"""
import contextlib, gzip, io, linecache, os, pickle, re, shlex, sys, tempfile, time, traceback, types
from pathlib import Path

import torch

# The 2019 notebooks whose lessons exist in course_lib, in course order.
NOTEBOOKS = ['01_matmul', '02_fully_connected', '02a_why_sqrt5', '02b_initializing', '03_minibatch_training',
             '04_callbacks', '05_anneal', '05a_foundations', '05b_early_stopping', '06_cuda_cnn_hooks_init',
             '07_batchnorm', '07a_lsuv', '08_data_block', '09_optimizers', '09b_learner', '09c_add_progress_bar',
             '10b_mixup_label_smoothing', '12_text', '12a_awd_lstm']   # 12a: a full epoch of the course's AWD-LSTM
NEEDS_CUDA = {'06_cuda_cnn_hooks_init', '07_batchnorm', '07a_lsuv'}   # they call `.cuda()` (06, 07 `set_device` too)

# Course modules whose lessons are not written yet: a notebook importing one gets the module named here instead. nb_12
# holds nb_09's names and those of nb_09b-nb_11a that 12_text uses (12_text defines its own names itself).
NOT_WRITTEN = {'nb_11a': 'nb_12'}
# (course code, replacement) per notebook, where the offline stand-in data is smaller than the course's
SMALLER_DATA = {'12_text': [('[1,12552]', '[1,-1]')]}   # shows IMDB's training review 12,552; the stand-in has ~3,600
SMALLER_DATA['10b_mixup_label_smoothing'] = [('[4000]', '[-1]')]   # mixes Imagenette's image 4,000; the stand-in has 300

_STAR = re.compile(r'^(\s*)from exp\.(nb_\w+) import \*\s*$', re.MULTILINE)
_FASTAI = re.compile(r'^(\s*)from fastai import datasets\s*$', re.MULTILINE)   # 01_matmul's own import

def course_dir():
    "The `nbs/dl2` folder of a fastai/course-v3 checkout named by COURSE_V3_DL2, or None."
    d = os.environ.get('COURSE_V3_DL2')
    return Path(d) if d and (Path(d)/'exp'/'nb_00.py').is_file() else None

def swap_imports(src):
    "`src` with `from exp.nb_XX import *` made `from course_lib.exp.nb_XX import *` and fastai's `datasets` ours."
    src = _STAR.sub(lambda m: f'{m[1]}from course_lib.exp.{NOT_WRITTEN.get(m[2], m[2])} import *', src)
    return _FASTAI.sub(r'\1from course_lib.exp import datasets', src)

def code_cells(path):
    "The code cells of notebook `path`, imports swapped, as (cell index, source)."
    import nbformat
    nb, edits = nbformat.read(str(path), as_version=4), SMALLER_DATA.get(Path(path).stem, [])
    cells = [(i, swap_imports(c.source)) for i, c in enumerate(nb.cells) if c.cell_type == 'code' and c.source.strip()]
    for old, new in edits:
        cells = [(i, src.replace(old, new)) for i, src in cells]
    return cells

class Shell:
    "Stands in for IPython's `get_ipython()` in the cells: the magics the course uses, without their timing loops."
    def __init__(self, ns): self.ns, self.log = ns, []

    def run_line_magic(self, name, line):
        self.log.append(f'%{name} {line}')
        if name == 'time': exec(compile(line, '<%time>', 'exec'), self.ns)
        elif name == 'timeit': exec(compile(self._statement(line), '<%timeit>', 'exec'), dict(self.ns))

    def run_cell_magic(self, name, line, cell):
        self.log.append(f'%%{name} {line}')
        if name == 'time': exec(compile(cell, '<%%time>', 'exec'), self.ns)
        elif name == 'timeit': exec(compile(cell, '<%%timeit>', 'exec'), dict(self.ns))
        else: raise NotImplementedError(f'%%{name}')

    def system(self, cmd): self.log.append(f'!{cmd}')

    @staticmethod
    def _statement(line):
        "The statement of a `%timeit` line, without its options (`-n 10`, `-r 3`, `-o`, `-q`)."
        words = shlex.split(line, posix=False)
        while words and words[0].startswith('-'):
            words = words[2:] if words[0] in ('-n', '-r', '-t', '-c', '-p') else words[1:]
        return ' '.join(words)

@contextlib.contextmanager
def cuda_on_cpu():
    "Without CUDA, `.cuda()` leaves a tensor or module on the CPU and `torch.cuda.synchronize()` does nothing."
    saved = torch.Tensor.cuda, torch.nn.Module.cuda, torch.cuda.synchronize
    if not torch.cuda.is_available():
        torch.Tensor.cuda = torch.nn.Module.cuda = lambda self, *args, **kwargs: self
        torch.cuda.synchronize = lambda device=None: None   # 12a times its GPU runs with it
    try: yield
    finally: torch.Tensor.cuda, torch.nn.Module.cuda, torch.cuda.synchronize = saved

def spacy_stand_in():
    "A `spacy` module with what 12_text uses (`blank(lang).tokenizer`, `add_special_case`, `pipe`, `symbols.ORTH`)."
    from types import SimpleNamespace
    from course_lib.text import tokenize
    spacy, symbols = types.ModuleType('spacy'), types.ModuleType('spacy.symbols')
    def cut(s):
        "course_lib's tokens, and like spaCy's a token for each run of white space other than one space."
        return [t for p in re.split(r'(\s+)', s) for t in ([p] if p.isspace() and p != ' ' else tokenize(p))]
    class Tokenizer:
        "Cuts texts with course_lib's regular expression, which keeps the xx... special tokens whole anyway."
        def add_special_case(self, w, spec): pass
        def pipe(self, texts): return ([SimpleNamespace(text=t) for t in cut(s)] for s in texts)
    Tokenizer.__module__, Tokenizer.__qualname__ = 'spacy', 'Tokenizer'   # pickled with a processor: spacy.Tokenizer
    spacy.Tokenizer, spacy.symbols, symbols.ORTH = Tokenizer, symbols, 65
    spacy.blank = lambda lang: SimpleNamespace(tokenizer=Tokenizer())
    return spacy

def _install_spacy():
    "Make `import spacy` work: spaCy itself if installed, else `spacy_stand_in()`."
    try: import spacy   # noqa: F401
    except ImportError:
        spacy = spacy_stand_in()
        sys.modules.update({'spacy': spacy, 'spacy.symbols': spacy.symbols})

def run_notebook(path, ns=None):
    "Run the code cells of the course notebook `path` in one namespace; return (cells run, None) or (cells run, error)."
    from IPython.core.inputtransformer2 import TransformerManager
    import matplotlib.pyplot as plt
    main = types.ModuleType('__main__')          # the notebook's module, as in Jupyter: what it defines pickles
    ns = main.__dict__ if ns is None else ns
    tm, shell, saved = TransformerManager(), Shell(ns), sys.modules['__main__']
    ns['get_ipython'] = lambda: shell
    cells = code_cells(path)
    if any(re.search(r'^\s*(import|from) spacy\b', src, re.MULTILINE) for _, src in cells): _install_spacy()
    sys.modules['__main__'] = main
    try:
        for n, (i, src) in enumerate(cells):
            code, fname = tm.transform_cell(src), f'{Path(path).stem}[cell {i}]'
            linecache.cache[fname] = (len(code), None, code.splitlines(True), fname)   # TorchScript reads source
            try: exec(compile(code, fname, 'exec'), ns)
            except BaseException as e:
                tb = traceback.format_exc(limit=-3)
                return n, f'cell {i} ({n + 1} of {len(cells)}): {type(e).__name__}: {e}\n{src}\n{tb}'
            finally: plt.close('all')
    finally: sys.modules['__main__'] = saved
    return len(cells), None

def mnist_shaped(n_train=50_000, n_valid=10_000):
    """Train, valid and test `(x, y)` numpy pairs shaped like the course's `mnist.pkl.gz` (50,000/10,000/10,000 x 784).
    NOT full MNIST: the offline sample's 4,000 training and 1,000 validation digits, each repeated to those sizes."""
    from course_lib.data import load_mnist_sample
    xt, yt, xv, yv = load_mnist_sample()
    it, iv = torch.arange(n_train) % len(xt), torch.arange(n_valid) % len(xv)
    valid = xv[iv].numpy(), yv[iv].numpy()
    return (xt[it].numpy(), yt[it].numpy()), valid, valid

def write_mnist_shaped(home):
    """Write `mnist_shaped()` where course_lib's cache looks when COURSE_LIB_HOME is `home`; return the file's path.
    Pickle protocol 4 stores the arrays' bytes as they are (protocol 2, from Python 3, would inflate them past
    course_lib's size limit for this file; the course's Python 2 file has them raw too)."""
    from course_lib.data import load_course_file
    path = Path(home)/'data'/'mnist.pkl.gz'
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, 'wb', compresslevel=1) as f: pickle.dump(mnist_shaped(), f, protocol=4)
        load_course_file(path)   # what course_lib accepts as a course-format file
    return path

def main(names):
    """Run the notebooks `names` (default: all of NOTEBOOKS); print PASS or FAIL for each; return the number that failed.
    `--sample` first: no MNIST-shaped file, so `get_data()` gives the 4,000-digit offline sample, as on a new machine."""
    d = course_dir()
    if d is None: sys.exit('set COURSE_V3_DL2 to the nbs/dl2 folder of a fastai/course-v3 checkout')
    sample = names[:1] == ['--sample']
    names = names[1:] if sample else names
    os.environ.setdefault('COURSE_LIB_HOME', tempfile.mkdtemp(prefix='course_lib_home_'))
    if not sample:
        print('data:', write_mnist_shaped(os.environ['COURSE_LIB_HOME']), '(MNIST-shaped: the offline sample repeated)')
    torch.set_num_threads(1)
    failed = 0
    for name in names or NOTEBOOKS:
        t, out = time.time(), io.StringIO()
        torch.manual_seed(0)
        with contextlib.redirect_stdout(out), cuda_on_cpu(): n, err = run_notebook(d/f'{name}.ipynb')
        print(f"{name}: {'PASS' if err is None else 'FAIL'} ({n} cells, {time.time() - t:.0f} s)", flush=True)
        if err: print('   ' + '\n'.join(out.getvalue().splitlines()[-10:] + [err]).replace('\n', '\n   '))
        failed += err is not None
    return failed

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
