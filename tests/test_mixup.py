"""Tests of course_lib.mixup: label smoothing equals PyTorch's; MixUp's loss equals cross-entropy against the blended
targets (value and gradient), per sample; the callback keeps the contract (swaps the loss for the fit, restores it)."""
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st

from course_lib.mixup import *
from course_lib.callbacks import Callback, CancelTrainException, DataBunch, Learner, Runner
from course_lib.minibatch import Dataset, DataLoader, Sampler
from course_lib.optimizers import lin_comb
from course_lib.learner import Learner as Learner09b
from strategies import seeds, logit_batches, mixup_batches

FEW = settings(max_examples=15, deadline=None)


# ---------------------------------------------------------------- label smoothing against PyTorch
@FEW
@given(batch=logit_batches(), ε=st.floats(0., 1.), reduction=st.sampled_from(['mean', 'sum', 'none']))
def test_label_smoothing_equals_torch(batch, ε, reduction):
    "2 to 10 classes, with or without positions, every reduction: the value and the gradient of PyTorch's."
    out, targ = batch
    out1, out2 = out.clone().requires_grad_(), out.clone().requires_grad_()
    ours = LabelSmoothingCrossEntropy(ε, reduction)(out1, targ)
    ref = F.cross_entropy(out2, targ, label_smoothing=ε, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    ours.sum().backward(); ref.sum().backward()
    torch.testing.assert_close(out1.grad, out2.grad)

@pytest.mark.parametrize('c', [2, 10])
@pytest.mark.parametrize('shape', [(), (5,)])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_label_smoothing_cases(c, shape, reduction):
    g = torch.Generator().manual_seed(c)
    out, targ = torch.randn(6, c, *shape, generator=g) * 4, torch.randint(0, c, (6, *shape), generator=g)
    torch.testing.assert_close(LabelSmoothingCrossEntropy(reduction=reduction)(out, targ),
                               F.cross_entropy(out, targ, label_smoothing=0.1, reduction=reduction))

def test_label_smoothing_zero_is_cross_entropy_and_one_ignores_the_target():
    out, targ = torch.randn(7, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 0, 1, 2])
    torch.testing.assert_close(LabelSmoothingCrossEntropy(0.)(out, targ), F.cross_entropy(out, targ))
    uniform = LabelSmoothingCrossEntropy(1.)
    torch.testing.assert_close(uniform(out, targ), uniform(out, targ.flip(0)))

def test_label_smoothing_bad_settings():
    with pytest.raises(ValueError, match='ε'): LabelSmoothingCrossEntropy(ε=1.5)
    with pytest.raises(ValueError, match='reduction'): LabelSmoothingCrossEntropy(reduction='avg')


# ---------------------------------------------------------------- the helpers
@FEW
@given(x=st.builds(lambda n, s: torch.randn(n, generator=torch.Generator().manual_seed(s)), st.integers(1, 9), seeds),
       k=st.integers(0, 3))
def test_unsqueeze_and_reduce_loss(x, k):
    u = unsqueeze(x, range(1, k + 1))
    assert u.shape == (len(x),) + (1,) * k and torch.equal(u.flatten(), x)
    torch.testing.assert_close(reduce_loss(x), x.mean())
    torch.testing.assert_close(reduce_loss(x, 'sum'), x.sum())
    assert reduce_loss(x, 'none') is x

@pytest.mark.parametrize('make', [nn.CrossEntropyLoss, LabelSmoothingCrossEntropy])
@pytest.mark.parametrize('red', ['mean', 'sum'])
def test_none_reduce_restores_the_reduction_even_after_an_error(make, red):
    lf = make(reduction=red)
    pred, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 0])
    with NoneReduce(lf) as f: assert f(pred, y).shape == (4,)
    assert lf.reduction == red
    with pytest.raises(RuntimeError, match='step failed'):
        with NoneReduce(lf): raise RuntimeError('step failed')
    assert lf.reduction == red

def test_none_reduce_wraps_a_plain_function():
    pred, y = torch.randn(1, 3), torch.tensor([2])               # batch size 1 too
    with NoneReduce(F.cross_entropy) as f: torch.testing.assert_close(f(pred, y), F.cross_entropy(pred, y)[None])


# ---------------------------------------------------------------- MixUp in a training loop
# Each trainer builds its learner from (model, data, loss_func) and returns it with `fit(cbs, epochs=1)`. MixUp keeps
# the callback contract, so the tests run on every training loop that offers it.
def runner_trainer(model, data, loss_func):
    "Lesson 04's `Learner` trained by its `Runner`."
    learn = Learner(model, torch.optim.SGD(model.parameters(), lr=0.1), loss_func, data)
    def fit(cbs, epochs=1):
        run = Runner(cbs=cbs)
        run.logger = lambda line: None
        run.fit(epochs, learn)
    return learn, fit

def learner_trainer(model, data, loss_func):
    "Lesson 09b's `Learner`, which trains itself."
    learn = Learner09b(model, data, loss_func, opt_func=torch.optim.SGD, lr=0.1)
    learn.logger = lambda line: None
    def fit(cbs, epochs=1): learn.fit(epochs, cbs=cbs)
    return learn, fit

TRAINERS = {'runner': runner_trainer, 'learner': learner_trainer}

def parts(x, y, bs, loss_func=F.cross_entropy, seed=0):
    "A small linear model (a 1x1 conv for targets per position), and `x`, `y` as a `DataBunch` of batches of `bs`."
    torch.manual_seed(seed)
    c = int(y.max()) + 1
    model = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), c)) if y.ndim == 1 else nn.Conv1d(x.shape[1], c, 1)
    ds = Dataset(x, y)
    return model, DataBunch(DataLoader(ds, Sampler(ds, bs)), DataLoader(ds, Sampler(ds, bs)), c=c), loss_func

def learner(trainer, x, y, bs, loss_func=F.cross_entropy):
    return TRAINERS[trainer](*parts(x, y, bs, loss_func))

class Spy(Callback):
    "Records every training batch after MixUp: its state, the loss and the loss's gradient with respect to `pred`."
    _order = 100
    def __init__(self, mix): self.mix, self.raw, self.seen = mix, [], []
    def begin_fit(self): self.loss_during_fit = self.learn.loss_func
    def after_loss(self):
        if not self.in_train: return
        grad, = torch.autograd.grad(self.run.loss, self.run.pred, retain_graph=True)
        self.seen.append(dict(xb=self.run.xb, yb=self.run.yb, yb1=self.mix.yb1, λ=self.mix.λ, shuffle=self.mix.shuffle,
                              pred=self.run.pred.detach(), grad=grad, loss=self.run.loss.detach()))

class Raw(Callback):
    "Records every training batch before MixUp."
    _order = 50
    def __init__(self, store): self.store = store
    def begin_batch(self):
        if self.in_train: self.store.append(self.run.xb.clone())

def soft_cross_entropy(pred, yb, yb1, λ, reduction='mean'):
    "The oracle: PyTorch's cross-entropy against `λ·onehot(yb) + (1−λ)·onehot(yb1)` (classes on axis 1)."
    c = pred.shape[1]
    hot = lambda y: F.one_hot(y, c).movedim(-1, 1).to(pred.dtype)
    targ = lin_comb(hot(yb), hot(yb1), unsqueeze(λ, range(1, pred.ndim)))
    return F.cross_entropy(pred, targ, reduction=reduction)

def fit_and_spy(trainer, batch, mix_cls=MixUp, loss_func=F.cross_entropy, bs=None):
    x, y = batch
    (learn, fit), mix = learner(trainer, x, y, bs or len(x), loss_func), mix_cls()
    spy = Spy(mix)
    fit([Raw(spy.raw), mix, spy])
    return learn, mix, spy

def check_oracle(spy, reduction='mean'):
    "Each batch's loss and its gradient equal the oracle's, computed from the batch's logits."
    for s in spy.seen:
        p = s['pred'].clone().requires_grad_()
        ref = soft_cross_entropy(p, s['yb'], s['yb1'], s['λ'], reduction)
        grad, = torch.autograd.grad(ref, p)
        torch.testing.assert_close(s['loss'], ref.detach())
        torch.testing.assert_close(s['grad'], grad)

@pytest.mark.parametrize('trainer', TRAINERS)
@FEW
@given(batch=mixup_batches(), bs=st.integers(1, 8))
def test_mixup_loss_is_cross_entropy_against_the_blended_targets(trainer, batch, bs):
    "Any batch size (1 included), with or without positions: loss and gradient as the soft-target oracle."
    learn, mix, spy = fit_and_spy(trainer, batch, bs=bs)
    assert spy.seen
    check_oracle(spy)

@pytest.mark.parametrize('trainer', TRAINERS)
@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_mixup_keeps_the_loss_modules_reduction(trainer, reduction):
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(12, 5, generator=g), torch.randint(0, 4, (12,), generator=g)
    lf = nn.CrossEntropyLoss(reduction=reduction)
    learn, mix, spy = fit_and_spy(trainer, (x, y), loss_func=lf, bs=5)
    check_oracle(spy, reduction)
    assert learn.loss_func is lf and lf.reduction == reduction

@pytest.mark.parametrize('trainer', TRAINERS)
def test_mixup_with_label_smoothing_blends_the_two_smoothed_losses(trainer):
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(16, 6, generator=g), torch.randint(0, 3, (16,), generator=g)
    ls = LabelSmoothingCrossEntropy(0.2)
    learn, mix, spy = fit_and_spy(trainer, (x, y), loss_func=ls, bs=8)
    for s in spy.seen:
        per = lambda t: F.cross_entropy(s['pred'], t, label_smoothing=0.2, reduction='none')
        torch.testing.assert_close(s['loss'], lin_comb(per(s['yb']), per(s['yb1']), s['λ']).mean())
    assert learn.loss_func is ls and ls.reduction == 'mean'

class MixUp2019(MixUp):
    "The 2019 form: λ shaped (bs, 1, 1, 1) for the images, and the same tensor to weight the (bs,) losses."
    def begin_batch(self):
        super().begin_batch()
        if self.in_train: self.λ4 = unsqueeze(self.λ, (1, 2, 3))
    def loss_func(self, pred, yb):
        if not self.in_train: return self.old_loss_func(pred, yb)
        with NoneReduce(self.old_loss_func) as lf: loss1, loss2 = lf(pred, yb), lf(pred, self.yb1)
        return reduce_loss(lin_comb(loss1, loss2, self.λ4), getattr(self.old_loss_func, 'reduction', 'mean'))

@pytest.mark.parametrize('trainer', TRAINERS)
def test_the_2019_form_fails_the_oracle(trainer):
    "Pins the fix: weighting the per-sample losses by a (bs, 1, 1, 1) λ weights every sample by the batch's mean λ."
    g = torch.Generator().manual_seed(3)
    batch = torch.randn(32, 1, 4, 4, generator=g), torch.randint(0, 5, (32,), generator=g)
    _, _, ours = fit_and_spy(trainer, batch, bs=16)
    check_oracle(ours)
    _, _, old = fit_and_spy(trainer, batch, mix_cls=MixUp2019, bs=16)
    with pytest.raises(AssertionError): check_oracle(old)
    s = old.seen[0]      # what it computes instead: the batch-mean λ for every sample
    torch.testing.assert_close(s['loss'], soft_cross_entropy(s['pred'], s['yb'], s['yb1'], s['λ'].mean().expand(16)))

@pytest.mark.parametrize('trainer', TRAINERS)
@FEW
@given(batch=mixup_batches(), bs=st.integers(1, 8))
def test_mixup_blends_inputs_per_sample_with_lambda_at_least_half(trainer, batch, bs):
    learn, mix, spy = fit_and_spy(trainer, batch, bs=bs)
    for raw, s in zip(spy.raw, spy.seen):
        λ = unsqueeze(s['λ'], range(1, raw.ndim))
        assert s['λ'].shape == (len(raw),) and ((s['λ'] >= 0.5) & (s['λ'] <= 1)).all()
        assert sorted(s['shuffle'].tolist()) == list(range(len(raw)))
        torch.testing.assert_close(s['xb'], λ * raw + (1 - λ) * raw[s['shuffle']])
        assert torch.equal(s['yb1'], s['yb'][s['shuffle']])

def test_lambda_is_drawn_per_sample_from_the_folded_beta():
    "Over many draws: a spread of values (not one per batch), λ ≥ 1/2, and the folded Beta(0.4)'s mean (≈0.84)."
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(2000, 3, generator=g), torch.randint(0, 2, (2000,), generator=g)
    _, _, spy = fit_and_spy('runner', (x, y), bs=1000)
    λ = torch.cat([s['λ'] for s in spy.seen])
    b = torch.distributions.Beta(0.4, 0.4).sample((200_000,))
    assert λ.min() >= 0.5 and λ.std() > 0.1
    assert abs(λ.mean() - torch.max(b, 1 - b).mean()) < 0.01

@pytest.mark.parametrize('trainer', TRAINERS)
def test_validation_is_neither_mixed_nor_blended(trainer):
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(10, 3, generator=g), torch.randint(0, 3, (10,), generator=g)
    learn, fit = learner(trainer, x, y, 5)
    seen = []
    class Valid(Callback):
        _order = 100
        def after_loss(self):
            if not self.in_train: seen.append((self.run.xb, self.run.pred.detach(), self.run.loss.detach()))
    fit([MixUp(), Valid()])
    assert len(seen) == 2
    for (xb, pred, loss), sl in zip(seen, (slice(0, 5), slice(5, 10))):
        assert torch.equal(xb, x[sl])
        torch.testing.assert_close(loss, F.cross_entropy(pred, y[sl]))

@pytest.mark.parametrize('trainer', TRAINERS)
def test_loss_func_swapped_for_the_fit_and_restored_after_it_even_on_error(trainer):
    x, y = torch.randn(8, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    learn, fit = learner(trainer, x, y, 4)
    mix = MixUp()
    spy = Spy(mix)
    fit([mix, spy])
    assert spy.loss_during_fit == mix.loss_func and learn.loss_func is F.cross_entropy
    class Boom(Callback):
        _order = 100
        def after_backward(self): raise RuntimeError('boom')
    with pytest.raises(RuntimeError, match='boom'): fit([mix, Boom()])
    assert learn.loss_func is F.cross_entropy
    class Stop(Callback):
        def after_loss(self): raise CancelTrainException()
    fit([mix, Stop()])
    assert learn.loss_func is F.cross_entropy

@pytest.mark.parametrize('trainer', TRAINERS)
def test_a_failure_before_mixup_swapped_leaves_the_loss_alone(trainer):
    "A fit that fails before MixUp's `begin_fit` keeps its loss, also when MixUp remembers another learner's."
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    mix, other = MixUp(), nn.CrossEntropyLoss()
    learner(trainer, x, y, 4, loss_func=other)[1]([mix])
    learn, fit = learner(trainer, x, y, 4)
    class Early(Callback):
        _order = 0
        def begin_fit(self): raise RuntimeError('early')
    with pytest.raises(RuntimeError, match='early'): fit([Early(), mix])
    assert learn.loss_func is F.cross_entropy

def test_mixup_bad_alpha_fails_at_once():
    "Beta(α, α) needs α > 0: PyTorch says so when MixUp is made, not at the first batch."
    for α in (0, -0.4, float('nan')):
        with pytest.raises(ValueError, match='concentration'): MixUp(α)

@pytest.mark.parametrize('trainer', TRAINERS)
def test_mixup_trains_and_is_reproducible_from_the_seed(trainer):
    "Same seed, same weights after a fit with MixUp; and the model learns an easy problem."
    g = torch.Generator().manual_seed(5)
    x = torch.randn(256, 4, generator=g)
    y = (x[:, 0] > 0).long()
    finals = []
    for _ in range(2):
        learn, fit = learner(trainer, x, y, 32)
        torch.manual_seed(7)
        fit([MixUp()], epochs=5)
        finals.append(torch.cat([p.detach().flatten() for p in learn.model.parameters()]))
        with torch.no_grad(): assert (learn.model(x).argmax(1) == y).float().mean() > 0.9
    assert torch.equal(*finals)
