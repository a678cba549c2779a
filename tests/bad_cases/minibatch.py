"Bad inputs to the 03_minibatch functions and classes that would otherwise be silent, or fail far from their cause."
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.minibatch import nll, cross_entropy, accuracy, Optimizer, Dataset, Sampler, DataLoader, fit, get_dls, get_mlp_opt

out, yb = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
ds = Dataset(torch.zeros(10, 2), torch.zeros(10, dtype=torch.long))
big = Dataset(torch.zeros(20, 2), torch.zeros(20, dtype=torch.long))
batch = [(torch.zeros(2, 2), torch.tensor([0, 1]))]
model, opt = get_mlp_opt(2, 3, 2)
w = torch.zeros(3, requires_grad=True)

CASES = [
    Bad('get_mlp_opt-lr', lambda: get_mlp_opt(lr=-1.), ValueError, ('lr', '-1.0')),
    Bad('nll-column-target', lambda: nll(out, yb[:, None]), ValueError, ('target must hold one integer', '(4, 1)')),
    Bad('nll-one-hot', lambda: nll(out.log_softmax(1), F.one_hot(yb, 3)), ValueError, ('target', '(4, 3)')),
    Bad('nll-negative', lambda: nll(out, yb - 1), ValueError, ('target holds -1', 'classes start at 0')),
    Bad('nll-float-target', lambda: nll(out, yb.float()), ValueError, ('target', 'torch.float32')),
    Bad('nll-1d-input', lambda: nll(out[:, 0], yb), ValueError, ('input (4,)',)),
    Bad('cross_entropy-length', lambda: cross_entropy(out, yb[:3]), ValueError, ('target', '(3,)')),
    Bad('accuracy-column', lambda: accuracy(out, yb[:, None]), ValueError, ('yb must hold one integer', '(4, 1)')),
    Bad('accuracy-1d-out', lambda: accuracy(out[:, 0], yb), ValueError, ('out (4,)',)),
    Bad('accuracy-one-hot-square', lambda: accuracy(torch.randn(3, 3), torch.eye(3, dtype=torch.long)), ValueError, ('yb', '(3, 3)')),
    Bad('Optimizer-negative-lr', lambda: Optimizer([w], -0.1), ValueError, ('lr', '-0.1')),
    Bad('Optimizer-nan-lr', lambda: Optimizer([w], float('nan')), ValueError, ('lr', 'nan')),
    Bad('Optimizer-str-lr', lambda: Optimizer([w], '0.1'), TypeError, ('lr', "'0.1'")),
    Bad('Optimizer-empty', lambda: Optimizer([]), ValueError, ('params is empty',)),
    Bad('Dataset-lengths', lambda: Dataset(torch.zeros(5, 2), torch.zeros(4)), ValueError, ('x and y', '5 and 4')),
    Bad('Sampler-bs-zero', lambda: Sampler(ds, 0), ValueError, ('bs', '0')),
    Bad('Sampler-bs-float', lambda: Sampler(ds, 6.4), TypeError, ('bs', '6.4')),
    Bad('DataLoader-int-sampler', lambda: next(iter(DataLoader(ds, 4))), TypeError, ("'int' object is not iterable",)),
    Bad('DataLoader-bigger-sampler', lambda: DataLoader(ds, Sampler(big, 4)), ValueError, ('sampler', '20 samples', 'ds has 10')),
    Bad('get_dls-bs', lambda: get_dls(ds, ds, 0), ValueError, ('bs', '0')),
    Bad('fit-negative-epochs', lambda: fit(-1, model, F.cross_entropy, opt, batch, batch), ValueError, ('epochs', '-1')),
    Bad('fit-float-epochs', lambda: fit(1.5, model, F.cross_entropy, opt, batch, batch), TypeError, ('epochs', '1.5')),
    Bad('fit-empty-valid', lambda: fit(1, model, F.cross_entropy, opt, batch, [], verbose=False), ValueError, ('valid_dl',)),
]
