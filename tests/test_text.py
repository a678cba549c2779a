"Tests of course_lib.text: the course's rule outputs, the tokenizer, the vocabulary, the language-model and classifier loaders, and the corpus folder."
import collections, pickle, re
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.utils.data import DataLoader

from course_lib.text import *
from course_lib.data_block import compose, ItemList, SplitData, LabeledData, CategoryProcessor

# --- the rules: the outputs the 2019 notebook printed, derived again here

def test_course_rule_outputs():
    assert replace_rep('cccc') == ' xxrep 4 c '
    assert replace_wrep('word word word word word ') == ' xxwrep 5 word  '
    assert replace_all_caps(['I', 'AM', 'SHOUTING']) == ['I', 'xxup', 'am', 'xxup', 'shouting']
    assert deal_caps(['My', 'name', 'is', 'Jeremy']) == ['xxmaj', 'my', 'name', 'is', 'xxmaj', 'jeremy']

def test_pre_rules():
    assert replace_rep('aaa bbbbbb') == 'aaa  xxrep 6 b '                # three is no repetition, six is
    assert rm_useless_spaces(replace_wrep('no no no no no way')) == ' xxwrep 5 no way'
    assert sub_br('a<br />b<BR>c< br/>d') == 'a\nb\nc\nd'
    assert spec_add_spaces('a/b#c') == 'a / b # c'
    assert rm_useless_spaces('a    b  c') == 'a b c'
    assert add_eos_bos(['x']) == [BOS, 'x', EOS]

def test_fixup_text_unescapes_before_mending():
    "The 2019 rule replaced `amp;` before unescaping: `&amp;` became `&&`. Bare `#39;` is still mended."
    assert fixup_text('Tom &amp; Jerry&#39;s') == "Tom & Jerry's"
    assert fixup_text('it #39;s <unk> 3 @.@ 5') == "it 's xxunk 3.5"
    assert fixup_text('a\\nb  c') == 'a\nb c'

def test_special_tokens():
    assert default_spec_tok == [UNK, PAD, BOS, EOS, TK_REP, TK_WREP, TK_UP, TK_MAJ]
    assert default_spec_tok == 'xxunk xxpad xxbos xxeos xxrep xxwrep xxup xxmaj'.split()

def test_caps_rules_in_an_order_that_keeps_xxup():
    "The 2019 order (deal_caps first) lower-cased everything before replace_all_caps looked: no xxup ever."
    assert TK_UP not in compose(['SHOUTING'], [deal_caps, replace_all_caps])
    assert TokenizeProcessor(max_workers=1).proc1('I AM SHOUTING') == [BOS, 'i', TK_UP, 'am', TK_UP, 'shouting', EOS]

# --- the tokenizer

def test_tokenize_splits_contractions_and_keeps_special_tokens():
    assert tokenize("Don't stop, it's 3.14...") == ['Do', "n't", 'stop', ',', 'it', "'s", '3.14', '...']
    assert tokenize(' xxrep 4 !  xxmaj os.path') == ['xxrep', '4', '!', 'xxmaj', 'os', '.', 'path']

@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_tokenize_loses_nothing_but_spaces(t):
    toks = tokenize(t)
    assert ''.join(toks) == re.sub(r'\s', '', t)
    assert all(tok and not re.search(r'\s', tok) for tok in toks)

def test_proc1_is_what_the_list_call_gives():
    "The 2019 proc1 named an undefined `toks` (and passed proc_chunk a list, not an (i, chunk) pair): it always failed."
    tp = TokenizeProcessor(max_workers=1)
    for t in ['The CPU is FAST!!!!', 'word word word word word', '']:
        assert tp.proc1(t) == tp([t])[0]
    assert tp.proc1('The CPU is FAST!!!!') == [BOS, TK_MAJ, 'the', TK_UP, 'cpu', 'is', TK_UP, 'fast', TK_REP, '4', '!',
                                                EOS]

def test_parallel_tokenizing_equals_serial_and_pickles():
    texts = [f'Text number {i}: SOME words, repeated repeated repeated repeated.' for i in range(30)]
    one = TokenizeProcessor(chunksize=7, max_workers=1)(texts)
    tp = TokenizeProcessor(chunksize=7, max_workers=2)
    assert tp(texts) == one and len(one) == 30
    assert pickle.loads(pickle.dumps(tp)).proc1(texts[3]) == one[3]      # the course pickles its processed lists

def test_parallel_passes_index_and_item():
    assert parallel(divmod_pair, 'abc', max_workers=2) == [(0, 'a'), (1, 'b'), (2, 'c')]
    assert parallel(divmod_pair, 'abc', max_workers=1) == [(0, 'a'), (1, 'b'), (2, 'c')]

def divmod_pair(args): return args

# --- the vocabulary

token_lists = st.lists(st.lists(st.sampled_from(list('abcdefgh') + ['xxbos', 'xxeos']), max_size=12), min_size=1,
                       max_size=8)

@settings(max_examples=50, deadline=None)
@given(token_lists, st.integers(8, 14), st.integers(1, 3))
def test_vocab(items, max_vocab, min_freq):
    num = NumericalizeProcessor(max_vocab=max_vocab, min_freq=min_freq)
    ids = num(items)
    v, freq = num.vocab, collections.Counter(t for o in items for t in o)
    assert v[:8] == default_spec_tok and len(v) <= max_vocab and len(set(v)) == len(v)
    rest = v[8:]
    assert all(freq[t] >= min_freq for t in rest)
    assert [freq[t] for t in rest] == sorted((freq[t] for t in rest), reverse=True)
    left_out = [t for t in freq if t not in v and freq[t] >= min_freq]
    assert not left_out or len(v) == max_vocab                          # only a full vocabulary leaves one out
    assert all(min(freq[t] for t in rest) >= freq[t] for t in left_out) if rest and left_out else True
    for toks, idx in zip(items, ids):
        assert [v[i] if t in v else t for t, i in zip(toks, idx)] == toks
        assert all(i == 0 for t, i in zip(toks, idx) if t not in v)       # unknown words are xxunk
    assert num.proc1(['never seen']) == [0]

def test_vocab_given():
    num = NumericalizeProcessor(vocab=['xxunk', 'xxpad', 'hi'])
    assert num([['hi', 'there']]) == [[2, 0]] and num.deproc1([2, 1]) == ['hi', 'xxpad']

# --- the language-model loaders

def texts_of(lengths):
    "Texts of `lengths` tokens numbered on from one text to the next: the stream is 0, 1, 2..."
    ends = torch.tensor(lengths).cumsum(0).tolist()
    return SimpleNamespace(x=[list(range(e - n, e)) for n, e in zip(lengths, ends)])

@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(1, 5), st.integers(1, 6))
def test_lm_preloader_shifts_and_continues(lengths, bs, bptt):
    data = texts_of(lengths)
    n_batch = sum(lengths) // bs
    if n_batch <= bptt:
        with pytest.raises(ValueError, match='bptt'): LM_PreLoader(data, bs, bptt)
        return
    pre = LM_PreLoader(data, bs, bptt)
    batches = list(lm_loader(pre))
    assert len(batches) == len(pre) // bs and len(batches) >= 1
    for (x, y), (x2, _) in zip(batches, batches[1:] + [(None, None)]):
        assert x.shape == y.shape == (bs, bptt)
        assert torch.equal(y[:, :-1], x[:, 1:])
        if x2 is not None: assert torch.equal(x2[:, 0], y[:, -1])       # each row goes on in the next batch
    rows = torch.cat([x for x, _ in batches], 1)
    assert torch.equal(rows, torch.arange(bs)[:, None] * n_batch + torch.arange(rows.shape[1]))
    assert torch.equal(y, x + 1)                                       # the stream here counts up
    course = list(DataLoader(pre, batch_size=bs))                      # the 2019 way: one sample at a time
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(course, batches))

def test_lm_preloader_shuffle_keeps_whole_texts():
    torch.manual_seed(0)
    data = texts_of([5, 7, 3, 9, 6])
    pre = LM_PreLoader(data, bs=2, bptt=3, shuffle=True)
    stream = pre.batched_data.flatten().tolist()
    starts = [t[0] for t in data.x]
    pieces, i = [], 0
    while i < len(stream):
        t = data.x[starts.index(stream[i])]
        assert stream[i:i + len(t)] == t[:len(stream) - i]
        pieces.append(t[0]); i += len(t)
    assert len(set(pieces)) == len(pieces)

def test_lm_validation_rows_continue():
    "The 2019 get_lm_dls read a bs-row validation preloader 2*bs samples at a time, so rows did not continue."
    train, valid = texts_of([300] * 4), texts_of([200] * 3)
    train_dl, valid_dl = get_lm_dls(train, valid, bs=4, bptt=10)
    (x1, y1), (x2, _) = list(valid_dl)[:2]
    assert x1.shape == (8, 10) and torch.equal(x2[:, 0], y1[:, -1])
    xt, yt = next(iter(train_dl))
    assert xt.shape == (4, 10) and torch.equal(yt[:, :-1], xt[:, 1:])
    data = lm_databunchify(SimpleNamespace(train=train, valid=valid), bs=4, bptt=10)
    assert len(data.train_dl) == len(train_dl)

# --- the classifier loaders

@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=300), st.integers(1, 6))
def test_sortish_sampler(lengths, bs):
    order = list(SortishSampler(lengths, key=lengths.__getitem__, bs=bs))
    assert sorted(order) == list(range(len(lengths)))                        # a permutation
    first = sorted((lengths[i] for i in order[:bs]), reverse=True)
    assert first == sorted(lengths, reverse=True)[:bs]                       # the longest batch first
    assert len(SortishSampler(lengths, key=lengths.__getitem__, bs=bs)) == len(lengths)

def test_sortish_batches_are_of_similar_length():
    torch.manual_seed(0)
    lengths = torch.randint(1, 1000, (2000,)).tolist()
    order = list(SortishSampler(lengths, key=lengths.__getitem__, bs=20))
    spread = [max(b) - min(b) for b in ([lengths[i] for i in order[k:k + 20]] for k in range(0, 2000, 20))]
    assert sorted(spread)[len(spread) // 2] < 100                             # random batches would span ~1000

def test_sort_sampler():
    lengths = [3, 9, 1, 7]
    assert list(SortSampler(lengths, key=lengths.__getitem__)) == [1, 3, 0, 2]

@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(2, 50), min_size=1, max_size=6), st.integers(0, 3)), min_size=1,
                max_size=5), st.booleans())
def test_pad_collate(samples, pad_first):
    x, y = pad_collate(samples, pad_idx=1, pad_first=pad_first)
    n = max(len(s) for s, _ in samples)
    assert x.shape == (len(samples), n) and y.tolist() == [c for _, c in samples]
    for row, (s, _) in zip(x.tolist(), samples):
        pad = [1] * (n - len(s))
        assert row == (pad + s if pad_first else s + pad)

def test_get_clas_dls():
    torch.manual_seed(0)
    lengths = torch.randint(1, 30, (50,)).tolist()
    xs = ItemList([list(range(2, 2 + n)) for n in lengths])
    ld = LabeledData(xs, ItemList([n % 3 for n in lengths]))
    train_dl, valid_dl = get_clas_dls(ld, ld, bs=8)
    xb, yb = next(iter(train_dl))
    assert xb.shape == (8, max(lengths)) and (xb == 1).any()
    assert yb.tolist() == [((r != 1).sum().item()) % 3 for r in xb]    # each label still with its passage
    xv, _ = next(iter(valid_dl))
    assert xv.shape[0] == 16 and sorted((xv != 1).sum(1).tolist(), reverse=True) == sorted(lengths, reverse=True)[:16]
    assert sum(len(b[0]) for b in train_dl) == 50

# --- the corpus

SOURCE = '''"""A module about e-mail headers and such."""
# A comment block that is long enough to keep.
class Header:
    """Represent one header of an e-mail message here."""
    def encode(self):
        """Encode the header for the wire, folding long lines."""
    def same(self):
        """Encode the header for the wire, folding long lines."""
def short():
    """Too short."""
'''

@pytest.fixture()
def fake_stdlib(tmp_path):
    root = tmp_path/'lib'
    (root/'email').mkdir(parents=True)
    (root/'email'/'header.py').write_text(SOURCE)
    (root/'tkinter').mkdir()
    (root/'tkinter'/'__init__.py').write_text('"""Tk is a toolkit for windows and widgets."""\nraise SystemExit(1)\n')
    (root/'test').mkdir()
    (root/'test'/'test_x.py').write_text('"""Tests are left out of the corpus entirely."""')
    (root/'broken.py').write_text('# Not Python at all, but this comment stays.\ndef (:\n')
    return root

def test_stdlib_passages(fake_stdlib):
    ps = stdlib_passages(fake_stdlib, max_workers=1)
    names = [n for n, _, _ in ps]
    assert names == ['broken.comment-0', 'email.header', 'email.header.Header', 'email.header.Header.encode',
                     'email.header.comment-0', 'tkinter']                  # no test, no duplicate, nothing short
    assert stdlib_passages(fake_stdlib, max_workers=2) == ps

def test_stdlib_text_folder(fake_stdlib, tmp_path):
    dest = stdlib_text_folder(tmp_path/'corpus', root=fake_stdlib)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob('*.txt'))
    labelled = [f for f in files if not f.startswith('unsup/')]
    assert len(labelled) == 3 and all(f.split('/')[0] in ('train', 'test') and f.split('/')[1] == 'email'
                                      for f in labelled)
    assert sorted(f for f in files if f.startswith('unsup/')) == [
        'unsup/broken.comment-0.txt', 'unsup/email.header.comment-0.txt', 'unsup/tkinter.txt']
    assert (dest/'unsup'/'tkinter.txt').read_text() == 'Tk is a toolkit for windows and widgets.'
    assert stdlib_text_folder(tmp_path/'corpus', root=tmp_path/'nowhere') == dest        # written once, then cached
    il = TextList.from_files(dest, include=['train', 'test'])
    assert len(il) == 3 and all(isinstance(t, str) for t in il[:3])

def test_train_or_test_is_stable():
    assert [train_or_test(f'passage {i}') for i in range(6)] == [train_or_test(f'passage {i}') for i in range(6)]
    share = sum(train_or_test(f'passage {i}') == 'test' for i in range(2000)) / 2000
    assert 0.15 < share < 0.25

def test_families_are_disjoint_and_at_least_five():
    mods = [m for ms in STDLIB_FAMILIES.values() for m in ms.split()]
    assert len(mods) == len(set(mods)) and len(STDLIB_FAMILIES) >= 5
    assert stdlib_family('asyncio.tasks.Task') == 'concurrency' and stdlib_family('tkinter') is None

def test_python_doc_passages(tmp_path):
    (tmp_path/'library').mkdir()
    (tmp_path/'library'/'os.rst.txt').write_text(':mod:`os` --- Miscellaneous operating system interfaces\n\n'
                                                 'Short.\n\nThis module provides a portable way of using it.\n\n'
                                                 'This module provides a portable way of using it.\n')
    assert python_doc_passages(tmp_path) == [
        ('manual.library.os.0', 'rst', ':mod:`os` --- Miscellaneous operating system interfaces'),
        ('manual.library.os.2', 'rst', 'This module provides a portable way of using it.')]
    assert python_doc_passages(tmp_path/'nowhere') == []
