"Bad inputs to the four hand-written matrix products: each names the argument and what was passed."
import numpy as np
import torch
from bad_cases import Bad
from course_lib.matmul import matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum

A, B = torch.ones(2, 3), torch.ones(3, 4)
CASES = []
for f in (matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum):
    n = f.__name__
    CASES += [
        Bad(f'{n}-a-list', lambda f=f: f([[1., 2., 3.]], B), TypeError, ('a must', 'list')),
        Bad(f'{n}-b-numpy', lambda f=f: f(A, np.ones((3, 4))), TypeError, ('b must', 'ndarray')),
        Bad(f'{n}-b-none', lambda f=f: f(A, None), TypeError, ('b must', 'None')),
        Bad(f'{n}-dtypes', lambda f=f: f(A, B.double()), TypeError, ('a torch.float32', 'b torch.float64')),
        Bad(f'{n}-bool', lambda f=f: f(A.bool(), B.bool()), TypeError, ('a torch.bool', 'non-bool')),
        Bad(f'{n}-inner', lambda f=f: f(A, torch.ones(4, 3)), ValueError, ('a of shape (2, 3)', 'b of shape (4, 3)')),
        Bad(f'{n}-1d', lambda f=f: f(torch.ones(3), B), ValueError, ('a of shape (3,)',)),
        Bad(f'{n}-3d', lambda f=f: f(A, torch.ones(1, 3, 4)), ValueError, ('b of shape (1, 3, 4)',)),
    ]
