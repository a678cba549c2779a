"Tests for course_lib.experiments: metrics, comparisons over runs, open-set rules, the ensemble harness and both experiments."
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, strategies as st

import course_lib.experiments as E
from course_lib.experiments import (auroc, average_precision, mean_average_precision, threshold_at_tpr, t_abs_cdf, t_quantile,
                                    paired_compare, holm, collect, mean_ci, summary_table, compare_all, verdict_table,
                                    max_softmax_rule, max_logit_rule, energy_rule, none_targets, none_class_rule, doubled_targets,
                                    soft_cross_entropy, doubled_rule, sigmoid_rule, bce_per_example, reject, Ensemble,
                                    EnsembleLoader, train_ensemble, predict, split_classes, per_class_subset, resample,
                                    open_set_plan, open_set_recipe, open_set_training_set, OPEN_SET_METHODS, open_set_metrics,
                                    open_set_experiment, tune_lr, make_multilabel, bar_targets, bar_scores, pair_scores,
                                    MULTILABEL_METHODS, multilabel_recipe, topk_rule, threshold_rule, exact_match, f1_scores,
                                    multilabel_metrics, best_threshold, multilabel_plan, multilabel_experiment)
from course_lib.minibatch import mlp

try:
    from sklearn.metrics import roc_auc_score, average_precision_score, f1_score
except ImportError:   # scikit-learn is installed here as another package's dependency, not one of ours
    roc_auc_score = average_precision_score = f1_score = None
try:
    from scipy import stats
except ImportError:
    stats = None


# --- AUROC and average precision ----------------------------------------------

@st.composite
def scored_labels(draw, max_n=40):
    n = draw(st.integers(2, max_n))
    scores = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))   # small integers: many ties
    labels = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda l: any(l) and not all(l)))
    return torch.tensor(scores, dtype=torch.float32), torch.tensor(labels)


def auroc_pairs(scores, labels):
    "Reference: the fraction of (positive, negative) pairs where the positive scores higher, ties counting 1/2."
    d = scores[labels][:, None] - scores[~labels][None, :]
    return ((d > 0).double() + 0.5 * (d == 0).double()).mean().item()


def ap_reference(scores, labels):
    "Reference AP: for each distinct threshold from high to low, recall gained times precision (a plain loop)."
    total, tp_prev, n_pos = 0., 0, int(labels.sum())
    for t in sorted(set(scores.tolist()), reverse=True):
        sel = scores >= t
        tp = int((sel & labels).sum())
        total += (tp - tp_prev) / n_pos * tp / int(sel.sum())
        tp_prev = tp
    return total


@given(scored_labels())
def test_auroc_matches_pairwise_count(sl):
    s, l = sl
    assert auroc(s, l) == pytest.approx(auroc_pairs(s, l), abs=1e-12)


@given(scored_labels())
def test_auroc_symmetries(sl):
    s, l = sl
    a = auroc(s, l)
    assert auroc(-s, l) == pytest.approx(1 - a, abs=1e-12)
    assert auroc(s, ~l) == pytest.approx(1 - a, abs=1e-12)
    assert auroc(s * 3 + 7, l) == pytest.approx(a, abs=1e-12)
    assert auroc(s, l.long()) == a


@given(scored_labels())
def test_average_precision_matches_reference_and_is_order_only(sl):
    s, l = sl
    ap = average_precision(s, l)
    assert ap == pytest.approx(ap_reference(s, l), abs=1e-12)
    assert average_precision(s * 2 + 1, l) == pytest.approx(ap, abs=1e-12)
    assert 0 < ap <= 1 + 1e-12
    top = s.max() + 1 + l.float()                                     # every positive above every negative
    assert average_precision(torch.where(l, top, s), l) == pytest.approx(1., abs=1e-12)


@pytest.mark.skipif(roc_auc_score is None, reason='scikit-learn not installed')
def test_auroc_and_ap_match_sklearn():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(500, generator=g).round(decimals=1)
    l = torch.rand(500, generator=g) < torch.sigmoid(s)
    assert auroc(s, l) == pytest.approx(roc_auc_score(l.numpy(), s.numpy()), abs=1e-12)
    assert average_precision(s, l) == pytest.approx(average_precision_score(l.numpy(), s.numpy()), abs=1e-12)
    sc, tg = torch.rand(50, 4, generator=g), (torch.rand(50, 4, generator=g) < 0.4).float()
    assert mean_average_precision(sc, tg) == pytest.approx(average_precision_score(tg.numpy(), sc.numpy(), average='macro'), abs=1e-12)


def test_auroc_ap_known_values():
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auroc([1., 1., 1.], [0, 1, 1]) == 0.5
    assert average_precision([1., 1., 1.], [0, 1, 1]) == pytest.approx(2 / 3)
    assert average_precision([.9, .1], [1, 0]) == 1.
    # a class with no positive row is left out of the mean
    assert mean_average_precision(torch.tensor([[.9, .5], [.1, .5]]), torch.tensor([[1., 0.], [0., 0.]])) == 1.


@given(st.lists(st.integers(0, 20), min_size=1, max_size=60), st.floats(0.01, 1.))
def test_threshold_at_tpr_is_the_largest_that_accepts_enough(xs, tpr):
    s = torch.tensor(xs, dtype=torch.float32)
    t = threshold_at_tpr(s, tpr)
    assert (s >= t).float().mean().item() >= tpr - 1e-6
    assert (s > t).float().mean().item() < tpr + 1e-6
    assert t in xs


# --- t distribution, paired comparisons, Holm -------------------------------------

@pytest.mark.parametrize('df', [1, 2, 3, 4, 5, 9, 19, 40])
def test_t_distribution_against_tables_or_scipy(df):
    for q in (0.6, 0.8, 0.95, 0.975, 0.999):
        t = t_quantile(q, df)
        assert (1 + t_abs_cdf(t, df)) / 2 == pytest.approx(q, abs=1e-12)         # the quantile inverts the cdf
        assert t_quantile(1 - q, df) == pytest.approx(-t, abs=1e-12)
        if stats is not None: assert t == pytest.approx(stats.t.ppf(q, df), rel=1e-9)
    table = {1: 12.7062047, 2: 4.3026527, 4: 2.7764451, 9: 2.2621572, 19: 2.0930241, 40: 2.0210754}
    if df in table: assert t_quantile(0.975, df) == pytest.approx(table[df], abs=1e-6)


def test_t_abs_cdf_limits():
    assert t_abs_cdf(0., 5) == 0.
    assert t_abs_cdf(float('inf'), 5) == 1.
    assert t_abs_cdf(-2., 5) == t_abs_cdf(2., 5)
    vals = [t_abs_cdf(x / 4, 7) for x in range(40)]
    assert vals == sorted(vals)


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=15), st.floats(-0.5, 0.5))
def test_paired_compare_matches_the_formulas(b, shift):
    g = torch.Generator().manual_seed(len(b))
    a = [x + shift + 0.1 * float(torch.randn(1, generator=g)) for x in b]
    r = paired_compare(a, b)
    d = torch.tensor(a, dtype=torch.float64) - torch.tensor(b, dtype=torch.float64)
    assert r['diff'] == pytest.approx(d.mean().item(), abs=1e-12)
    se = d.std().item() / math.sqrt(len(d))
    assert r['hi'] - r['diff'] == pytest.approx(t_quantile(0.975, len(d) - 1) * se, abs=1e-9)
    assert r['lo'] <= r['diff'] <= r['hi'] and 0 <= r['p'] <= 1
    assert (r['p'] < 0.05) == (r['lo'] > 0 or r['hi'] < 0)                    # the 95% CI excludes 0 exactly when p < 5%
    if stats is not None and se > 0: assert r['p'] == pytest.approx(stats.ttest_rel(a, b).pvalue, abs=1e-9)


def holm_reference(p):
    "Holm by its definition: reject in order of p while p_(i) <= alpha / (m - i); adjusted p is the smallest alpha that rejects."
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    adj, run = [0.] * m, 0.
    for rank, i in enumerate(order):
        run = max(run, min(1., (m - rank) * p[i])); adj[i] = run
    return adj


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_matches_definition(p):
    assert holm(p) == pytest.approx(holm_reference(p), abs=1e-12)
    assert all(h >= x - 1e-15 for h, x in zip(holm(p), p))


def test_compare_all_verdicts_and_holm():
    g = torch.Generator().manual_seed(0)
    base = torch.rand(12, generator=g)
    res = {'A': {'m': (base + 0.2).tolist()}, 'B': {'m': base.tolist()}, 'C': {'m': (base + 0.01 * torch.randn(12, generator=g)).tolist()}}
    rows = compare_all(res, [('A', 'B', 'm'), ('C', 'B', 'm'), ('B', 'A', 'm')])
    assert [r['verdict'] for r in rows] == ['higher', 'no sig. diff.', 'lower']
    assert all(r['p_holm'] >= r['p'] for r in rows)
    text = verdict_table(rows)
    assert 'A - B:' in text and 'higher' in text and max(len(l) for l in text.splitlines()) <= 100


def test_summary_table_and_collect():
    r = collect([{'a': 1., 'n': 2}, {'a': 3., 'n': 2}])
    assert r == {'a': [1., 3.], 'n': [2, 2]}
    m, h = mean_ci([1., 3.])
    assert m == 2. and h == pytest.approx(t_quantile(0.975, 1) * math.sqrt(2) / math.sqrt(2))
    assert mean_ci([5.]) == (5., 0.)
    table = summary_table({'x': r})
    assert f"2.000 ± {h:.3f}" in table and table.splitlines()[1].endswith('2')


# --- open-set rules, targets and losses --------------------------------------------

outs = st.integers(1, 6).flatmap(lambda k: st.lists(st.lists(st.floats(-20, 20), min_size=2 * k, max_size=2 * k), min_size=1, max_size=8))


@given(outs)
def test_rules_agree_with_their_definitions(rows):
    out = torch.tensor(rows)
    s, p = max_softmax_rule(out)
    assert torch.allclose(s, F.softmax(out, -1).max(-1).values, atol=1e-6)
    assert torch.equal(max_logit_rule(out).values, out.max(-1).values)
    s, p = energy_rule(out)
    assert torch.allclose(s, torch.logsumexp(out, -1), atol=1e-5) and torch.equal(p, out.argmax(-1))
    s, p = sigmoid_rule(out)
    assert torch.allclose(s, torch.sigmoid(out).max(-1).values)
    probs = F.softmax(out, -1)
    s, p = none_class_rule(out)
    assert torch.allclose(s, 1 - probs[:, -1], atol=1e-6) and (p < out.shape[1] - 1).all()
    k = out.shape[1] // 2
    s, p = doubled_rule(out)
    pair = probs[:, :k] / (probs[:, :k] + probs[:, k:])
    assert torch.allclose(s, pair.gather(1, p[:, None]).squeeze(1), atol=1e-5)
    assert torch.allclose(pair_scores(out), torch.sigmoid(out[:, :k] - out[:, k:]))


def test_rules_work_on_many_models_at_once():
    out = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(0))
    for rule in (max_softmax_rule, max_logit_rule, energy_rule, none_class_rule, doubled_rule, sigmoid_rule):
        s, p = rule(out)
        for m in range(3):
            s1, p1 = rule(out[m])
            assert torch.allclose(s[m], s1) and torch.equal(p[m], p1)


def test_softmax_blind_to_logit_level_but_logit_scores_are_not():
    out = torch.tensor([[10., 0., 0.], [-10., -20., -20.]])
    s = max_softmax_rule(out).values
    assert s[0].item() == pytest.approx(s[1].item(), abs=1e-6)
    assert max_logit_rule(out).values[0] > max_logit_rule(out).values[1]
    assert energy_rule(out)[0][0] > energy_rule(out)[0][1]


def test_targets_and_losses():
    assert none_targets(torch.tensor([0, 7, 8, 9]), 8).tolist() == [0, 7, 8, 8]
    t = doubled_targets(F.one_hot(torch.tensor([0, 2]), 3).float())
    assert torch.allclose(t.sum(1), torch.ones(2)) and t[0].tolist() == pytest.approx([1 / 3, 0, 0, 0, 1 / 3, 1 / 3])
    out, y = torch.randn(6, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 0, 1])
    assert torch.allclose(soft_cross_entropy(out, F.one_hot(y, 4).float()), F.cross_entropy(out, y))
    soft = torch.softmax(torch.randn(6, 4), -1)
    assert torch.allclose(soft_cross_entropy(out, soft), F.cross_entropy(out, soft))
    tt = F.one_hot(y, 4).float()
    assert torch.allclose(bce_per_example(out, tt), F.binary_cross_entropy_with_logits(out, tt, reduction='sum') / 6)
    many, tm = torch.stack([out, -out]), torch.stack([tt, tt])           # one loss per model
    assert torch.allclose(bce_per_example(many, tm), torch.stack([bce_per_example(out, tt), bce_per_example(-out, tt)]))
    assert reject(torch.tensor([.9, .5, .7]), torch.tensor([3, 1, 2]), 0.7).tolist() == [3, -1, 2]


def test_open_set_metrics_by_hand():
    cls = torch.tensor([0, 1, 0, 1, 2, 2, 3])
    score = torch.tensor([.9, .8, .7, .6, .65, .1, .95])
    m = open_set_metrics(score, torch.tensor([0, 1, 1, 1, 0, 0, 0]), cls, n_known=2, threshold=0.7)
    assert m == {'known acc': .75, 'known kept': .75, 'AUROC new': 0., 'reject new': 0., 'AUROC none digit': .875, 'reject none digit': 1.}


# --- the ensemble harness --------------------------------------------------------

def test_ensemble_runs_each_model_as_mlp_would():
    ens = Ensemble(lambda: mlp(7, 5, 3), seeds=[3, 4])
    x = torch.randn(6, 7)
    for m, s in enumerate([3, 4]):
        torch.manual_seed(s)
        single = mlp(7, 5, 3)
        assert torch.allclose(ens(x)[m], single(x), atol=1e-6)
        assert torch.allclose(ens(torch.stack([x, x]))[m], single(x), atol=1e-6)
    assert len(list(ens.parameters())) == 4 and len(ens) == 2


def test_ensemble_leaves_the_global_rng_alone():
    torch.manual_seed(0); a = torch.rand(1)
    torch.manual_seed(0); Ensemble(lambda: mlp(4, 3, 2), seeds=[7]); b = torch.rand(1)
    assert torch.equal(a, b)


def test_ensemble_loader_shows_every_example_once_per_epoch():
    x = torch.arange(20.)[:, None]
    idx = torch.stack([torch.arange(10), torch.arange(10, 20)])
    dl = EnsembleLoader(x, idx, torch.zeros(2, 10, 1), n_batches=3, seeds=[0, 1])
    batches = list(dl)
    assert len(batches) == len(dl) == 3
    for m in range(2):
        seen = torch.cat([xb[m, :, 0] for xb, _ in batches]).sort().values
        assert torch.equal(seen, x[idx[m], 0].sort().values)
    assert not torch.equal(torch.cat([xb[0, :, 0] for xb, _ in list(dl)]), torch.cat([xb[0, :, 0] for xb, _ in batches]))   # reshuffled


def test_train_ensemble_per_model_lr_equals_training_alone():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 12, generator=g), torch.randint(0, 3, (40,), generator=g)
    idx = torch.stack([torch.arange(40), torch.arange(40).flip(0)])
    t = torch.eye(3)[y][idx]
    both = train_ensemble(x, idx, t, soft_cross_entropy, [0.05, 0.4], seeds=[1, 2], epochs=2, n_batches=4, nh=8)
    alone = train_ensemble(x, idx[1:], t[1:], soft_cross_entropy, [0.4], seeds=[2], epochs=2, n_batches=4, nh=8)
    slow = train_ensemble(x, idx[1:], t[1:], soft_cross_entropy, [0.05], seeds=[2], epochs=2, n_batches=4, nh=8)
    assert both.n_iter == 8
    assert torch.allclose(predict(both.learn.model, x)[1], predict(alone.learn.model, x)[0], atol=1e-4)
    assert not torch.allclose(predict(slow.learn.model, x)[0], predict(alone.learn.model, x)[0], atol=1e-3)   # the lr matters


def _toy_digits(n_per_class=30, seed=0):
    "Ten well-separated 'digits': each class lights its own block of pixels, plus noise."
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    x = torch.rand(len(y), 784, generator=g) * 0.2
    for c in range(10): x[y == c, c * 78:(c + 1) * 78] += 0.8
    return x.clamp(0, 1), y


def test_train_ensemble_learns():
    x, y = _toy_digits()
    idx = torch.arange(len(y))[None]
    run = train_ensemble(x, idx, torch.eye(10)[y][None], soft_cross_entropy, 0.3, seeds=[0], epochs=3, n_batches=6)
    assert (predict(run.learn.model, x)[0].argmax(-1) == y).float().mean() > 0.9


# --- experiment 1: splits, plans, training sets --------------------------------------

def test_split_classes_and_resample():
    assert split_classes((0, 1)).tolist() == [8, 9, 0, 1, 2, 3, 4, 5, 6, 7]
    y = torch.arange(4).repeat(10)
    i = resample(y, 3, torch.Generator().manual_seed(0))
    assert y[i].bincount().tolist() == [3] * 4 and len(set(i.tolist())) == 12
    assert torch.equal(i, resample(y, 3, torch.Generator().manual_seed(0)))
    assert not torch.equal(i, resample(y, 3, torch.Generator().manual_seed(1)))
    xs, ys = per_class_subset(torch.arange(7.)[:, None], torch.tensor([1, 0, 1, 0, 1, 2, 2]), 2)
    assert ys.tolist() == [1, 0, 1, 0, 2, 2] and xs.flatten().tolist() == [0., 1., 2., 3., 5., 6.]


def test_open_set_plan_resamples_per_seed_and_keeps_parts_apart():
    y = torch.arange(10).repeat(40)
    plan = open_set_plan(y, None, [(8, 9), (0, 1)], [0, 1], n_train=30)
    assert len(plan) == 4
    for r in plan:
        parts = [set(r[k].tolist()) for k in ('train', 'cal', 'test')]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert y[r['cal']].bincount().tolist() == [5] * 10
    assert not torch.equal(plan[0]['train'], plan[1]['train'])          # another seed, another sample
    val = open_set_plan(y, torch.arange(10).repeat(6), [(8, 9)], [0], n_train=30)[0]
    assert len(val['cal']) == len(val['test']) == 30


SPLITS = [(8, 9), (0, 1), (2, 3), (4, 5), (6, 7)]


@pytest.mark.parametrize('method', OPEN_SET_METHODS)
def test_held_out_digits_never_reach_a_training_set(method, monkeypatch):
    "Every training set open_set_experiment builds (scored runs and tuning runs) lacks the new digit, and the none digit unless the method is 'none_class'."
    x, y = _toy_digits(20)
    seen = []
    real = E.train_ensemble
    def spy(x_, idx, targets, *args, **kw):
        seen.append((idx.clone(), targets.clone()))
        return real(x_, idx, targets, *args, **kw)
    monkeypatch.setattr(E, 'train_ensemble', spy)
    scored = open_set_plan(y, y, SPLITS, [0, 1], n_train=12)
    tuning = open_set_plan(y, None, [(1, 7)], [100], n_train=12)
    open_set_experiment(method, (x, y, x, y), scored, 0.1, epochs=1, n_batches=2, nh=8)
    tune_lr(lambda runs, lrs: open_set_experiment(method, (x, y, x, y), runs, lrs, epochs=1, n_batches=2, nh=8), tuning, [0.1, 0.3], lambda m: m['known acc'])
    runs = scored + [r for _ in range(2) for r in tuning]
    models = [(i, t) for idx, targets in seen for i, t in zip(idx, targets)]
    assert len(models) == len(runs)
    for (idx, targets), r in zip(models, runs):
        none_digit, new_digit = r['split']
        digits = set(y[idx].tolist())
        assert new_digit not in digits
        assert (none_digit in digits) == (method == 'none_class')
        assert set(idx.tolist()) <= set(r['train'].tolist())
        if method == 'none_class': assert (targets[y[idx] == none_digit].argmax(-1) == 8).all()


def test_open_set_training_set_sizes_and_targets():
    y = torch.arange(10).repeat(5)
    run = open_set_plan(y, None, [(8, 9)], [0], n_train=3)[0]
    for method, (n, width) in {'max_prob': (24, 8), 'sigmoid': (24, 8), 'doubled': (24, 16), 'none_class': (27, 9)}.items():
        idx, t = open_set_training_set(method, y, run)
        assert t.shape == (n, width) and len(idx) == n
        assert torch.allclose(t.sum(-1), torch.ones(n)) or method == 'sigmoid'


@pytest.mark.parametrize('method', OPEN_SET_METHODS)
def test_open_set_experiment_runs_every_method(method):
    x, y = _toy_digits(20)
    plan = open_set_plan(y, y, [(8, 9), (0, 1)], [0], n_train=12)
    res = open_set_experiment(method, (x, y, x, y), plan, [0.3, 0.1], epochs=3, n_batches=4)
    assert set(res) == set(open_set_recipe(method)[1])
    for r in res.values():
        assert r['updates'] == [12, 12] and r['lr'] == pytest.approx([0.3, 0.1])
        assert set(r) == {'known acc', 'known kept', 'AUROC new', 'reject new', 'AUROC none digit', 'reject none digit', 'lr', 'updates'}
        assert min(r['known acc']) > 0.5                                  # learned something (chance 1/8)


def test_tune_lr_picks_the_best_and_treats_nan_as_worst():
    plan = [dict(seed=0, train=None), dict(seed=1, train=None)]
    def fake(runs, lrs): return {'x': {'m': [{0.1: 0.5, 1.0: float('nan'), 0.3: 0.7}[lr] for lr in lrs]}}
    best, means = tune_lr(fake, plan, [0.1, 1.0, 0.3], lambda r: r['m'])
    assert best == 0.3 and means[0.1] == 0.5 and math.isnan(means[1.0])


def test_diverged_runs_give_nan_that_comparisons_refuse():
    x, y = _toy_digits(20)
    plan = open_set_plan(y, y, [(8, 9), (0, 1)], [0], n_train=12)
    res = open_set_experiment('max_prob', (x, y, x, y), plan, 1e6, epochs=2, n_batches=4)
    assert all(math.isnan(v) for v in res['a: max logit']['AUROC new'])          # lr 1e6 blows the logits up
    with pytest.raises(ValueError, match='NaN'): compare_all(res, [('a: max logit', 'a: max prob', 'AUROC new')])


# --- experiment 2: multi-label ---------------------------------------------------

def _digits(n_per_class=5, n_classes=10):
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    return torch.rand(len(y), 784, generator=torch.Generator().manual_seed(0)), y


def test_make_multilabel_pairs_and_singles():
    x, y = _digits()
    xs, ts = make_multilabel(x, y, 30, 20, generator=torch.Generator().manual_seed(0))
    assert xs.shape == (50, 784) and ts.shape == (50, 10)
    n = ts.sum(1)
    assert (n == 2).sum() == 30 and (n == 1).sum() == 20
    for img, t in zip(xs, ts):
        cls = torch.nonzero(t).flatten().tolist()
        cands = [x[y == c] for c in cls]
        if len(cls) == 1: assert (cands[0] == img).all(1).any()
        else: assert (torch.maximum(cands[0][:, None], cands[1][None]) == img).all(-1).any()


def test_multilabel_targets_and_scores():
    t = torch.tensor([[0., 1., 1.], [1., 0., 0.]])
    assert torch.allclose(bar_targets(t), torch.tensor([[0., 1 / 3, 1 / 3, 1 / 3], [.5, 0., 0., .5]]))
    out = torch.randn(4, 7)
    assert torch.allclose(bar_scores(out), torch.softmax(out, -1)[:, :-1] / (torch.softmax(out, -1)[:, :-1] + torch.softmax(out, -1)[:, -1:]), atol=1e-6)
    for m in MULTILABEL_METHODS:
        make_targets, loss, to_scores = multilabel_recipe(m)
        tt = make_targets(t)
        if m != 'sigmoid': assert torch.allclose(tt.sum(-1), torch.ones(2))
        assert to_scores(torch.randn(2, tt.shape[-1])).shape == (2, 3)


@given(st.lists(st.lists(st.integers(0, 9), min_size=5, max_size=5), min_size=1, max_size=6), st.data())
def test_topk_rule_picks_k_largest(rows, data):
    p = torch.tensor(rows, dtype=torch.float32)
    k = torch.tensor(data.draw(st.lists(st.integers(0, 5), min_size=len(rows), max_size=len(rows))))
    pred = topk_rule(p, k)
    assert (pred.sum(1) == k).all()
    for row, sel in zip(p, pred):
        if sel.any() and (~sel).any(): assert row[sel].min() >= row[~sel].max()


multihot = st.integers(2, 6).flatmap(lambda c: st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.booleans(), min_size=c, max_size=c), min_size=n, max_size=n),
    st.lists(st.lists(st.booleans(), min_size=c, max_size=c), min_size=n, max_size=n))))


@given(multihot)
def test_f1_and_exact_match_against_reference(ab):
    pred, targ = torch.tensor(ab[0]), torch.tensor(ab[1])
    micro, macro = f1_scores(pred, targ)
    tp, fp, fn = (pred & targ).sum().item(), (pred & ~targ).sum().item(), (~pred & targ).sum().item()
    assert micro == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.)
    if f1_score is not None:
        assert micro == pytest.approx(f1_score(targ.numpy(), pred.numpy(), average='micro', zero_division=1.0))
        assert macro == pytest.approx(f1_score(targ.numpy(), pred.numpy(), average='macro', zero_division=1.0))
    assert exact_match(pred, targ) == pytest.approx((pred == targ).all(1).float().mean().item())


def test_multilabel_metrics_and_best_threshold_by_hand():
    pred = torch.tensor([[1, 1, 0], [0, 1, 0], [0, 0, 0]]).bool()
    targ = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 1]]).bool()
    m = multilabel_metrics(pred, targ)
    assert m['exact'] == pytest.approx(1 / 3) and m['exact 2-digit'] == 1. and m['micro F1'] == pytest.approx(4 / 7)
    probs = torch.tensor([[.9, .6, .1], [.8, .3, .2]])
    assert best_threshold(probs, torch.tensor([[1., 1., 0.], [1., 0., 0.]]), [0.2, 0.5, 0.7]) == 0.5
    assert best_threshold(probs, torch.tensor([[1., 1., 0.], [1., 0., 0.]])) == 0.32
    assert threshold_rule(probs, 0.6).tolist() == [[True, True, False], [True, False, False]]


def test_multilabel_plan_draws_per_seed_and_experiment_runs():
    x, y = _toy_digits(20)
    plan = multilabel_plan((x, y), (x, y), [0, 1], n_per_class=10, n_train=(40, 20), n_cal=(20, 20), n_test=(30, 30))
    assert plan[0]['train'][0].shape == (60, 784) and plan[0]['test'][1].sum(-1).tolist().count(2.) == 30
    assert not torch.equal(plan[0]['train'][0], plan[1]['train'][0])
    for m in MULTILABEL_METHODS:
        r = multilabel_experiment(m, plan, 0.3, epochs=2, n_batches=3)[m]
        assert r['updates'] == [6, 6] and all(0 <= v <= 1 for v in r['mAP'] + r['exact'])


# --- the module's public names, and the boundary checks the lean rule keeps ------------

def test_star_import_brings_only_the_metrics():
    "`from course_lib.experiments import *` (and so course_lib.all) gives the metrics, not generic driver names."
    assert sorted(E.__all__) == ['auroc', 'average_precision', 'exact_match', 'f1_scores', 'mean_average_precision']
    ns = {}
    exec('from course_lib.experiments import *', ns)
    assert not {'predict', 'collect', 'reject', 'compare_all', 'resample', 'Ensemble'} & set(ns)


def test_set_metrics_refuse_scores_but_take_bools_and_integers():
    probs, targ = torch.tensor([[.9, .6, .1], [.8, .3, .2]]), torch.tensor([[1., 1., 0.], [1., 0., 0.]])
    for metric in (exact_match, f1_scores, multilabel_metrics):
        with pytest.raises(ValueError, match='not scores'): metric(probs, targ)
    pred = threshold_rule(probs, 0.5)
    assert exact_match(pred, targ) == exact_match(pred.long(), targ.bool()) == exact_match(pred.float(), targ) == 1.


def test_train_ensemble_refuses_a_loss_that_mixes_the_models():
    "A loss reduced over the models too would give every model the sum of the learning rates: refused before training."
    x, idx, t = torch.rand(20, 5), torch.stack([torch.arange(10), torch.arange(10, 20)]), torch.eye(3)[torch.zeros(2, 10).long()]
    with pytest.raises(ValueError, match='one loss per model'):
        train_ensemble(x, idx, t, lambda o, tt: soft_cross_entropy(o, tt).mean(), 0.1, [0, 1], epochs=1, n_batches=2)
    assert train_ensemble(x, idx, t, soft_cross_entropy, 0.1, [0, 1], epochs=1, n_batches=2).n_iter == 2


def test_per_class_subset_refuses_unpaired_x_and_y():
    with pytest.raises(ValueError, match='same length'): per_class_subset(torch.rand(9, 2), torch.arange(3).repeat(4), 2)


# --- experiment 3: none classes trained on several kinds of "none" ------------------------

def test_generated_images_are_deterministic_images_without_digits_kind_by_kind():
    for kind in E.GENERATED_KINDS:
        a, b = (E.generated_images(kind, 5, torch.Generator().manual_seed(0)) for _ in range(2))
        assert a.shape == (5, 784) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    lines, arcs = (E.generated_images(k, 200, torch.Generator().manual_seed(1)) for k in ('lines', 'arcs'))
    assert ((lines > 0.5).sum(1) > 10).all() and ((arcs > 0.5).sum(1) > 10).all()          # a visible stroke each
    assert not torch.allclose(lines.mean(0), arcs.mean(0), atol=0.02)                    # two different kinds


def test_split_classes_and_training_sets_with_several_none_digits():
    assert split_classes((6, 7, 8, 9)).tolist() == list(range(10))
    assert split_classes((0, 1, 2, 3)).tolist() == [6, 7, 8, 9, 0, 1, 2, 3, 4, 5]
    y = torch.arange(10).repeat(5)
    run = open_set_plan(y, None, [(0, 1, 2, 3)], [0], n_train=3)[0]
    for n_none in (1, 2, 3):
        idx, t = open_set_training_set('none_class', y, run, n_none)
        assert set(y[idx].tolist()) == set(range(4, 10)) | set(range(n_none)) and t.shape[1] == 7
        assert (t[y[idx] < 4].argmax(-1) == 6).all()                                    # every none digit is 'none'
    idx, t = open_set_training_set('max_prob', y, run, 3)
    assert set(y[idx].tolist()) == set(range(4, 10)) and t.shape[1] == 6


def test_none_kinds_experiment_trains_each_config_on_its_kinds_only(monkeypatch):
    "No training set holds the new digit or arcs; each none class holds exactly the none digits and kinds it names."
    x, y = _toy_digits(20)
    g = torch.Generator().manual_seed(0)
    pools = {k: E.generated_images(k, 30, g) for k in ('noise', 'lines')}
    generated = (pools, torch.cat([E.generated_images(k, 10, g) for k in E.GENERATED_KINDS]))
    configs = {'a': ('max_prob', 1, ()), 'b1': ('none_class', 1, ()), 'b3': ('none_class', 3, ()),
               'bv': ('none_class', 3, ('noise', 'lines'))}
    seen, real = [], E.train_ensemble
    def spy(x_, idx, targets, *args, **kw):
        seen.append((x_, idx.clone(), targets.clone()))
        return real(x_, idx, targets, *args, **kw)
    monkeypatch.setattr(E, 'train_ensemble', spy)
    plan = open_set_plan(y, y, [(6, 7, 8, 9), (0, 1, 2, 3)], [0], n_train=10)
    res = E.none_kinds_experiment((x, y, x, y), generated, plan, configs, {'max_prob': 0.3, 'none_class': 0.3},
                                  n_per_kind=20, epochs=1, n_batches=2, nh=8)
    assert list(res) == list(configs) and set(res['a']) == set(E.NONE_KINDS_METRICS)
    n = len(x)
    for (name, (method, n_none, kinds)), (x_all, idx, targets) in zip(configs.items(), seen):
        assert torch.equal(x_all[n:n + 30], pools['noise']) and torch.equal(x_all[n + 30:], pools['lines'])
        for r, i, t in zip(plan, idx, targets):
            digits, gen = i[i < n], i[i >= n] - n
            none_digits, new = r['split'][:-1], r['split'][-1]
            assert new not in y[digits].tolist()
            assert set(y[digits].tolist()) & set(r['split']) == (set(none_digits[:n_none]) if method == 'none_class' else set())
            assert len(gen) == 20 * len(kinds)
            assert set((gen // 30).tolist()) == {('noise', 'lines').index(k) for k in kinds}     # only the kinds named
            if len(gen): assert (t[i >= n].argmax(-1) == t.shape[-1] - 1).all()                 # generated images are 'none'


def test_experiment_3_answer_on_real_digits():
    "The answer 05c gives: none examples of varied kinds make the none class beat max prob on strokes it never saw."
    from course_lib.data import get_data
    x, y, xv, yv = get_data(source='sample')
    data = (*per_class_subset(x, y, 400), *per_class_subset(xv, yv, 100))
    g = torch.Generator().manual_seed(3)
    generated = ({k: E.generated_images(k, 600, g) for k in ('noise', 'lines')},
                 torch.cat([E.generated_images(k, 200, g) for k in E.GENERATED_KINDS]))
    configs = {'a': ('max_prob', 1, ()), 'b1': ('none_class', 1, ()), 'b3': ('none_class', 3, ()),
               'bv': ('none_class', 3, ('noise', 'lines'))}
    plan = open_set_plan(data[1], data[3], ((6, 7, 8, 9), (8, 9, 0, 1), (0, 1, 2, 3), (2, 3, 4, 5), (4, 5, 6, 7)), [0, 1])
    res = E.none_kinds_experiment(data, generated, plan, configs, {'max_prob': 0.3, 'none_class': 0.3},
                                  epochs=6, n_batches=25, nh=50)
    rows = {(r['a'], r['b'], r['metric']): r['verdict'] for r in compare_all(res, [
        ('bv', 'a', 'AUROC arcs'), ('bv', 'b3', 'AUROC arcs'), ('b1', 'a', 'AUROC arcs'), ('b1', 'a', 'AUROC new digit'),
        ('bv', 'a', 'AUROC new digit')])}
    assert rows['bv', 'a', 'AUROC arcs'] == rows['bv', 'b3', 'AUROC arcs'] == 'higher'   # noise and lines make the gain
    assert rows['b1', 'a', 'AUROC arcs'] != 'higher' and rows['b1', 'a', 'AUROC new digit'] != 'higher'   # one digit: no gain
    assert rows['bv', 'a', 'AUROC new digit'] != 'lower'
