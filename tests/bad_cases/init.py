"Bad inputs to the 02_initializing functions that would otherwise give a wrong answer without an error."
import torch
from bad_cases import Bad
from course_lib.init import normalize, mse, mse_grad, relu_grad, relu_moments, sample_relu_moments

x = torch.zeros(5, 3)
def out_with_grad(shape):
    "An output whose gradient `.g` has `shape`."
    out = torch.zeros(4, 3); out.g = torch.ones(shape); return out

CASES = [
    Bad('normalize-zero-scale', lambda: normalize(x, 0., 0.), ValueError, ('s must be non-zero', '0.0')),
    Bad('mse-broadcast', lambda: mse(torch.zeros(4, 4), torch.zeros(4)), ValueError, ('output (4, 4)', 'targ (4,)')),
    Bad('mse-column-vs-row', lambda: mse(torch.zeros(4), torch.zeros(4, 1)), ValueError, ('output (4,)', 'targ (4, 1)')),
    Bad('mse-length', lambda: mse(torch.zeros(4), torch.zeros(5)), ValueError, ('output (4,)', 'targ (5,)')),
    Bad('mse_grad-broadcast', lambda: mse_grad(torch.zeros(3, 2), torch.zeros(3)), ValueError, ('output (3, 2)',)),
    Bad('relu_grad-column-grad', lambda: relu_grad(torch.randn(4, 3), out_with_grad((4, 1))), ValueError, ('out.g', '(4, 1)', '(4, 3)')),
    Bad('relu_grad-row-grad', lambda: relu_grad(torch.randn(4, 3), out_with_grad((3,))), ValueError, ('out.g', '(3,)', '(4, 3)')),
    Bad('relu_moments-n_in', lambda: relu_moments(0), ValueError, ('n_in', '0')),
    Bad('relu_moments-n_in-float', lambda: relu_moments(2.5), TypeError, ('n_in', '2.5')),
    Bad('relu_moments-std', lambda: relu_moments(4, std=-1.), ValueError, ('std', '-1.0')),
    Bad('sample-n_samples', lambda: sample_relu_moments(4, n_samples=1), ValueError, ('n_samples', '1')),
    Bad('sample-n_in-huge', lambda: sample_relu_moments(10**12, n_samples=2), ValueError, ('n_in', str(10**12))),
    Bad('sample-n_samples-huge', lambda: sample_relu_moments(4, n_samples=10**12), ValueError, ('n_samples', str(10**12))),
]
