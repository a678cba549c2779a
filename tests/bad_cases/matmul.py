"Bad inputs to the hand-written matrix products whose loops would otherwise give a wrong answer without an error."
import torch
from bad_cases import Bad
from course_lib.matmul import matmul_loops, matmul_elementwise, matmul_broadcast

A, B = torch.ones(2, 3), torch.ones(3, 4)
CASES = []
for f in (matmul_loops, matmul_elementwise, matmul_broadcast):
    n = f.__name__
    CASES += [
        Bad(f'{n}-dtypes', lambda f=f: f(A.long(), B), ValueError, ('torch.int64', 'torch.float32')),
        Bad(f'{n}-inner', lambda f=f: f(A, torch.ones(4, 3)), ValueError, ('a (2, 3)', 'b (4, 3)')),
        Bad(f'{n}-inner-shorter', lambda f=f: f(torch.ones(2, 2), B), ValueError, ('a (2, 2)', 'b (3, 4)')),
        Bad(f'{n}-inner-one', lambda f=f: f(torch.ones(2, 1), B), ValueError, ('a (2, 1)', 'b (3, 4)')),
        Bad(f'{n}-1d', lambda f=f: f(torch.ones(3), B), ValueError, ('a (3,)',)),
        Bad(f'{n}-3d', lambda f=f: f(A, torch.ones(1, 3, 4)), ValueError, ('b (1, 3, 4)',)),
    ]
