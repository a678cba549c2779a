"Tests of course_lib.ulmfit and course_lib.lm_pretrain: matched embeddings, padding-blind pooling, batch = one by one, parameter groups, saved models."
import json, pickle
import pytest
import torch
from hypothesis import given, settings, strategies as st

from course_lib.awd_lstm import get_language_model
from course_lib.text import pad_collate
from course_lib.ulmfit import *
from course_lib.lm_pretrain import save_pretrained, load_pretrained

WORDS = st.lists(st.sampled_from('xxunk xxpad a b c d e f g h'.split()), min_size=1, max_size=8, unique=True)

# --- match_embeds

@settings(max_examples=20, deadline=None)
@given(WORDS, WORDS, st.integers(0, 2**31 - 1))
def test_match_embeds_copies_shared_rows_and_fills_the_mean(old_vocab, new_vocab, seed):
    g = torch.Generator().manual_seed(seed)
    old = {'0.emb.weight': torch.randn(len(old_vocab), 3, generator=g),
           '1.decoder.bias': torch.randn(len(old_vocab), generator=g), '0.rnns.0.w': torch.randn(2, 2, generator=g)}
    before = {k: v.clone() for k, v in old.items()}
    new = match_embeds(old, old_vocab, new_vocab)
    for k in ('0.emb.weight', '1.decoder.bias'):
        assert new[k].shape == (len(new_vocab),) + old[k].shape[1:]
        for i, w in enumerate(new_vocab):
            want = old[k][old_vocab.index(w)] if w in old_vocab else old[k].mean(0)
            assert torch.allclose(new[k][i], want)
    assert new['0.rnns.0.w'] is old['0.rnns.0.w']                  # other tensors pass through
    for k, v in before.items(): assert torch.equal(old[k], v)      # the input is not modified

def test_match_embeds_loads_into_a_tied_model():
    old_vocab, new_vocab = [f'w{i}' for i in range(12)], ['w3', 'new', 'w0', 'w11']
    old_lm, new_lm = get_language_model(12, 4, 6, 2, 1), get_language_model(4, 4, 6, 2, 1)
    new_lm.load_state_dict(match_embeds(old_lm.state_dict(), old_vocab, new_vocab))
    emb = old_lm[0].emb.weight
    assert torch.equal(new_lm[0].emb.weight[0], emb[3]) and torch.allclose(new_lm[0].emb.weight[1], emb.mean(0))
    assert new_lm[1].decoder.weight is new_lm[0].emb.weight

def test_match_embeds_refuses_silent_mistakes():
    sd = {'emb.weight': torch.zeros(3, 2)}
    with pytest.raises(ValueError, match='old_vocab'): match_embeds(sd, ['a', 'b'], ['a'])
    with pytest.raises(ValueError, match='old_wgts'): match_embeds({'lin.weight': torch.zeros(3, 2)}, 'abc', 'a')

# --- masked_concat_pool: the padding contributes nothing

@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.booleans(), st.integers(0, 2**31 - 1))
def test_pool_ignores_padding(lengths, pad_first, seed):
    g = torch.Generator().manual_seed(seed)
    sl = max(lengths)
    out = torch.randn(len(lengths), sl, 3, generator=g)
    pos = torch.arange(sl)
    real = torch.stack([(pos >= sl - n) if pad_first else (pos < n) for n in lengths])
    pooled = masked_concat_pool([out], ~real)
    noisy = out.masked_fill(~real[..., None], 1e4)                   # the padding's states changed
    assert torch.equal(masked_concat_pool([noisy], ~real), pooled)
    for i, r in enumerate(real):                                     # and each row is its unpadded pooling
        o = out[i, r]
        assert torch.allclose(pooled[i], torch.cat([o[-1], o.max(0).values, o.mean(0)]), atol=1e-6)

# --- the classifier: batch predictions equal one-by-one predictions

def small_classifier(seed=0, bptt=4):
    torch.manual_seed(seed)
    return get_text_classifier(30, 6, 10, 2, 3, 1, bptt, layers=[5], drops=[0.1]).eval()

def test_batch_equals_one_by_one():
    clf = small_classifier()
    g = torch.Generator().manual_seed(1)
    passages = [torch.randint(2, 30, (n,), generator=g).tolist() for n in [11, 1, 4, 7, 5]]
    xb, _ = pad_collate([(p, 0) for p in passages])
    with torch.no_grad():
        batch = clf(xb)
        alone = torch.cat([clf(torch.tensor([p])) for p in passages])
    assert torch.allclose(batch, alone, atol=1e-5)

def test_sentence_encoder_outputs_and_mask():
    clf = small_classifier(bptt=3)
    xb = torch.tensor([[5, 6, 7, 8, 9, 10, 11], [5, 6, 1, 1, 1, 1, 1]])
    raw, out, mask = clf[0](xb)
    assert [o.shape for o in out] == [(2, 7, 10), (2, 7, 6)] and len(raw) == 2
    assert torch.equal(mask, xb == 1)

# --- parameter groups: every parameter exactly once

def _once(groups, model):
    ids = [id(p) for g in groups for p in g]
    return len(ids) == len(set(ids)) and set(ids) == {id(p) for p in model.parameters()}

@pytest.mark.parametrize('n_layers', [1, 3])
def test_splitters_cover_every_parameter_once(n_layers):
    lm = get_language_model(20, 4, 6, n_layers, 1)
    assert _once(lm_splitter(lm), lm) and len(lm_splitter(lm)) == n_layers + 1
    clf = get_text_classifier(20, 4, 6, n_layers, 3, 1, 5)
    assert _once(class_splitter(clf), clf) and len(class_splitter(clf)) == n_layers + 2
    untied = get_language_model(20, 4, 6, n_layers, 1, tie_weights=False)
    assert _once(lm_splitter(untied), untied)

def test_classifier_trains_a_step():
    clf = small_classifier().train()
    xb, yb = pad_collate([([5, 6, 7, 8, 9], 0), ([5, 6], 2), ([9, 9, 9], 1)])
    torch.nn.functional.cross_entropy(clf(xb), yb).backward()
    assert all(p.grad is not None for p in clf.parameters())

# --- saving and loading a pretrained model

def test_save_load_round_trip_and_no_silent_overwrite(tmp_path):
    lm, vocab = get_language_model(7, 4, 6, 2, 1), [f'w{i}' for i in range(7)]
    dest = save_pretrained(tmp_path/'lm', lm, vocab)
    sd, vocab2 = load_pretrained(dest)
    assert vocab2 == vocab and all(torch.equal(sd[k], v) for k, v in lm.state_dict().items())
    assert json.loads((dest/'vocab.json').read_text()) == vocab
    other = get_language_model(7, 4, 6, 2, 1)
    with pytest.raises(FileExistsError, match='overwrite=True'): save_pretrained(dest, other, vocab)
    assert torch.equal(load_pretrained(dest)[0]['0.emb.weight'], lm[0].emb.weight)   # kept
    save_pretrained(dest, other, vocab, overwrite=True)
    assert torch.equal(load_pretrained(dest)[0]['0.emb.weight'], other[0].emb.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['lm']                     # no temporary left

def test_save_refuses_a_vocab_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError, match='vocab'):
        save_pretrained(tmp_path/'lm', get_language_model(7, 4, 6, 2, 1), ['a'] * 6)
    assert not (tmp_path/'lm').exists()

class Evil:
    def __reduce__(self): return (print, ('unpickled code ran',))

def test_load_runs_no_pickled_code(tmp_path):
    (tmp_path/'lm').mkdir()
    torch.save({'0.emb.weight': torch.zeros(2, 2), 'x': Evil()}, tmp_path/'lm'/'model.pth')
    (tmp_path/'lm'/'vocab.json').write_text('["a", "b"]')
    with pytest.raises(pickle.UnpicklingError): load_pretrained(tmp_path/'lm')
