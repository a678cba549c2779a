"""Tokenizing the standard-library corpus, and serving language-model batches, each side by side with its alternatives.

Part 1, tokenizing: every passage of `stdlib_text_folder()` (lesson 12's corpus) through the default pre-rules, a
tokenizer and the post-rules, as `TokenizeProcessor` does it:

* `TokenizeProcessor, 1 process` -- the regular-expression tokenizer in this process: the base, and its A/A row (the
  base again under a second name: the noise floor);
* `TokenizeProcessor, 2 processes` -- the same through `parallel` with 2 worker processes (chunks of 2,000 passages);
* `spaCy blank('en'), 1 process` -- the same rules around spaCy's English tokenizer (as the 2019 course did), only
  where spaCy can be imported (`--spacy-path DIR` adds a folder it was installed into with `pip install --target`).

Timed twice: by the wall clock (how long one waits; noisy on a shared machine) and by the CPU time of this process and
of its worker processes (the work done, steadier). The script also prints how often spaCy's tokens and ours agree
(whitespace tokens, which spaCy keeps and ours drops, left out) and the vocabulary each gives.

Part 2, one epoch of language-model batches (bs 64, bptt 70) over the numericalized corpus:

* `plain slicing loop` -- `rows[:, i:i+bptt]` and its shift by one on the preloader's `(bs, n)` tensor: the floor
  (views, no copy), and its A/A row;
* `get_lm_dls loader` -- `lm_loader(LM_PreLoader)`: PyTorch's `DataLoader` fetching a whole batch per step;
* `DataLoader(LM_PreLoader, batch_size=bs)` -- the 2019 way: one `__getitem__` per sample, then collated.

Process CPU time, one thread. Every candidate yields the same batches (checked before timing).

    python bench/text.py            # part 1: 5 repeats on the whole corpus; part 2: 15 repeats
    python bench/text.py --quick    # a few stdlib files, 1 repeat: a smoke run, not a measurement
"""
import argparse, collections, os, platform, sys, sysconfig
from pathlib import Path
from types import SimpleNamespace

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_loop import CLOCKS, compare                                     # noqa: E402

from course_lib.text import (TokenizeProcessor, NumericalizeProcessor, LM_PreLoader, lm_loader,  # noqa: E402
                             stdlib_text_folder, stdlib_files, file_passages, read_file, TextList, default_spec_tok)


CLOCKS['cpu+children'] = lambda: sum(os.times()[:4])   # user + system time, ours and our reaped children's


def corpus(quick):
    "The passages of lesson 12's corpus (with --quick, those of a few stdlib files, without writing the folder)."
    if quick:
        root = Path(sysconfig.get_paths()['stdlib'])
        return [t for fn in stdlib_files(root)[:12] for _, _, t in file_passages(fn, root)]
    il = TextList.from_files(stdlib_text_folder(), include=['train', 'test', 'unsup'])
    return [read_file(fn) for fn in il.items]


class SpacyTokenizer:
    "spaCy's blank English tokenizer as a function from a string to token strings, special tokens kept whole."
    def __init__(self):
        import spacy
        from spacy.symbols import ORTH
        self.tok = spacy.blank('en').tokenizer
        for w in default_spec_tok: self.tok.add_special_case(w, [{ORTH: w}])

    def __call__(self, t): return [o.text for o in self.tok(t)]


def spacy_tokenizer(path):
    "A `SpacyTokenizer`, or None (with the reason printed) if spaCy cannot be imported."
    if path: sys.path.append(path)   # after site-packages: the venv's numpy and friends stay first
    try:
        import spacy
        print(f'spaCy {spacy.__version__} from {Path(spacy.__file__).parent.parent}')
        return SpacyTokenizer()
    except ImportError as e:
        print(f'spaCy not importable ({e}): its row is skipped')


def agreement(ours, theirs):
    "(share of passages tokenized identically, share of our tokens that theirs also has), whitespace tokens dropped."
    same = common = total = 0
    for a, b in zip(ours, theirs):
        b = [t for t in b if t.strip()]
        same += a == b
        common += sum((collections.Counter(a) & collections.Counter(b)).values())
        total += len(a)
    return same / len(ours), common / total


def tokenizing(texts, repeats, spacy_path):
    tok1, tok2 = TokenizeProcessor(max_workers=1), TokenizeProcessor(max_workers=2)
    sp = spacy_tokenizer(spacy_path)
    ours = tok1(texts)
    assert tok2(texts) == ours
    cands = {'TokenizeProcessor, 1 process': lambda: tok1(texts),
             'TokenizeProcessor, 2 processes': lambda: tok2(texts)}
    if sp:
        tsp = TokenizeProcessor(max_workers=1, tokenizer=sp)
        theirs = tsp(texts)
        same, common = agreement(ours, theirs)
        v_ours = NumericalizeProcessor(); v_ours(ours)
        v_sp = NumericalizeProcessor(); v_sp([[t for t in o if t.strip()] for o in theirs])
        print(f'spaCy vs ours: {same:.1%} of passages tokenized identically, {common:.1%} of our tokens also in '
              f"spaCy's; vocabulary (min_freq 2): ours {len(v_ours.vocab):,}, spaCy's {len(v_sp.vocab):,}")
        cands["spaCy blank('en'), 1 process"] = lambda: tsp(texts)
    n_tok = sum(map(len, ours))
    for clock, what in [('wall', 'wall clock (how long one waits)'),
                        ('cpu+children', 'CPU time of this process and its worker processes (the work done)')]:
        res = compare(cands, repeats=repeats, warmup=0 if repeats == 1 or clock != 'wall' else 1, clock=clock,
                      title=f'### Tokenizing {len(texts):,} passages ({n_tok:,} tokens): {what}, ratios to 1 process')
        print('\n' + ', '.join(f'{k}: {n_tok / r["median_s"] / 1e3:,.0f}k tokens/s' for k, r in res.items()))
    return ours


def lm_batches(ids, repeats, bs=64, bptt=70):
    pre = LM_PreLoader(SimpleNamespace(x=ids), bs, bptt)
    rows, n = pre.batched_data, len(pre) // bs

    def plain():
        for i in range(0, n * bptt, bptt): x, y = rows[:, i:i + bptt], rows[:, i + 1:i + 1 + bptt]

    def ours():
        for x, y in lm_loader(pre): pass

    def course():
        for x, y in DataLoader(pre, batch_size=bs): pass

    a, b = list(lm_loader(pre)), list(DataLoader(pre, batch_size=bs))
    assert len(a) == len(b) == n and all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    assert torch.equal(a[-1][0], rows[:, (n - 1) * bptt:n * bptt])
    res = compare({'plain slicing loop': plain, 'get_lm_dls loader': ours,
                   'DataLoader(LM_PreLoader, batch_size=bs)': course}, repeats=repeats,
                  warmup=0 if repeats == 1 else 1, clock='cpu',
                  title=f'### One epoch of language-model batches: {n} batches of {bs} x {bptt} '
                        f'({sum(map(len, ids)):,} tokens), cpu clock, ratios to the plain loop')
    print('\n' + ', '.join(f'{k}: {n / r["median_s"]:,.0f} batches/s' for k, r in res.items()))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='a few stdlib files, 1 repeat: a smoke run, not a measurement')
    p.add_argument('--repeats', type=int, default=None, help='repeats (default 5 for part 1 and 15 for part 2)')
    p.add_argument('--spacy-path', default=None, help='a folder spaCy was installed into (pip install --target)')
    a = p.parse_args()
    torch.set_num_threads(1)
    print(f'torch {torch.__version__}, 1 thread, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
          f'python {platform.python_version()}')
    texts = corpus(a.quick)
    ours = tokenizing(texts, a.repeats or (1 if a.quick else 5), a.spacy_path)
    ids = NumericalizeProcessor()(ours)
    lm_batches(ids, a.repeats or (1 if a.quick else 15), bs=8 if a.quick else 64)


if __name__ == '__main__':
    main()
