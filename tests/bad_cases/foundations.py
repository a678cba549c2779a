"Bad input for course_lib.foundations: the statistics, softmax and binary cross-entropy."
import torch
from bad_cases import Bad
from course_lib.foundations import *

E = torch.tensor([])
CASES = [
    Bad('fo-variance-empty', lambda: variance(E), ValueError, ('x', 'empty')),
    Bad('fo-variance-str', lambda: variance('abc'), TypeError, ('x', 'str')),
    Bad('fo-variance-none', lambda: variance(None), TypeError, ('x', 'NoneType')),
    Bad('fo-variance-ragged', lambda: variance([[1., 2.], [3.]]), TypeError, ('x', 'list')),
    Bad('fo-variance-complex', lambda: variance(torch.tensor([1 + 1j, 2j])), TypeError, ('x', 'complex')),
    Bad('fo-variance-correction-n', lambda: variance([1., 2.], correction=2), ValueError, ('correction', '2')),
    Bad('fo-variance-correction-negative', lambda: variance([1., 2.], correction=-1), ValueError, ('correction', '-1')),
    Bad('fo-variance-correction-float', lambda: variance([1., 2.], correction=0.5), TypeError, ('correction', '0.5')),
    Bad('fo-variance-dim-range', lambda: variance(torch.ones(2, 3), dim=2), ValueError, ('dim', '2')),
    Bad('fo-variance-dim-negative', lambda: variance(torch.ones(2, 3), dim=-3), ValueError, ('dim', '-3')),
    Bad('fo-variance-dim-tuple', lambda: variance(torch.ones(2, 3), dim=(0, 1)), TypeError, ('dim', 'tuple')),
    Bad('fo-variance-dim-one-row', lambda: variance(torch.ones(1, 3), dim=0, correction=1), ValueError, ('correction', '1')),
    Bad('fo-std-empty', lambda: std(E), ValueError, ('x', 'empty')),
    Bad('fo-std-single', lambda: std([1.], correction=1), ValueError, ('correction', '1')),
    Bad('fo-mad-empty', lambda: mean_abs_dev([]), ValueError, ('x', 'empty')),
    Bad('fo-mad-dim', lambda: mean_abs_dev(torch.ones(3), dim=1), ValueError, ('dim', '1')),
    Bad('fo-mad-dim-str', lambda: mean_abs_dev(torch.ones(3), dim='rows'), TypeError, ('dim', "'rows'")),
    Bad('fo-cov-shapes', lambda: covariance(torch.ones(3), torch.ones(4)), ValueError, ('x', 'y', '(3,)', '(4,)')),
    Bad('fo-cov-empty', lambda: covariance(E, E), ValueError, ('x', 'empty')),
    Bad('fo-cov-correction', lambda: covariance(torch.ones(3), torch.ones(3), correction=3), ValueError, ('correction', '3')),
    Bad('fo-cov-y-str', lambda: covariance(torch.ones(3), 'abc'), TypeError, ('y', 'str')),
    Bad('fo-corr-constant', lambda: correlation(torch.ones(5), torch.arange(5.)), ValueError, ('x', 'constant')),
    Bad('fo-corr-shapes', lambda: correlation(torch.ones(3), torch.ones(4)), ValueError, ('x', 'y', '(3,)')),
    Bad('fo-corr-complex', lambda: correlation([1., 2.], torch.tensor([1 + 1j, 2j])), TypeError, ('y', 'complex')),
    Bad('fo-softmax-0d', lambda: softmax(torch.tensor(3.)), ValueError, ('x', '0-d')),
    Bad('fo-softmax-empty', lambda: softmax(E), ValueError, ('x', 'empty')),
    Bad('fo-softmax-dim', lambda: softmax(torch.ones(2, 3), dim=2), ValueError, ('dim', '2')),
    Bad('fo-softmax-dim-none', lambda: softmax(torch.ones(2, 3), dim=None), TypeError, ('dim', 'None')),
    Bad('fo-softmax-str', lambda: softmax('x'), TypeError, ('x', 'str')),
    Bad('fo-bce-shapes', lambda: binary_cross_entropy(torch.ones(2, 3), torch.ones(3, 2)), ValueError, ('logits', 'targets', '(2, 3)')),
    Bad('fo-bce-empty', lambda: binary_cross_entropy(E, E), ValueError, ('logits', 'empty')),
    Bad('fo-bce-target-above', lambda: binary_cross_entropy(torch.zeros(3), [0., 2., 1.]), ValueError, ('targets', '2.0')),
    Bad('fo-bce-target-nan', lambda: binary_cross_entropy(torch.zeros(2), [float('nan'), 1.]), ValueError, ('targets', 'NaN')),
    Bad('fo-bce-target-negative', lambda: binary_cross_entropy(torch.zeros(2), [-0.5, 1.]), ValueError, ('targets', '-0.5')),
    Bad('fo-bce-logits-none', lambda: binary_cross_entropy(None, torch.zeros(2)), TypeError, ('logits', 'NoneType')),
]
