"""Tests of course_lib.awd_lstm: the LSTM against PyTorch's, the four dropouts, the tied decoder, the training callbacks
(checked against terms computed here independently), the state carried and detached, and the 2019 slips, pinned."""
import copy, math, warnings
from functools import partial
from types import SimpleNamespace

import pytest
import torch
from torch import nn
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from course_lib.awd_lstm import *
from course_lib.callbacks import Callback, DataBunch
from course_lib.learner import Learner
from course_lib.optimizers import sgd_opt
from strategies import dims, seeds

def copy_lstm(layer, lstm):
    "`layer` (an `LSTMLayer` of `LSTMCell`) with the weights of the one-layer `nn.LSTM` `lstm`."
    with torch.no_grad():
        for ours, theirs in [(layer.cell.ih, 'ih_l0'), (layer.cell.hh, 'hh_l0')]:
            ours.weight.copy_(getattr(lstm, f'weight_{theirs}'))
            ours.bias.copy_(getattr(lstm, f'bias_{theirs}'))
    return layer

# --- the LSTM from scratch, against nn.LSTM

@settings(max_examples=15, deadline=None)
@given(bs=dims, sl=dims, ni=dims, nh=dims, seed=seeds)
def test_lstm_layer_equals_nn_lstm(bs, sl, ni, nh, seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    lstm = nn.LSTM(ni, nh, batch_first=True)
    ours = copy_lstm(LSTMLayer(LSTMCell, ni, nh), lstm)
    x, h0, c0 = (torch.randn(*s, generator=g) for s in [(bs, sl, ni), (bs, nh), (bs, nh)])
    y, (h, c) = ours(x, (h0, c0))
    y_ref, (h_ref, c_ref) = lstm(x, (h0[None], c0[None]))
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(h, h_ref[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(c, c_ref[0], atol=1e-5, rtol=0)
    assert torch.equal(y[:, -1], h)                                 # the output of the last step is the state

def test_lstm_layer_gradients_equal_nn_lstm():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 3, batch_first=True)
    ours = copy_lstm(LSTMLayer(LSTMCell, 4, 3), lstm)
    x = torch.randn(2, 5, 4)
    ours(x, (torch.zeros(2, 3), torch.zeros(2, 3)))[0].pow(2).sum().backward()
    lstm(x)[0].pow(2).sum().backward()
    torch.testing.assert_close(ours.cell.hh.weight.grad, lstm.weight_hh_l0.grad, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.cell.ih.bias.grad, lstm.bias_ih_l0.grad, atol=1e-5, rtol=0)

# --- dropouts

@settings(max_examples=15, deadline=None)
@given(p=st.floats(0., 0.95), seed=seeds)
def test_dropout_mask_values(p, seed):
    torch.manual_seed(seed)
    m = dropout_mask(torch.zeros(1, dtype=torch.float64), (2000,), p)
    assert m.dtype == torch.float64 and m.shape == (2000,)
    assert set(m.unique().tolist()) <= {0., 1 / (1 - p)}
    assert abs((m == 0).double().mean().item() - p) < 0.06           # 6 standard errors at most (p = 0.5: 0.011)

def test_rnn_dropout_one_mask_per_sequence():
    torch.manual_seed(0)
    dp, x = RNNDropout(0.5), torch.randn(8, 6, 10) + 5             # no zeros in x itself
    out = dp(x)
    ratio = out / x
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio))     # the same mask at every step
    assert set(ratio.round(decimals=5).unique().tolist()) == {0., 2.}
    assert torch.equal(dp.eval()(x), x)

def _wd_lstm(p=0.5, seed=0):
    torch.manual_seed(seed)
    return WeightDropout(nn.LSTM(4, 3, batch_first=True), p)

def test_weight_dropout_output_and_gradient_are_those_of_the_dropped_weight():
    "The raw weight's gradient is the dropped weight's gradient times the mask, computed here on a plain copy."
    wd, x = _wd_lstm(), torch.randn(2, 5, 4)
    w = wd.module.weight_hh_l0
    torch.manual_seed(1)
    y, _ = wd(x)
    y.pow(2).sum().backward()
    torch.manual_seed(1)
    mask = dropout_mask(w, w.shape, 0.5)                            # the same draw as in the call
    ref = copy.deepcopy(wd.module)
    with torch.no_grad(): ref.weight_hh_l0.copy_(w * mask)
    ref.zero_grad()
    y_ref, _ = ref(x)
    y_ref.pow(2).sum().backward()
    torch.testing.assert_close(y, y_ref)
    assert w.grad is not None and w.grad.abs().sum() > 0
    torch.testing.assert_close(w.grad, ref.weight_hh_l0.grad * mask)
    torch.testing.assert_close(wd.module.weight_ih_l0.grad, ref.weight_ih_l0.grad)

def test_weight_dropout_training_differs_from_eval():
    wd, x = _wd_lstm(), torch.randn(2, 5, 4)
    y_train = wd(x)[0]
    y_eval = wd.eval()(x)[0]
    assert not torch.allclose(y_train, y_eval)
    assert torch.equal(y_eval, wd.module(x)[0])
    assert torch.equal(wd.eval()(x)[0], y_eval)                      # eval draws nothing

def test_weight_dropout_is_an_ordinary_module_after_training_calls():
    "2019 left a non-leaf dropped copy among the parameters: optimizer, deepcopy and state_dict broke. No warnings."
    wd, x = _wd_lstm(), torch.randn(2, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        wd(x)[0].sum().backward()
        assert all(p.is_leaf for p in wd.parameters())
        torch.optim.SGD(wd.parameters(), lr=0.1)
        clone = copy.deepcopy(wd)
        assert list(wd.state_dict()) == ['module.weight_ih_l0', 'module.weight_hh_l0', 'module.bias_ih_l0',
                                         'module.bias_hh_l0']
        assert torch.equal(wd.state_dict()['module.weight_hh_l0'], clone.module.weight_hh_l0)
        wd.double()(x.double())
    assert sum(1 for _ in wd.parameters()) == 4

def test_weight_dropout_trains_the_lstm():
    "A step of SGD on the wrapper changes the LSTM's weight_hh_l0, the one parameter the optimizer holds."
    wd, x = _wd_lstm(), torch.randn(2, 5, 4)
    before = wd.module.weight_hh_l0.detach().clone()
    opt = torch.optim.SGD(wd.parameters(), lr=0.5)
    wd(x)[0].sum().backward()
    opt.step()
    assert not torch.equal(before, wd.module.weight_hh_l0)

@settings(max_examples=10, deadline=None)
@given(p=st.sampled_from([0.1, 0.5, 0.8]), seed=seeds)
def test_embedding_dropout_zeroes_whole_rows_and_scales_the_rest(p, seed):
    torch.manual_seed(seed)
    emb = nn.Embedding(400, 6)
    with torch.no_grad(): emb.weight.add_(torch.sign(emb.weight) * 0.1)   # no weight near zero
    words = torch.arange(400).repeat(2)                              # every word twice
    out = EmbeddingDropout(emb, p)(words)
    ratio = out / emb(words)
    per_row = ratio.round(decimals=4)
    kept = per_row[:, 0] != 0
    assert torch.equal(per_row, per_row[:, :1].expand_as(per_row))  # a whole row: zero, or all scaled
    torch.testing.assert_close(per_row[kept], torch.full_like(per_row[kept], 1 / (1 - p)), atol=1e-3, rtol=0)
    assert torch.equal(kept[:400], kept[400:])                      # the same decision for both occurrences
    assert abs((~kept[:400]).float().mean().item() - p) < 0.15

def test_embedding_dropout_eval_and_scale_leave_the_weight():
    "2019 multiplied the weight in place by `scale` when no dropout was drawn."
    emb = nn.Embedding(10, 3, padding_idx=1)
    ed, words, w = EmbeddingDropout(emb, 0.5).eval(), torch.tensor([2, 3, 1]), emb.weight.detach().clone()
    assert torch.equal(ed(words), emb(words))
    with torch.no_grad(): out = ed(words, scale=3.)
    torch.testing.assert_close(out, 3 * emb(words))
    assert torch.equal(emb.weight, w)

def test_embedding_dropout_keeps_padding_idx():
    "Without a padding index the last word learns (2019 passed -1, F.embedding's last row); with one, it does not."
    emb = nn.Embedding(10, 3)
    EmbeddingDropout(emb, 0.).eval()(torch.tensor([9, 2])).sum().backward()
    assert emb.weight.grad[9].abs().sum() > 0
    emb = nn.Embedding(10, 3, padding_idx=1)
    EmbeddingDropout(emb, 0.3)(torch.tensor([1, 2])).sum().backward()
    assert emb.weight.grad[1].abs().sum() == 0

# --- the model

def test_awd_lstm_carries_its_state_and_detaches_it():
    torch.manual_seed(0)
    enc = AWD_LSTM(30, 6, 10, 3, pad_token=1).eval()
    x = torch.randint(0, 30, (3, 9))
    whole = enc(x)[0][-1]
    enc.reset()
    halves = torch.cat([enc(x[:, :4])[0][-1], enc(x[:, 4:])[0][-1]], 1)
    torch.testing.assert_close(halves, whole, atol=1e-5, rtol=0)
    assert all(not t.requires_grad and t.grad_fn is None for h in enc.hidden for t in h)
    enc.reset()
    assert enc.hidden == [None] * 3
    from_zeros = enc(x[:, 4:])[0][-1]
    assert not torch.allclose(from_zeros, halves[:, 4:])

def test_awd_lstm_trains_over_consecutive_batches():
    "Backward through batch 2 does not reach batch 1's graph (it would fail: freed buffers)."
    torch.manual_seed(0)
    model = get_language_model(30, 6, 10, 2, 1)
    for _ in range(3):
        model(torch.randint(0, 30, (4, 5)))[0].sum().backward()

def test_awd_lstm_first_batch_of_one_row_and_batch_size_change():
    "2019: no state before the first batch of a size other than 1; a new size resets the state."
    enc = AWD_LSTM(20, 4, 6, 2, 1)
    assert enc(torch.randint(0, 20, (1, 3)))[0][-1].shape == (1, 3, 4)
    enc(torch.randint(0, 20, (5, 3)))
    assert enc.bs == 5 and enc.hidden[0][0].shape == (1, 5, 6)

def test_layer_sizes():
    enc = AWD_LSTM(20, 4, 6, 3, 1)
    assert [(r.module.input_size, r.module.hidden_size) for r in enc.rnns] == [(4, 6), (6, 6), (6, 4)]
    assert [(r.module.input_size, r.module.hidden_size) for r in AWD_LSTM(20, 4, 6, 1, 1).rnns] == [(4, 4)]

def test_tied_decoder_shares_the_embedding_storage():
    model = get_language_model(25, 4, 6, 2, 1)
    emb, dec = model[0].emb, model[1].decoder
    assert dec.weight is emb.weight and dec.weight.data_ptr() == emb.weight.data_ptr()
    untied = get_language_model(25, 4, 6, 2, 1, tie_weights=False)
    assert untied[1].decoder.weight.data_ptr() != untied[0].emb.weight.data_ptr()
    n = lambda m: sum(p.numel() for p in m.parameters())
    assert n(untied) - n(model) == 25 * 4
    assert get_language_model(25, 4, 6, 2, 1, bias=False)[1].decoder.bias is None

def test_decoder_returns_flat_scores_and_the_dropped_last_output():
    "AR is meant for the dropped-out output: the decoder passes on exactly what its linear layer read."
    torch.manual_seed(0)
    model = get_language_model(25, 4, 6, 2, 1, output_p=0.5)
    seen = []
    model[1].decoder.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    decoded, raw_outputs, outputs = model(torch.randint(0, 25, (3, 7)))
    assert decoded.shape == (21, 25)
    assert torch.equal(outputs[-1], seen[0])
    assert not torch.equal(outputs[-1], raw_outputs[-1])             # dropout was applied
    assert len(outputs) == len(raw_outputs) == 2

def test_sequential_rnn_resets_its_children():
    model = get_language_model(25, 4, 6, 2, 1)
    model(torch.randint(0, 25, (3, 7)))
    assert model[0].hidden[0] is not None
    model.reset()
    assert model[0].hidden == [None, None]

# --- callbacks

def test_gradient_clipping_equals_clip_grad_norm():
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    model(torch.randn(4, 5)).pow(2).sum().mul(100).backward()
    ref = copy.deepcopy(model)
    grads = [p.grad.clone() for p in model.parameters()]
    for q, g in zip(ref.parameters(), grads): q.grad = g.clone()
    total = torch.sqrt(sum(g.pow(2).sum() for g in grads))
    assert total > 0.5
    cb = GradientClipping(clip=0.5)
    cb.run = SimpleNamespace(model=model)
    cb.after_backward()
    torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
    for p, q, g in zip(model.parameters(), ref.parameters(), grads):
        assert torch.equal(p.grad, q.grad)
        torch.testing.assert_close(p.grad, g * 0.5 / (total + 1e-6))      # by hand: scaled to norm 0.5
    GradientClipping(None).after_backward()                              # no clip: nothing to do, no runner needed

def _trainer(α, β, pred, loss, in_train=True):
    cb = RNNTrainer(α, β)
    cb.run = SimpleNamespace(pred=pred, loss=loss, in_train=in_train)
    cb.after_pred()
    cb.after_loss()
    return cb

def test_ar_and_tar_add_the_terms_they_claim():
    torch.manual_seed(0)
    raw = [torch.randn(3, 6, 4), torch.randn(3, 6, 5)]
    out = [raw[0] * 2, torch.randn(3, 6, 5)]
    decoded, loss = torch.randn(18, 9), torch.tensor(1.5)
    cb = _trainer(2., 1., (decoded, raw, out), loss)
    assert cb.run.pred is decoded
    ar = sum(v * v for v in out[-1].flatten().tolist()) / out[-1].numel()
    h = raw[-1]
    diffs = [(h[b, t + 1, k] - h[b, t, k]).item() ** 2 for b in range(3) for t in range(5) for k in range(5)]
    tar = sum(diffs) / len(diffs)
    assert math.isclose(cb.run.loss.item(), 1.5 + 2 * ar + tar, rel_tol=1e-5)
    assert math.isclose(_trainer(0.5, 0., (decoded, raw, out), loss).run.loss.item(), 1.5 + 0.5 * ar, rel_tol=1e-5)
    assert math.isclose(_trainer(0., 3., (decoded, raw, out), loss).run.loss.item(), 1.5 + 3 * tar, rel_tol=1e-5)

def test_ar_tar_not_added_in_validation():
    raw, out = [torch.randn(2, 3, 4)], [torch.randn(2, 3, 4)]
    assert _trainer(2., 1., (torch.randn(6, 5), raw, out), torch.tensor(0.7), in_train=False).run.loss.item() == \
        pytest.approx(0.7)

def test_tar_with_one_step_sequences():
    "2019 tested len(h) > 1 (the batch size): one-step sequences made the mean of an empty tensor, a NaN loss."
    raw, out = [torch.randn(4, 1, 3)], [torch.ones(4, 1, 3)]
    loss = _trainer(2., 1., (torch.randn(4, 7), raw, out), torch.tensor(1.)).run.loss
    assert math.isclose(loss.item(), 1. + 2. * 1., rel_tol=1e-6)

class _Stream:
    "A stand-in for 12_text's `LM_PreLoader`: `bs` rows of `bptt` tokens, counting its `batchify` calls."
    def __init__(self, n, bs, bptt, vocab, seed):
        g = torch.Generator().manual_seed(seed)
        self.data = torch.randint(0, vocab, (n, bs, bptt + 1), generator=g)
        self.bs, self.batchified = bs, 0
    def batchify(self): self.batchified += 1
    def __len__(self): return len(self.data)
    def __getitem__(self, i): return self.data[i, :, :-1], self.data[i, :, 1:]

def _lm_learner(cbs, output_p=0.3, α=2., β=1., clip=None):
    torch.manual_seed(0)
    train, valid = _Stream(3, 4, 6, 20, 0), _Stream(2, 8, 6, 20, 1)
    dls = [torch.utils.data.DataLoader(s, batch_size=None) for s in (train, valid)]
    model = get_language_model(20, 5, 7, 2, 1, output_p=output_p)
    return Learner(model, DataBunch(*dls), cross_entropy_flat, lr=0.1, opt_func=sgd_opt,
                   cb_funcs=[partial(GradientClipping, clip=clip), partial(RNNTrainer, α=α, β=β)] + cbs), train

def test_rnn_trainer_loss_in_the_loop():
    "In a real fit, the loss after RNNTrainer is CE + α·AR + β·TAR, each computed from hooks on the model."
    seen, checks = {}, []
    class Check(Callback):
        _order = 1
        def begin_batch(self):
            m = self.model
            seen['h'] = [m[1].decoder.register_forward_hook(lambda mod, i, o: seen.__setitem__('dec_in', i[0])),
                         m[0].rnns[-1].register_forward_hook(lambda mod, i, o: seen.__setitem__('raw', o[0]))]
        def after_loss(self):
            for h in seen['h']: h.remove()
            ce = F.cross_entropy(self.pred, self.yb.reshape(-1))
            if not self.in_train: return checks.append(math.isclose(self.loss.item(), ce.item(), rel_tol=1e-6))
            raw = seen['raw']
            expected = ce + 2. * seen['dec_in'].pow(2).mean() + 1. * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
            checks.append(math.isclose(self.loss.item(), expected.item(), rel_tol=1e-6))
    learn, _ = _lm_learner([Check])
    learn.fit(1)
    assert checks == [True] * 5

def test_rnn_trainer_state_reset_and_batchify_per_epoch():
    states = []
    class Watch(Callback):
        _order = 1
        def begin_epoch(self): states.append(('epoch', list(self.model[0].hidden)))
        def begin_validate(self): states.append(('valid', list(self.model[0].hidden)))
        def after_batch(self):
            states.append(('batch', [t.requires_grad for h in self.model[0].hidden for t in h]))
    learn, train = _lm_learner([Watch])
    learn.fit(2)
    assert train.batchified == 2
    starts = [s for k, s in states if k in ('epoch', 'valid')]
    assert starts == [[None, None]] * 4                              # reset before every pass
    assert all(s == [False] * 4 for k, s in states if k == 'batch')  # detached after every batch

def test_gradient_clipping_in_the_loop():
    norms = []
    class Norm(Callback):
        _order = 1
        def after_backward(self):
            norms.append(torch.sqrt(sum(p.grad.pow(2).sum() for p in self.model.parameters())).item())
    learn, _ = _lm_learner([Norm], clip=1e-3)
    learn.fit(1)
    assert len(norms) == 3 and max(norms) <= 1e-3 * 1.0001

@settings(max_examples=15, deadline=None)
@given(bs=dims, sl=dims, v=st.integers(2, 9), seed=seeds)
def test_flat_loss_and_accuracy(bs, sl, v, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(bs * sl, v, generator=g)
    target = torch.randint(0, v, (bs, sl + 2), generator=g)[:, 1:-1]   # not contiguous, as 12_text's targets
    torch.testing.assert_close(cross_entropy_flat(scores, target), F.cross_entropy(scores, target.flatten()))
    acc = (scores.argmax(1) == target.flatten()).float().mean()
    torch.testing.assert_close(accuracy_flat(scores, target), acc)
    torch.testing.assert_close(cross_entropy_flat(scores.view(bs, sl, v), target),
                               F.cross_entropy(scores.view(bs, sl, v).transpose(1, 2), target))

def test_to_detach_nested():
    a = torch.ones(2, requires_grad=True) * 2
    out = to_detach([(a, a), (a,)])
    assert isinstance(out, list) and isinstance(out[0], tuple)
    assert all(not t.requires_grad for h in out for t in h)
