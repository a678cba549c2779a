"Bad inputs to the 03_minibatch functions and classes: each names the argument and what was passed."
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.minibatch import (mlp, logsumexp, log_softmax, nll, cross_entropy, accuracy, DummyModule, Optimizer,
                                  Dataset, Sampler, collate, DataLoader, fit, get_dls, get_mlp_opt)

out, yb = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
ds = Dataset(torch.zeros(10, 2), torch.zeros(10, dtype=torch.long))
big = Dataset(torch.zeros(20, 2), torch.zeros(20, dtype=torch.long))
batch = [(torch.zeros(2, 2), torch.tensor([0, 1]))]
model, opt = get_mlp_opt(2, 3, 2)
w = torch.zeros(3, requires_grad=True)

CASES = [
    Bad('mlp-nh-zero', lambda: mlp(784, 0, 10), ValueError, ('nh', '0')),
    Bad('mlp-n_in-float', lambda: mlp(78.4), TypeError, ('n_in', '78.4')),
    Bad('DummyModule-n_out', lambda: DummyModule(4, 3, -1), ValueError, ('n_out', '-1')),
    Bad('get_mlp_opt-lr', lambda: get_mlp_opt(lr=-1.), ValueError, ('lr', '-1.0')),
    Bad('logsumexp-list', lambda: logsumexp([1., 2.]), TypeError, ('logsumexp: x', 'list')),
    Bad('logsumexp-int', lambda: logsumexp(torch.tensor([1, 2])), TypeError, ('logsumexp: x', 'torch.int64')),
    Bad('log_softmax-scalar', lambda: log_softmax(torch.tensor(1.)), ValueError, ('log_softmax: x', '()')),
    Bad('log_softmax-no-classes', lambda: log_softmax(torch.zeros(3, 0)), ValueError, ('log_softmax: x', '(3, 0)')),
    Bad('nll-column-target', lambda: nll(out, yb[:, None]), ValueError, ('target must be 1-D', '(4, 1)')),
    Bad('nll-one-hot', lambda: nll(out.log_softmax(1), F.one_hot(yb, 3)), ValueError, ('target', 'one-hot')),
    Bad('nll-range', lambda: nll(out, yb + 1), ValueError, ('target out of range', 'max 3')),
    Bad('nll-float-target', lambda: nll(out, yb.float()), TypeError, ('target', 'torch.float32')),
    Bad('nll-1d-input', lambda: nll(out[:, 0], yb), ValueError, ('input', '(4,)')),
    Bad('nll-empty', lambda: nll(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)), ValueError, ('empty batch', '(0, 3)')),
    Bad('cross_entropy-list', lambda: cross_entropy([[1., 2.]], torch.tensor([0])), TypeError, ('cross_entropy: input', 'list')),
    Bad('cross_entropy-length', lambda: cross_entropy(out, yb[:3]), ValueError, ('target', '(3,)')),
    Bad('accuracy-column', lambda: accuracy(out, yb[:, None]), ValueError, ('yb must be 1-D', '(4, 1)')),
    Bad('accuracy-1d-out', lambda: accuracy(out[:, 0], yb), ValueError, ('out', '(4,)')),
    Bad('accuracy-one-hot-square', lambda: accuracy(torch.randn(3, 3), torch.eye(3, dtype=torch.long)), ValueError, ('yb', 'one-hot')),
    Bad('accuracy-empty', lambda: accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)), ValueError, ('out and yb', 'empty')),
    Bad('accuracy-yb-list', lambda: accuracy(out, [0, 1, 2, 0]), TypeError, ('accuracy: yb', 'list')),
    Bad('Optimizer-negative-lr', lambda: Optimizer([w], -0.1), ValueError, ('lr', '-0.1')),
    Bad('Optimizer-nan-lr', lambda: Optimizer([w], float('nan')), ValueError, ('lr', 'nan')),
    Bad('Optimizer-str-lr', lambda: Optimizer([w], '0.1'), TypeError, ('lr', "'0.1'")),
    Bad('Optimizer-single-tensor', lambda: Optimizer(w), TypeError, ('params', 'single tensor', '[t]')),
    Bad('Optimizer-not-iterable', lambda: Optimizer(3), TypeError, ('params', 'int 3')),
    Bad('Optimizer-empty', lambda: Optimizer([]), ValueError, ('params is empty',)),
    Bad('Optimizer-not-tensors', lambda: Optimizer([w, 'b']), TypeError, ('params[1]', "'b'")),
    Bad('Dataset-lengths', lambda: Dataset(torch.zeros(5, 2), torch.zeros(4)), ValueError, ('x and y', '5 and 4')),
    Bad('Dataset-ragged-list', lambda: Dataset(torch.zeros(2, 2), [[1, 2], [3]]), ValueError, ('y: could not turn',)),
    Bad('Dataset-int', lambda: Dataset(5, torch.zeros(5)), TypeError, ('x must', 'int 5')),
    Bad('Sampler-bs-zero', lambda: Sampler(ds, 0), ValueError, ('bs', '0')),
    Bad('Sampler-bs-float', lambda: Sampler(ds, 6.4), TypeError, ('bs', '6.4')),
    Bad('Sampler-ds-int', lambda: Sampler(4000, 64), TypeError, ('ds must', 'int 4000')),
    Bad('Sampler-shuffle-str', lambda: Sampler(ds, 4, shuffle='yes'), TypeError, ('shuffle', "'yes'")),
    Bad('Sampler-generator-int', lambda: Sampler(ds, 4, generator=0), TypeError, ('generator', 'int 0')),
    Bad('collate-empty', lambda: collate([]), ValueError, ('collate: batch is empty',)),
    Bad('collate-ragged', lambda: collate([(torch.zeros(3), 0), (torch.zeros(4), 1)]), ValueError, ('x have different shapes', '(3,)', '(4,)')),
    Bad('collate-not-pairs', lambda: collate([torch.zeros(3)]), ValueError, ('batch[0]', 'pair')),
    Bad('DataLoader-int-sampler', lambda: DataLoader(ds, 4), TypeError, ('sampler', 'Sampler(ds, bs)', 'int 4')),
    Bad('DataLoader-bigger-sampler', lambda: DataLoader(ds, Sampler(big, 4)), ValueError, ('sampler', '20 samples', 'ds has 10')),
    Bad('DataLoader-collate-none', lambda: DataLoader(ds, Sampler(ds, 4), collate_fn=None), TypeError, ('collate_fn', 'None')),
    Bad('get_dls-bs', lambda: get_dls(ds, ds, 0), ValueError, ('bs', '0')),
    Bad('fit-negative-epochs', lambda: fit(-1, model, F.cross_entropy, opt, batch, batch), ValueError, ('epochs', '-1')),
    Bad('fit-float-epochs', lambda: fit(1.5, model, F.cross_entropy, opt, batch, batch), TypeError, ('epochs', '1.5')),
    Bad('fit-loss-not-callable', lambda: fit(1, model, 'ce', opt, batch, batch), TypeError, ('loss_func', "'ce'")),
    Bad('fit-opt-wrong', lambda: fit(1, model, F.cross_entropy, 0.5, batch, batch), TypeError, ('opt.step',)),
    Bad('fit-empty-valid', lambda: fit(1, model, F.cross_entropy, opt, batch, [], verbose=False), ValueError, ('valid_dl',)),
]
