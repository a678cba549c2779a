"Bad inputs to the 02_initializing functions: each names the argument and what was passed."
import math
import torch
from bad_cases import Bad
from course_lib.init import (normalize, lin, mse, mse_grad, Lin, Relu, Model, kaiming_normal, relu_moments,
                             sample_relu_moments)

x, w, b = torch.zeros(5, 3), torch.zeros(3, 2), torch.zeros(2)
CASES = [
    Bad('normalize-zero-scale', lambda: normalize(x, 0., 0.), ValueError, ('s must be non-zero', '0.0')),
    Bad('lin-x-list', lambda: lin([[1., 2., 3.]], w, b), TypeError, ('lin: x', 'list')),
    Bad('lin-w-list', lambda: lin(x, [[1.]], b), TypeError, ('lin: w', 'list')),
    Bad('lin-b-none', lambda: lin(x, w, None), TypeError, ('lin: b', 'None')),
    Bad('lin-w-transposed', lambda: lin(x, w.T, b), ValueError, ('w (2, 3)', 'b (2,)')),
    Bad('lin-x-mismatch', lambda: lin(torch.zeros(5, 4), w, b), ValueError, ('x (5, 4)', 'w (3, 2)')),
    Bad('lin-x-1d', lambda: lin(torch.zeros(3), w, b), ValueError, ('x (3,)',)),
    Bad('Lin-b-2d', lambda: Lin(w, torch.zeros(1, 2)), ValueError, ('Lin:', 'b (1, 2)')),
    Bad('mse-broadcast', lambda: mse(torch.zeros(4, 4), torch.zeros(4)), ValueError, ('output (4, 4)', 'targ (4,)')),
    Bad('mse-length', lambda: mse(torch.zeros(4), torch.zeros(5)), ValueError, ('output (4,)', 'targ (5,)')),
    Bad('mse-empty', lambda: mse(torch.zeros(0, 1), torch.zeros(0)), ValueError, ('output and targ are empty',)),
    Bad('mse-targ-list', lambda: mse(torch.zeros(2), [1., 2.]), TypeError, ('mse: targ', 'list')),
    Bad('mse_grad-broadcast', lambda: mse_grad(torch.zeros(3, 2), torch.zeros(3)), ValueError, ('output (3, 2)',)),
    Bad('Model-shapes', lambda: Model(torch.zeros(3, 4), torch.zeros(5), torch.zeros(4, 1), torch.zeros(1)), ValueError, ('w (3, 4)', 'b (5,)')),
    Bad('kaiming-shape-int', lambda: kaiming_normal(5), TypeError, ('shape must', 'int 5')),
    Bad('kaiming-shape-empty', lambda: kaiming_normal(()), ValueError, ('shape must',)),
    Bad('kaiming-shape-zero', lambda: kaiming_normal((0, 5)), ValueError, ('shape[0]', '0')),
    Bad('kaiming-shape-float', lambda: kaiming_normal((3.0, 5)), TypeError, ('shape[0]', '3.0')),
    Bad('kaiming-fan-in', lambda: kaiming_normal((3, 5), fan_in=-2), ValueError, ('fan_in', '-2')),
    Bad('kaiming-a-nan', lambda: kaiming_normal((3, 5), a=math.nan), ValueError, ('a must', 'nan')),
    Bad('kaiming-a-str', lambda: kaiming_normal((3, 5), a='1'), TypeError, ('a must', "'1'")),
    Bad('relu_moments-n_in', lambda: relu_moments(0), ValueError, ('n_in', '0')),
    Bad('relu_moments-n_in-float', lambda: relu_moments(2.5), TypeError, ('n_in', '2.5')),
    Bad('relu_moments-std', lambda: relu_moments(4, std=-1.), ValueError, ('std', '-1.0')),
    Bad('sample-n_samples', lambda: sample_relu_moments(4, n_samples=1), ValueError, ('n_samples', '1')),
    Bad('sample-n_in-huge', lambda: sample_relu_moments(10**12, n_samples=2), ValueError, ('n_in', str(10**12))),
]
