"Tests for course_lib.experiments: auroc, thresholds, open-set decision rules, the multi-label set and metrics, and the drivers."
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from course_lib.experiments import (auroc, threshold_at_tpr, max_softmax_rule, none_targets, none_class_rule, doubled_targets,
                                    soft_cross_entropy, doubled_rule, sigmoid_rule, bce_per_example, reject, open_set_metrics,
                                    get_mlp, train_model, predict, per_class_subset, OPEN_SET_METHODS, open_set_setup,
                                    open_set_experiment, collect, mean_std, summary_table, compare, make_multilabel, topk_rule,
                                    threshold_rule, exact_match, f1_scores, multilabel_metrics, best_threshold,
                                    multilabel_experiment, MULTILABEL_RULES)

try:
    from sklearn.metrics import roc_auc_score, f1_score
except ImportError:   # scikit-learn comes with mlxtend here, but is not one of our dependencies
    roc_auc_score = f1_score = None


def auroc_pairs(scores, labels):
    "Reference: the fraction of (positive, negative) pairs where the positive scores higher, ties counting 1/2."
    pos, neg = scores[labels], scores[~labels]
    d = pos[:, None] - neg[None, :]
    return ((d > 0).double() + 0.5 * (d == 0).double()).mean().item()


# --- auroc -------------------------------------------------------------------

@st.composite
def scored_labels(draw, max_n=40):
    n = draw(st.integers(2, max_n))
    scores = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))   # small integers: many ties
    labels = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda l: any(l) and not all(l)))
    return torch.tensor(scores, dtype=torch.float32), torch.tensor(labels)


@given(scored_labels())
def test_auroc_matches_pairwise_count(sl):
    s, l = sl
    assert auroc(s, l) == pytest.approx(auroc_pairs(s, l), abs=1e-12)


@given(scored_labels())
def test_auroc_symmetries(sl):
    s, l = sl
    a = auroc(s, l)
    assert 0 <= a <= 1
    assert auroc(-s, l) == pytest.approx(1 - a, abs=1e-12)          # reversing the score
    assert auroc(s, ~l) == pytest.approx(1 - a, abs=1e-12)          # swapping the classes
    assert auroc(s * 3 + 7, l) == pytest.approx(a, abs=1e-12)       # only the order matters
    assert auroc(s, l.long()) == a                                    # 0/1 labels work like booleans


@pytest.mark.skipif(roc_auc_score is None, reason='scikit-learn not installed')
def test_auroc_matches_sklearn():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(500, generator=g).round(decimals=1)
    l = torch.rand(500, generator=g) < torch.sigmoid(s)
    assert auroc(s, l) == pytest.approx(roc_auc_score(l.numpy(), s.numpy()), abs=1e-12)


def test_auroc_known_values_and_errors():
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auroc([1., 1., 1.], [0, 1, 1]) == 0.5
    with pytest.raises(ValueError, match='positives and negatives'): auroc([1., 2.], [0, 0])
    with pytest.raises(ValueError, match='same length'): auroc([1., 2.], [0, 1, 1])
    with pytest.raises(ValueError, match='NaN'): auroc([float('nan'), 2.], [0, 1])
    with pytest.raises(ValueError, match='labels'): auroc([1., 2., 3.], [0, 1, 2])
    with pytest.raises(ValueError, match='labels'): auroc([1., 2.], [0., 1.])


# --- threshold at TPR --------------------------------------------------------

@given(st.lists(st.integers(0, 20), min_size=1, max_size=60), st.floats(0.01, 1.))
def test_threshold_at_tpr_is_the_largest_that_accepts_enough(xs, tpr):
    s = torch.tensor(xs, dtype=torch.float32)
    t = threshold_at_tpr(s, tpr)
    assert (s >= t).float().mean().item() >= tpr - 1e-6               # accepts at least tpr of the positives
    assert (s > t).float().mean().item() < tpr + 1e-6                 # any higher threshold accepts fewer
    assert t in xs


def test_threshold_at_tpr_errors():
    with pytest.raises(ValueError, match='tpr'): threshold_at_tpr(torch.tensor([1.]), 0)
    with pytest.raises(ValueError, match='tpr'): threshold_at_tpr(torch.tensor([1.]), 1.5)
    with pytest.raises(ValueError, match='non-empty'): threshold_at_tpr(torch.tensor([]), 0.5)


# --- open-set decision rules -------------------------------------------------

outs = st.integers(1, 6).flatmap(lambda k: st.lists(st.lists(st.floats(-20, 20), min_size=2 * k, max_size=2 * k), min_size=1, max_size=8))


@given(outs)
def test_rules_agree_with_their_definitions(rows):
    out = torch.tensor(rows)
    s, p = max_softmax_rule(out)
    assert torch.allclose(s, F.softmax(out, -1).max(-1).values, atol=1e-6)
    s, p = sigmoid_rule(out)
    assert torch.allclose(s, torch.sigmoid(out).max(-1).values) and (torch.sigmoid(out).gather(1, p[:, None]).squeeze(1) == s).all()
    s, p = none_class_rule(out)
    probs = F.softmax(out, -1)
    assert torch.allclose(s, 1 - probs[:, -1], atol=1e-6) and (p < out.shape[1] - 1).all()
    k = out.shape[1] // 2
    s, p = doubled_rule(out)
    pair = probs[:, :k] / (probs[:, :k] + probs[:, k:])               # p(is k) / (p(is k) + p(is not k))
    assert torch.allclose(s, pair.gather(1, p[:, None]).squeeze(1), atol=1e-5)
    assert torch.allclose(s, torch.sigmoid(out[:, :k] - out[:, k:]).max(-1).values)


def test_rules_on_clear_cases():
    out = torch.tensor([[5., -5., -5., -5.], [-5., -5., -5., -5.]])
    assert sigmoid_rule(out).values[1] < 0.01 and sigmoid_rule(out).values[0] > 0.99   # all-low logits: 'none' for sigmoids
    assert max_softmax_rule(out).values[1] == pytest.approx(0.25)                      # softmax only sees differences
    s, p = doubled_rule(torch.tensor([[4., -4., -4., 4.]]))                             # is 0, not 1
    assert p.item() == 0 and s.item() > 0.99
    s, p = none_class_rule(torch.tensor([[0., 0., 10.]]))
    assert s.item() < 0.001
    with pytest.raises(ValueError, match='even'): doubled_rule(torch.zeros(2, 3))


def test_reject():
    assert reject(torch.tensor([.9, .5, .7]), torch.tensor([3, 1, 2]), 0.7).tolist() == [3, -1, 2]


def test_targets_and_losses():
    assert none_targets(torch.tensor([0, 7, 8, 9]), 8).tolist() == [0, 7, 8, 8]
    t = doubled_targets(torch.tensor([0, 2]), 3)
    assert torch.allclose(t.sum(1), torch.ones(2))
    assert t[0].tolist() == pytest.approx([1 / 3, 0, 0, 0, 1 / 3, 1 / 3])
    with pytest.raises(ValueError, match='labels'): doubled_targets(torch.tensor([3]), 3)
    out, y = torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 0, 1])
    assert torch.allclose(soft_cross_entropy(out, F.one_hot(y, 4).float()), F.cross_entropy(out, y))
    soft = torch.softmax(torch.randn(6, 4), -1)
    assert torch.allclose(soft_cross_entropy(out, soft), F.cross_entropy(out, soft))
    with pytest.raises(ValueError, match='same shape'): soft_cross_entropy(out, soft[:, :3])
    tt = F.one_hot(y, 4).float()
    assert torch.allclose(bce_per_example(out, tt), F.binary_cross_entropy_with_logits(out, tt, reduction='sum') / 6)


def test_open_set_metrics_by_hand():
    y = torch.tensor([0, 1, 0, 1, 2, 2, 3])
    score = torch.tensor([.9, .8, .7, .6, .65, .1, .95])
    m = open_set_metrics(score, torch.tensor([0, 1, 1, 1, 0, 0, 0]), y, n_known=2, tpr=0.75)
    assert m == {'known acc': .75, 'known acc@75': .5, 'AUROC 2': .875, 'AUROC 3': 0., 'reject 2@75': 1., 'reject 3@75': 0.}
    with pytest.raises(ValueError, match='known'): open_set_metrics(score[:4], y[:4], y[:4], n_known=2)
    with pytest.raises(ValueError, match='same length'): open_set_metrics(score, y[:3], y, n_known=2)


# --- multi-label set and rules -----------------------------------------------

def _digits(n_per_class=5, n_classes=10):
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    x = torch.rand(len(y), 784, generator=torch.Generator().manual_seed(0))
    return x, y


def test_make_multilabel_pairs_and_singles():
    x, y = _digits()
    xs, ts = make_multilabel(x, y, 30, 20, generator=torch.Generator().manual_seed(0))
    assert xs.shape == (50, 784) and ts.shape == (50, 10) and ts.dtype == torch.float32
    n = ts.sum(1)
    assert (n == 2).sum() == 30 and (n == 1).sum() == 20 and set(ts.unique().tolist()) <= {0., 1.}
    for img, t in zip(xs, ts):                                        # each image is the pixel-wise max of images of its classes
        cls = torch.nonzero(t).flatten().tolist()
        cands = [x[y == c] for c in cls]
        if len(cls) == 1: assert (cands[0] == img).all(1).any()
        else: assert (torch.maximum(cands[0][:, None], cands[1][None]) == img).all(-1).any()


def test_make_multilabel_is_deterministic_and_seed_dependent():
    x, y = _digits()
    a = make_multilabel(x, y, 10, 10, generator=torch.Generator().manual_seed(3))
    b = make_multilabel(x, y, 10, 10, generator=torch.Generator().manual_seed(3))
    c = make_multilabel(x, y, 10, 10, generator=torch.Generator().manual_seed(4))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[1], c[1])


def test_make_multilabel_errors():
    x, y = _digits()
    with pytest.raises(ValueError, match='two classes'): make_multilabel(x[:5], torch.zeros(5, dtype=torch.long), 3, 0)
    with pytest.raises(ValueError, match='same length'): make_multilabel(x, y[:-1], 3, 0)
    with pytest.raises(ValueError, match='>= 0'): make_multilabel(x, y, -1, 0)
    with pytest.raises(ValueError, match='labels'): make_multilabel(x, y + 1, 3, 0)


@given(st.lists(st.lists(st.integers(0, 9), min_size=5, max_size=5), min_size=1, max_size=6), st.data())
def test_topk_rule_picks_k_largest(rows, data):
    p = torch.tensor(rows, dtype=torch.float32)
    k = torch.tensor(data.draw(st.lists(st.integers(0, 5), min_size=len(rows), max_size=len(rows))))
    pred = topk_rule(p, k)
    assert (pred.sum(1) == k).all()
    for row, sel in zip(p, pred):                                     # nothing left out beats anything taken
        if sel.any() and (~sel).any(): assert row[sel].min() >= row[~sel].max()
    assert (topk_rule(p, 2).sum(1) == 2).all()


def test_topk_and_threshold_rules():
    p = torch.tensor([[.1, .5, .4], [.3, .3, .4]])
    assert topk_rule(p, torch.tensor([2, 1])).tolist() == [[False, True, True], [False, False, True]]
    assert topk_rule(p, torch.tensor([0, 2])).tolist() == [[False, False, False], [True, False, True]]   # ties: the first
    assert threshold_rule(p, 0.4).tolist() == [[False, True, True], [False, False, True]]
    with pytest.raises(ValueError, match=r'\[0, 3\]'): topk_rule(p, 4)
    with pytest.raises(ValueError, match='one entry per row'): topk_rule(p, torch.tensor([1, 1, 1]))
    with pytest.raises(TypeError, match='integers'): topk_rule(p, 1.5)


# --- multi-label metrics -----------------------------------------------------

multihot = st.integers(1, 6).flatmap(lambda c: st.tuples(
    st.lists(st.lists(st.booleans(), min_size=c, max_size=c), min_size=1, max_size=10),
    st.lists(st.lists(st.booleans(), min_size=c, max_size=c), min_size=1, max_size=10)).filter(lambda ab: len(ab[0]) == len(ab[1])))


@given(multihot)
def test_f1_matches_reference(ab):
    pred, targ = torch.tensor(ab[0]), torch.tensor(ab[1])
    micro, macro = f1_scores(pred, targ)
    tp, fp, fn = (pred & targ).sum().item(), (pred & ~targ).sum().item(), (~pred & targ).sum().item()
    assert micro == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.)
    per_class = []
    for c in range(pred.shape[1]):
        p, t = pred[:, c], targ[:, c]
        tp, fp, fn = (p & t).sum().item(), (p & ~t).sum().item(), (~p & t).sum().item()
        per_class.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.)
    assert macro == pytest.approx(sum(per_class) / len(per_class))
    if f1_score is not None and pred.shape[1] >= 2:                  # sklearn reads a single column as binary, not multi-label
        assert micro == pytest.approx(f1_score(targ.numpy(), pred.numpy(), average='micro', zero_division=1.0))
        assert macro == pytest.approx(f1_score(targ.numpy(), pred.numpy(), average='macro', zero_division=1.0))
    assert exact_match(pred, targ) == pytest.approx((pred == targ).all(1).float().mean().item())
    assert f1_scores(targ, targ) == (1., 1.) and exact_match(targ, targ) == 1.


def test_multilabel_metrics_by_hand():
    pred = torch.tensor([[1, 1, 0], [0, 1, 0], [0, 0, 0]]).bool()
    targ = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 1]]).bool()
    m = multilabel_metrics(pred, targ)
    assert m['exact'] == pytest.approx(1 / 3) and m['exact 2-digit'] == 1. and m['exact 1-digit'] == 0.
    assert m['micro F1'] == pytest.approx(4 / 7) and m['macro F1'] == pytest.approx(4 / 9)
    with pytest.raises(ValueError, match='same shape'): exact_match(pred, targ[:2])


def test_best_threshold():
    probs = torch.tensor([[.9, .6, .1], [.8, .3, .2]])
    targ = torch.tensor([[1., 1., 0.], [1., 0., 0.]])
    assert best_threshold(probs, targ, [0.2, 0.5, 0.7]) == 0.5
    assert best_threshold(probs, targ) == 0.32                        # smallest grid value in (0.3, 0.6]
    with pytest.raises(ValueError, match='candidates'): best_threshold(probs, targ, [])


# --- seeds, tables, verdicts -------------------------------------------------

def test_collect_mean_std_table_compare():
    r = collect([{'a': 1., 'b': 2}, {'a': 3., 'b': 2}])
    assert r == {'a': [1., 3.], 'b': [2, 2]}
    with pytest.raises(ValueError, match='keys'): collect([{'a': 1}, {'b': 1}])
    m, s = mean_std([1., 3.])
    assert m == 2. and s == pytest.approx(math.sqrt(2))
    assert mean_std([5.]) == (5., 0.)
    table = summary_table({'x': r, 'y': {'a': [float('nan')] * 2, 'b': [2, 2]}})
    assert '2.000 ± 1.414' in table and '-' in table.splitlines()[2]
    assert compare([1., 1.1, 0.9], [0., 0.1, -0.1])[2] == 'higher'
    assert compare([0., 0.1, -0.1], [1., 1.1, 0.9])[2] == 'lower'
    assert compare([1., 2., 3.], [2., 2., 2.1])[2] == 'no significant difference'
    with pytest.raises(ValueError, match='at least 2'): compare([1.], [1., 2.])


def test_per_class_subset():
    y = torch.tensor([1, 0, 1, 0, 1, 2])
    x = torch.arange(6.)[:, None]
    xs, ys = per_class_subset(x, y, 2)
    assert ys.tolist() == [1, 0, 1, 0, 2] and xs.flatten().tolist() == [0., 1., 2., 3., 5.]


# --- drivers (tiny, synthetic) -----------------------------------------------

def _toy_digits(n_per_class=30):
    "Ten well-separated 'digits': each class lights its own block of pixels, plus noise."
    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat(n_per_class)
    x = torch.rand(len(y), 784, generator=g) * 0.2
    for c in range(10): x[y == c, c * 78:(c + 1) * 78] += 0.8
    return x.clamp(0, 1), y


def test_train_model_uses_n_batches_updates_and_learns():
    x, y = _toy_digits()
    run = train_model(x, y, 10, F.cross_entropy, seed=0, epochs=3, n_batches=7, lr=0.1)
    assert run.n_iter == 21
    assert (predict(run.learn.model, x).argmax(-1) == y).float().mean() > 0.9
    with pytest.raises(ValueError, match='same length'): train_model(x, y[:-1], 10, F.cross_entropy)
    with pytest.raises(ValueError, match='n_batches'): train_model(x[:3], y[:3], 10, F.cross_entropy, n_batches=5)


def test_train_model_is_reproducible():
    x, y = _toy_digits(10)
    a = predict(train_model(x, y, 10, F.cross_entropy, seed=1, epochs=1, n_batches=5).learn.model, x)
    b = predict(train_model(x, y, 10, F.cross_entropy, seed=1, epochs=1, n_batches=5).learn.model, x)
    assert torch.equal(a, b)


@pytest.mark.parametrize('method', OPEN_SET_METHODS)
def test_open_set_experiment_runs_every_method(method):
    x, y = _toy_digits()
    data = (x, y, x, y)
    m = open_set_experiment(method, data, seed=0, epochs=2, n_batches=5, lr=0.1)
    assert m['updates'] == 10
    assert set(m) == {'known acc', 'known acc@95', 'AUROC 8', 'AUROC 9', 'reject 8@95', 'reject 9@95', 'updates'}
    assert m['known acc'] > 0.5                                       # learned something in 10 updates (chance: 1/8)
    assert open_set_setup(method)[0] == {'max_prob': 8, 'none_class': 9, 'doubled': 16, 'sigmoid': 8}[method]


def test_open_set_setup_unknown_method():
    with pytest.raises(ValueError, match='unknown open-set method'): open_set_setup('nope')


def test_multilabel_experiment_runs_both_losses():
    x, y = _toy_digits()
    g = torch.Generator().manual_seed(0)
    train, valid, tune = make_multilabel(x, y, 60, 60, g), make_multilabel(x, y, 20, 20, g), make_multilabel(x, y, 20, 20, g)
    for loss in MULTILABEL_RULES:
        r = multilabel_experiment(loss, train, valid, tune, seed=0, epochs=2, n_batches=4, lr=0.1)
        assert len(r) == 3 and all(v['updates'] == 8 for v in r.values())
        assert all(0 <= v['exact'] <= 1 for v in r.values())
    with pytest.raises(ValueError, match='loss'): multilabel_experiment('relu', train, valid)


def test_get_mlp_shape():
    assert get_mlp(7)(torch.zeros(2, 784)).shape == (2, 7)
