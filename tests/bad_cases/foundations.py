"Bad input for course_lib.foundations: pairs whose shapes differ, and targets outside [0, 1]."
import torch
from bad_cases import Bad
from course_lib.foundations import *

CASES = [
    Bad('fo-cov-shapes', lambda: covariance(torch.ones(3), torch.ones(4)), ValueError, ('x', 'y', '(3,)', '(4,)')),
    Bad('fo-cov-same-size-other-shape', lambda: covariance(torch.ones(2, 3), torch.ones(3, 2)), ValueError, ('(2, 3)', '(3, 2)')),
    Bad('fo-corr-shapes', lambda: correlation(torch.ones(3), torch.ones(4)), ValueError, ('x', 'y', '(3,)')),
    Bad('fo-corr-column-vs-row', lambda: correlation(torch.ones(3, 1), torch.ones(1, 3)), ValueError, ('(3, 1)', '(1, 3)')),
    Bad('fo-bce-shapes', lambda: binary_cross_entropy(torch.ones(2, 3), torch.ones(3, 2)), ValueError, ('logits', 'targets', '(2, 3)')),
    Bad('fo-bce-broadcastable', lambda: binary_cross_entropy(torch.ones(4, 1), torch.ones(4)), ValueError, ('logits', 'targets', '(4, 1)')),
    Bad('fo-bce-target-above', lambda: binary_cross_entropy(torch.zeros(3), [0., 2., 1.]), ValueError, ('targets', '2.0')),
    Bad('fo-bce-class-indices', lambda: binary_cross_entropy(torch.zeros(4), [0., 3., 7., 9.]), ValueError, ('targets', '[0, 1]', '9.0')),
    Bad('fo-bce-target-nan', lambda: binary_cross_entropy(torch.zeros(2), [float('nan'), 1.]), ValueError, ('targets', 'nan')),
    Bad('fo-bce-target-negative', lambda: binary_cross_entropy(torch.zeros(2), [-0.5, 1.]), ValueError, ('targets', '-0.5')),
]
