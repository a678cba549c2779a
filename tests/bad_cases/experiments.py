"""Bad inputs to course_lib.experiments that would otherwise give a silently wrong answer, hang, or fail far from
their cause: each is refused once, where the user calls in. Wrong shapes that the next torch call reports are not here."""
from bad_cases import Bad
import torch
from course_lib.experiments import *
from course_lib.experiments import (t_quantile, paired_compare, summary_table, compare_all, doubled_targets, bar_targets,
                                    multilabel_recipe, EnsembleLoader, train_ensemble, soft_cross_entropy, split_classes,
                                    per_class_subset, resample, open_set_plan, open_set_recipe, open_set_training_set,
                                    make_multilabel, generated_images)

nan = float('nan')
x4, y4 = torch.rand(40, 784), torch.arange(10).repeat(4)
res2 = {'A': {'m': [1., 2., 3.]}, 'B': {'m': [1., 2., 2.5]}}
plan1 = open_set_plan(y4, None, [(8, 9)], [0], n_train=2)
idx2 = torch.stack([torch.arange(10), torch.arange(10, 20)])
t2 = torch.zeros(2, 10, 3)
sets = torch.tensor([[1., 1., 0.], [1., 0., 0.]])
probs = torch.tensor([[.9, .6, .1], [.8, .3, .2]])

CASES = [
    # metrics: labels and sets given as scores would be read silently as other labels and sets
    Bad('auroc-labels-2', lambda: auroc([1., 2., 3.], [0, 1, 2]), ValueError, ('labels', '0/1')),
    Bad('auroc-soft-labels', lambda: auroc([1., 2., 3.], [0., 0.5, 1.]), ValueError, ('labels', '0/1')),
    Bad('auroc-one-class', lambda: auroc([1., 2.], [1, 1]), ValueError, ('labels', 'positives and negatives')),
    Bad('ap-no-positive', lambda: average_precision([1., 2.], [0, 0]), ValueError, ('labels', 'positives and negatives')),
    Bad('map-soft-target', lambda: mean_average_precision(torch.zeros(2, 2), torch.tensor([[0.5, 1.], [0., 0.]])),
        ValueError, ('labels', '0/1')),
    Bad('exact-probs', lambda: exact_match(probs, sets), ValueError, ('pred', 'not scores', '0.9')),
    Bad('f1-probs', lambda: f1_scores(probs, sets), ValueError, ('pred', 'not scores')),
    Bad('f1-soft-target', lambda: f1_scores(sets, torch.full((2, 3), 0.5)), ValueError, ('target', 'not scores')),
    Bad('exact-shape', lambda: exact_match(torch.zeros(1, 3), torch.zeros(3, 3)), ValueError, ('pred', 'target', 'shape')),
    # comparisons over runs: unpaired or failed runs, and a quantile search that would never end
    Bad('t-q-1.5', lambda: t_quantile(1.5, 3), ValueError, ('q', '1.5')),
    Bad('paired-len', lambda: paired_compare([1., 2.], [1., 2., 3.]), ValueError, ('a and b', '2', '3')),
    Bad('paired-one-run', lambda: paired_compare([1.], [2.]), ValueError, ('a and b', '2 or more')),
    Bad('paired-nan', lambda: paired_compare([1., nan], [1., 2.]), ValueError, ('a and b', 'NaN')),
    Bad('compare-nan', lambda: compare_all({'A': {'m': [1., nan]}, 'B': {'m': [1., 2.]}}, [('A', 'B', 'm')]),
        ValueError, ('NaN',)),
    Bad('summary-digits-neg', lambda: summary_table(res2, digits=-1), ValueError, ('digits', '-1')),
    Bad('summary-digits-float', lambda: summary_table(res2, digits=2.5), TypeError, ('digits', '2.5')),
    Bad('summary-digits-text', lambda: summary_table(res2, digits='3'), TypeError, ('digits', "'3'")),
    # targets: a soft target where a multi-hot one is meant
    Bad('doubled-targets-soft', lambda: doubled_targets(torch.tensor([[0.5, 0.5]])), ValueError, ('t', 'multi-hot')),
    Bad('bar-targets-soft', lambda: bar_targets(torch.tensor([[0.2, 0.8]])), ValueError, ('t', 'multi-hot')),
    Bad('sigmoid-targets-soft', lambda: multilabel_recipe('sigmoid')[0](torch.tensor([[0.2, 0.8]])), ValueError, ('t',)),
    # the ensemble harness: mistakes that would train the wrong models without a word
    Bad('loader-batches-0', lambda: EnsembleLoader(x4, idx2, t2, 0), ValueError, ('n_batches', '0')),
    Bad('loader-batches-many', lambda: EnsembleLoader(x4, idx2, t2, 11), ValueError, ('n_batches', '11', '1..10')),
    Bad('loader-targets-shape', lambda: EnsembleLoader(x4, idx2, torch.zeros(2, 9, 3), 2), ValueError,
        ('targets', '(2, 9, 3)', '(2, 10)')),
    Bad('loader-idx-1d', lambda: EnsembleLoader(x4, torch.arange(10), t2, 2), ValueError, ('idx', '(10,)')),
    Bad('loader-seeds-count', lambda: EnsembleLoader(x4, idx2, t2, 2, seeds=[1]), ValueError, ('seeds', '1 seeds')),
    Bad('train-seeds-count', lambda: train_ensemble(x4, idx2, t2, soft_cross_entropy, 0.1, [0, 1, 2], n_batches=2),
        ValueError, ('seeds', '3 seeds')),
    Bad('train-lr-neg', lambda: train_ensemble(x4, idx2, t2, soft_cross_entropy, -0.1, [0, 1]), ValueError, ('lrs', '-0.1')),
    Bad('train-lr-nan', lambda: train_ensemble(x4, idx2, t2, soft_cross_entropy, nan, [0, 1]), ValueError, ('lrs', 'nan')),
    Bad('train-lrs-count', lambda: train_ensemble(x4, idx2, t2, soft_cross_entropy, [0.1, 0.2, 0.3], [0, 1]), ValueError,
        ('lrs', 'one positive rate or 2')),
    Bad('train-batches-0', lambda: train_ensemble(x4, idx2, t2, soft_cross_entropy, 0.1, [0, 1], n_batches=0), ValueError,
        ('n_batches', '0')),
    Bad('train-loss-scalar', lambda: train_ensemble(x4, idx2, t2, lambda o, t: ((o - t) ** 2).mean(), 0.1, [0, 1], n_batches=2),
        ValueError, ('loss_func', 'one loss per model', '(2,)', '()')),
    Bad('train-loss-torch-ce', lambda: train_ensemble(x4, idx2, t2, torch.nn.functional.cross_entropy, 0.1, [0, 1], n_batches=2),
        ValueError, ('loss_func', 'one loss per model')),
    # experiments 1 and 3: splits, samples and training sets
    Bad('split-same', lambda: split_classes((3, 3)), ValueError, ('split', '(3, 3)')),
    Bad('subset-neg', lambda: per_class_subset(x4, y4, -1), ValueError, ('n_per_class', '-1')),
    Bad('subset-too-many', lambda: per_class_subset(x4, y4, 5), ValueError, ('n_per_class', '0..4', '5')),
    Bad('subset-len', lambda: per_class_subset(x4[:30], y4, 2), ValueError, ('x', 'y', '30', '40')),
    Bad('resample-n-float', lambda: resample(y4, 1.5), ValueError, ('n_per_class', '1.5')),
    Bad('plan-too-many', lambda: open_set_plan(y4, None, [(8, 9)], [0], n_train=9), ValueError, ('n_per_class', '9')),
    Bad('recipe-method', lambda: open_set_recipe('nope'), ValueError, ('method', "'nope'")),
    Bad('training-set-method', lambda: open_set_training_set('softmax', y4, plan1[0]), ValueError, ('method', "'softmax'")),
    Bad('training-set-n-none', lambda: open_set_training_set('none_class', y4, plan1[0], n_none=2), ValueError,
        ('n_none', '1..1', '2')),
    Bad('training-set-n-none-0', lambda: open_set_training_set('none_class', y4, plan1[0], n_none=0), ValueError, ('n_none', '0')),
    Bad('generated-kind', lambda: generated_images('letters', 3), ValueError, ('kind', "'letters'")),
    # experiment 2: two-digit images
    Bad('ml-len', lambda: make_multilabel(x4, y4[:-1], 3, 0), ValueError, ('x', 'y', '40', '39')),
    Bad('ml-one-class', lambda: make_multilabel(x4[:5], torch.zeros(5, dtype=torch.long), 3, 0), ValueError,
        ('n_pairs=3', 'two classes')),
]
