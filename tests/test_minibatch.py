"Tests for course_lib.minibatch: losses, DummyModule, Optimizer, the data pipeline and fit."
import copy, math
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from hypothesis import given, settings, strategies as st

from course_lib.minibatch import (logsumexp, log_softmax, nll, cross_entropy, accuracy, DummyModule, Optimizer,
                                  Dataset, Sampler, collate, DataLoader, fit, get_dls, get_mlp_opt, mlp)

# ---------------------------------------------------------------- losses

def logits(rows, cols, scale, seed, n_extreme=0):
    "Random logits of magnitude `scale`, with `n_extreme` entries set to +-1e4."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, cols, generator=g) * scale
    if n_extreme:
        flat = x.view(-1)
        pos = torch.randint(0, flat.numel(), (n_extreme,), generator=g)
        flat[pos] = torch.where(torch.rand(n_extreme, generator=g) < 0.5, -1e4, 1e4)
    return x

def near(a, b):
    "Same shape and equal within rtol 1e-3, atol 1e-5 (float32 rounding at unit scale)."
    return a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-3, atol=1e-5)

def close(a, b, scale):
    "Equal up to float32 rounding at the magnitude `scale` of the inputs."
    return torch.allclose(a, b, rtol=1e-5, atol=1e-5 * max(1., scale))

logit_args = dict(rows=st.integers(1, 8), cols=st.integers(1, 12), scale=st.sampled_from([1., 30., 1e3, 1e4]),
                  seed=st.integers(0, 2**31), n_extreme=st.integers(0, 6))

@given(**logit_args)
def test_logsumexp_and_log_softmax_match_torch(rows, cols, scale, seed, n_extreme):
    x = logits(rows, cols, scale, seed, n_extreme)
    assert close(logsumexp(x), torch.logsumexp(x, -1), 4 * scale)
    ls = log_softmax(x)
    assert ls.isfinite().all()
    assert close(ls, torch.log_softmax(x, -1), 4 * scale)
    assert near(ls.exp().sum(-1), torch.ones(rows))

def test_log_softmax_no_overflow_on_large_logits():
    for big in (torch.tensor([[1000., 1001., 1002.]]), torch.tensor([[-1e4, 0., 1e4]]), torch.full((2, 5), -1e4)):
        assert log_softmax(big).isfinite().all()
        assert near(log_softmax(big), torch.log_softmax(big, -1))

def test_logsumexp_infinite_rows_like_torch():
    x = torch.tensor([[-math.inf, -math.inf], [math.inf, 1.], [0., -math.inf]])
    assert torch.equal(logsumexp(x), torch.logsumexp(x, -1))

def test_log_softmax_works_on_any_leading_shape():
    x = torch.randn(2, 3, 5)
    assert near(log_softmax(x), torch.log_softmax(x, -1))

@given(**logit_args)
def test_nll_and_cross_entropy_match_torch(rows, cols, scale, seed, n_extreme):
    x = logits(rows, cols, scale, seed, n_extreme)
    t = torch.randint(0, cols, (rows,), generator=torch.Generator().manual_seed(seed + 1))
    lp = torch.log_softmax(x, -1)
    got_nll, got_ce = nll(lp, t), cross_entropy(x, t)
    assert got_nll.isfinite() and got_ce.isfinite()
    assert close(got_nll, F.nll_loss(lp, t), 4 * scale)
    assert close(got_ce, F.cross_entropy(x, t), 4 * scale)

def test_nll_picks_the_target_entries():
    lp = torch.tensor([[-1., -2., -3.], [-4., -5., -6.]])
    assert nll(lp, torch.tensor([2, 0])).item() == pytest.approx((3. + 4.) / 2)

def test_cross_entropy_gradient_matches_torch():
    x = torch.randn(6, 4, requires_grad=True); t = torch.tensor([0, 1, 2, 3, 0, 1])
    cross_entropy(x, t).backward(); ours = x.grad.clone(); x.grad = None
    F.cross_entropy(x, t).backward()
    assert near(ours, x.grad)

@pytest.mark.parametrize('loss', [nll, cross_entropy])
def test_targets_out_of_range_raise(loss):
    "Too large: indexing refuses it, naming the size. Negative: it would silently pick from the end, so nll refuses it."
    for bad in ([0, 3], [5, 1]):
        with pytest.raises(IndexError, match='out of bounds'): loss(torch.zeros(2, 3), torch.tensor(bad))
    with pytest.raises(ValueError, match='-1; classes start at 0'): loss(torch.zeros(2, 3), torch.tensor([-1, 0]))

@pytest.mark.parametrize('loss', [nll, cross_entropy])
def test_loss_shape_and_dtype_errors(loss):
    with pytest.raises(ValueError, match=r'\(3, 4\).*\(2,\)'): loss(torch.zeros(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'input \(3,\)'): loss(torch.zeros(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='integer'): loss(torch.zeros(2, 3), torch.tensor([0., 1.]))

def test_accuracy():
    out = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(out, torch.tensor([1, 0, 0, 0])).item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r'yb must hold one integer.*\(4, 2\).*\(3,\)'): accuracy(out, torch.tensor([1, 0, 0]))

@pytest.mark.parametrize('f,p,t', [(accuracy, 'out', 'yb'), (nll, 'input', 'target'), (cross_entropy, 'input', 'target')])
def test_class_metrics_refuse_what_would_broadcast_or_mislead(f, p, t):
    "(n, 1) labels broadcast to (n, n), 1-D scores give 1.0, one-hot rows, float labels are truncated: refused, named."
    out, yb = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    for bad_out, bad_yb in [(out, yb[:, None]), (out[:, 0], yb), (out, F.one_hot(yb, 3)), (out, yb.float() + 0.5)]:
        with pytest.raises(ValueError, match=f'{t} must hold one integer class index per row of {p}'): f(bad_out, bad_yb)
    # a correct call still gives the torch answer
    assert torch.isclose(accuracy(out, yb), (out.argmax(1) == yb).float().mean())
    assert torch.isclose(cross_entropy(out, yb), F.cross_entropy(out, yb))

def test_one_hot_check_is_not_fooled_when_n_equals_c():
    out = torch.randn(3, 3)
    with pytest.raises(ValueError, match='one integer class index per row'): accuracy(out, torch.eye(3, dtype=torch.long))

# ---------------------------------------------------------------- DummyModule and Optimizer

def test_dummy_module_registers_layers_like_nn_module():
    torch.manual_seed(0); dm = DummyModule(6, 4, 3)
    assert list(dm._modules) == ['l1', 'l2']
    assert [tuple(p.shape) for p in dm.parameters()] == [(4, 6), (4,), (3, 4), (3,)]
    ref = nn.Sequential(dm.l1, nn.ReLU(), dm.l2)
    x = torch.randn(5, 6)
    assert torch.equal(dm(x), ref(x))
    dm.name, dm._hidden = 'plain attribute', nn.Linear(2, 2)
    assert list(dm._modules) == ['l1', 'l2'] and dm.name == 'plain attribute'
    dm.extra = nn.Linear(3, 1)
    assert len(list(dm.parameters())) == 6

@given(lr=st.floats(1e-3, 2.), seed=st.integers(0, 2**31), steps=st.integers(1, 3))
@settings(max_examples=20)
def test_optimizer_step_equals_torch_sgd(lr, seed, steps):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)); twin = copy.deepcopy(model)
    ours, theirs = Optimizer(model.parameters(), lr), torch.optim.SGD(twin.parameters(), lr=lr)
    x, t = torch.randn(7, 5), torch.randint(0, 3, (7,))
    for _ in range(steps):
        for mdl, opt in [(model, ours), (twin, theirs)]:
            F.cross_entropy(mdl(x), t).backward(); opt.step(); opt.zero_grad()
    for a, b in zip(model.parameters(), twin.parameters()): assert torch.equal(a, b)
    assert all(p.grad is None for p in model.parameters())

def test_optimizer_skips_params_without_grad_and_rejects_empty():
    p, q = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = Optimizer([p, q], lr=0.1)
    (p * 3).sum().backward(); opt.step()
    assert torch.allclose(p, torch.full((2,), 0.7)) and torch.equal(q, torch.ones(2))
    with pytest.raises(ValueError, match='empty'): Optimizer([], lr=0.1)

def test_optimizer_state_dict_is_its_lr_in_torchs_layout():
    "A snapshot of the lr alone, parameters by index as torch's SGD lists them; loading it puts back the lr only."
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    opt, theirs = Optimizer(model.parameters(), 0.3), torch.optim.SGD(model.parameters(), lr=0.3)
    sd = opt.state_dict()
    assert sd == {'state': {}, 'param_groups': [{'lr': 0.3, 'params': [0, 1, 2, 3]}]}
    assert sd['param_groups'][0]['params'] == theirs.state_dict()['param_groups'][0]['params']
    opt.param_groups[0]['lr'] = 0.01
    assert sd['param_groups'][0]['lr'] == 0.3                      # a snapshot, not a view
    opt.load_state_dict(sd)
    assert opt.param_groups[0]['lr'] == 0.3 and opt.param_groups[0]['params'] == list(model.parameters())

# ---------------------------------------------------------------- Dataset, Sampler, collate, DataLoader

def make_ds(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Dataset(torch.randn(n, 3, generator=g), torch.randint(0, 5, (n,), generator=g))

def test_dataset_indexing():
    ds = make_ds(10)
    assert len(ds) == 10
    x, y = ds[3]
    assert torch.equal(x, ds.x[3]) and torch.equal(y, ds.y[3])
    idx = torch.tensor([9, 0, 4])
    xb, yb = ds[idx]
    assert torch.equal(xb, ds.x[idx]) and torch.equal(yb, ds.y[idx])

def test_dataset_length_mismatch_raises():
    with pytest.raises(ValueError, match=r'x and y must have the same length, got 5 and 4'): Dataset(torch.zeros(5, 2), torch.zeros(4))

def test_dataset_turns_python_lists_into_tensors():
    ds = Dataset([[0., 1.], [2., 3.], [4., 5.]], [2, 0, 1])
    xb, yb = next(iter(DataLoader(ds, Sampler(ds, 2))))
    assert torch.equal(yb, torch.tensor([2, 0])) and xb.shape == (2, 2)
    with pytest.raises(ValueError): Dataset(torch.zeros(2, 2), [[1, 2], [3]])   # ragged: torch.as_tensor refuses it

@pytest.mark.parametrize('bs', [0, -1, -64])
def test_sampler_rejects_bs_below_one(bs):
    with pytest.raises(ValueError, match='bs'): Sampler(range(10), bs)

def test_sampler_rejects_non_integer_bs():
    with pytest.raises(TypeError, match='bs'): Sampler(range(10), 2.5)

@given(n=st.integers(0, 300), bs=st.integers(1, 350), shuffle=st.booleans(), seed=st.integers(0, 2**31))
def test_sampler_batches_cover_each_index_exactly_once(n, bs, shuffle, seed):
    s = Sampler(range(n), bs, shuffle=shuffle, generator=torch.Generator().manual_seed(seed))
    expected = math.ceil(n / bs)
    assert len(s) == expected == (n - 1) // bs + 1
    for _epoch in range(2):
        batches = list(s)
        assert len(batches) == expected
        assert all(b.dtype == torch.int64 and b.ndim == 1 for b in batches)
        assert all(len(b) == bs for b in batches[:-1])
        if batches: assert len(batches[-1]) == n - (expected - 1) * bs
        got = torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)
        assert torch.equal(got.sort().values, torch.arange(n))
        if not shuffle: assert torch.equal(got, torch.arange(n))

def test_shuffle_reproducible_and_different_each_epoch():
    def epochs(seed, k=3):
        s = Sampler(range(50), 7, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return [torch.cat(list(s)) for _ in range(k)]
    a, b, c = epochs(1), epochs(1), epochs(2)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], a[1]) and not torch.equal(a[1], a[2])
    assert not torch.equal(a[0], c[0])

def test_collate():
    xb, yb = collate([(torch.tensor([1., 2.]), torch.tensor(0)), (torch.tensor([3., 4.]), torch.tensor(1))])
    assert torch.equal(xb, torch.tensor([[1., 2.], [3., 4.]])) and torch.equal(yb, torch.tensor([0, 1]))
    xb, yb = collate([(torch.zeros(2), 3), (torch.ones(2), 4)])   # plain int targets
    assert torch.equal(yb, torch.tensor([3, 4]))
    with pytest.raises(ValueError): collate([])

class PerItem(torch.utils.data.Dataset):
    "A general dataset: one sample per `__getitem__` call with an int (records the calls)."
    def __init__(self, x, y): self.x, self.y, self.calls = x, y, 0
    def __len__(self): return len(self.x)
    def __getitem__(self, i):
        if not isinstance(i, int): raise TypeError('one int index at a time')
        self.calls += 1
        return self.x[i], self.y[i]

@given(n=st.integers(1, 120), bs=st.integers(1, 130), shuffle=st.booleans(), seed=st.integers(0, 2**31))
@settings(max_examples=30)
def test_dataloader_batches_equal_x_of_idx_on_every_path(n, bs, shuffle, seed):
    ds = make_ds(n, seed)
    gen = lambda: torch.Generator().manual_seed(seed)
    idxs = list(Sampler(ds, bs, shuffle, gen()))
    loaders = [DataLoader(ds, Sampler(ds, bs, shuffle, gen())),
               DataLoader(torch.utils.data.TensorDataset(ds.x, ds.y), Sampler(ds, bs, shuffle, gen())),
               DataLoader(PerItem(ds.x, ds.y), Sampler(ds, bs, shuffle, gen())),
               DataLoader(ds, Sampler(ds, bs, shuffle, gen()), collate_fn=lambda b: collate(b))]
    for dl in loaders:
        batches = list(dl)
        assert len(dl) == len(batches) == len(idxs)
        for (xb, yb), idx in zip(batches, idxs):
            assert torch.equal(xb, ds.x[idx]) and torch.equal(yb, ds.y[idx])

def test_fast_path_makes_one_call_per_batch_and_general_path_one_per_item():
    class Counting(Dataset):
        calls = 0
        def __getitem__(self, i):
            type(self).calls += 1
            return super().__getitem__(i)
    ds = make_ds(10)
    plain_calls = []
    orig = Dataset.__getitem__
    def spy(self, i):
        plain_calls.append(i); return orig(self, i)
    Dataset.__getitem__ = spy
    try:
        # spy replaces Dataset.__getitem__ itself, so the loader still recognises the class: one call per batch
        assert len(list(DataLoader(ds, Sampler(ds, 4)))) == 3
        assert len(plain_calls) == 3 and all(isinstance(i, torch.Tensor) for i in plain_calls)
    finally: Dataset.__getitem__ = orig
    cds = Counting(ds.x, ds.y)   # a subclass that overrides __getitem__ gets the general path
    assert len(list(DataLoader(cds, Sampler(cds, 4)))) == 3 and Counting.calls == 10
    pi = PerItem(ds.x, ds.y)
    list(DataLoader(pi, Sampler(pi, 4)))
    assert pi.calls == 10

def test_dataloader_attributes_and_torch_interop():
    ds = make_ds(25); s = Sampler(ds, 10)
    dl = DataLoader(ds, s)
    assert dl.ds is ds and dl.dataset is ds and dl.sampler is s and len(dl) == 3
    theirs = torch.utils.data.DataLoader(ds, batch_size=10)
    assert len(theirs) == 3
    for (xa, ya), (xt, yt) in zip(dl, theirs): assert torch.equal(xa, xt) and torch.equal(ya, yt)

# ---------------------------------------------------------------- get_dls, get_mlp_opt, fit

def blobs(n, seed):
    "Three well separated clusters in 4-D, labels = cluster."
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centres = torch.eye(3, 4) * 4
    return Dataset(centres[y] + torch.randn(n, 4, generator=g) * 0.5, y)

def test_get_dls():
    tr, va = blobs(100, 0), blobs(50, 1)
    tdl, vdl = get_dls(tr, va, 16, generator=torch.Generator().manual_seed(0))
    assert tdl.ds is tr and vdl.ds is va
    assert tdl.sampler.bs == 16 and tdl.sampler.shuffle and vdl.sampler.bs == 32 and not vdl.sampler.shuffle
    assert len(tdl) == 7 and len(vdl) == 2
    assert torch.equal(torch.cat([yb for _, yb in vdl]), va.y)

def test_mlp_and_get_mlp_opt():
    net = mlp(4, 8, 3)
    assert [type(l) for l in net] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [tuple(p.shape) for p in net.parameters()] == [(8, 4), (8,), (3, 8), (3,)]
    assert [tuple(p.shape) for p in mlp().parameters()] == [(50, 784), (50,), (10, 50), (10,)]
    model, opt = get_mlp_opt(4, 8, 3, lr=0.1)
    assert isinstance(model, nn.Sequential) and [type(l) for l in model] == [nn.Linear, nn.ReLU, nn.Linear]
    assert model(torch.zeros(2, 4)).shape == (2, 3)
    assert isinstance(opt, Optimizer) and [(pg['lr'], len(pg['params'])) for pg in opt.param_groups] == [(0.1, 4)]

def test_optimizer_param_groups_work_like_torch_sgd():
    "Later lessons' schedulers set `pg['lr']` in `opt.param_groups`: ours follows it as torch.optim.SGD does."
    torch.manual_seed(0)
    model = nn.Linear(3, 2); twin = copy.deepcopy(model)
    ours, theirs = Optimizer(model.parameters(), 0.5), torch.optim.SGD(twin.parameters(), lr=0.5)
    x = torch.randn(4, 3)
    for lr in (0.3, 0.01, 0.):
        for opt in (ours, theirs):
            for pg in opt.param_groups: pg['lr'] = lr
        for mdl, opt in [(model, ours), (twin, theirs)]:
            mdl(x).pow(2).sum().backward(); opt.step(); opt.zero_grad()
        for a, b in zip(model.parameters(), twin.parameters()): assert torch.equal(a, b)
    assert [len(pg['params']) for pg in ours.param_groups] == [2] and set(ours.param_groups[0]) >= {'params', 'lr'}

def test_fit_trains_and_reports(capsys):
    torch.manual_seed(0)
    tdl, vdl = get_dls(blobs(300, 0), blobs(101, 1), 32, generator=torch.Generator().manual_seed(0))
    model, opt = get_mlp_opt(4, 16, 3, lr=0.1)
    hist = fit(3, model, cross_entropy, opt, tdl, vdl)
    keys = ['epoch', 'train_loss', 'train_accuracy', 'valid_loss', 'valid_accuracy']
    assert [list(h) for h in hist] == [keys] * 3 and [h['epoch'] for h in hist] == [0, 1, 2]
    assert all(isinstance(h[k], float) for h in hist for k in keys[1:])
    assert hist[-1]['valid_loss'] < hist[0]['valid_loss'] and hist[-1]['valid_accuracy'] > 0.9
    assert hist[-1]['train_loss'] < hist[0]['train_loss']
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and 'train loss' in out[0] and 'valid loss' in out[0] and 'accuracy' in out[0]

def test_fit_weights_batches_by_size():
    "The reported metrics are per-sample means, even though the last validation batch is short."
    torch.manual_seed(0)
    va = blobs(21, 1)
    model, opt = get_mlp_opt(4, 8, 3, lr=0.)
    tdl = DataLoader(va, Sampler(va, 5))
    vdl = DataLoader(va, Sampler(va, 8))   # batches of 8, 8, 5
    h, = fit(1, model, cross_entropy, opt, tdl, vdl, verbose=False)
    with torch.no_grad(): pred = model(va.x)
    assert h['valid_loss'] == pytest.approx(F.cross_entropy(pred, va.y).item(), rel=1e-5)
    assert h['valid_accuracy'] == pytest.approx(accuracy(pred, va.y).item())
    # lr = 0: the model does not change, so the training averages over batches of 5, 5, 5, 5, 1 are the same numbers
    assert h['train_loss'] == pytest.approx(h['valid_loss'], rel=1e-5) and h['train_accuracy'] == pytest.approx(h['valid_accuracy'])

def test_fit_works_with_dummy_module_and_torch_pieces():
    torch.manual_seed(0)
    tr, va = blobs(64, 0), blobs(32, 1)
    dm = DummyModule(4, 8, 3)
    hist = fit(2, dm, F.cross_entropy, Optimizer(dm.parameters(), 0.1),
               torch.utils.data.DataLoader(tr, batch_size=16, shuffle=True), torch.utils.data.DataLoader(va, batch_size=32),
               verbose=False)
    assert len(hist) == 2

def test_fit_rejects_empty_validation():
    model, opt = get_mlp_opt(4, 8, 3)
    batch = [(torch.zeros(2, 4), torch.tensor([0, 1]))]
    with pytest.raises(ValueError, match='valid_dl'): fit(1, model, cross_entropy, opt, batch, [], verbose=False)
    with pytest.raises(ValueError, match='train_dl'): fit(1, model, cross_entropy, opt, [], batch, verbose=False)

@pytest.mark.parametrize('epochs,exc', [(-1, ValueError), (1.5, TypeError), ('2', TypeError), (True, TypeError)])
def test_fit_epochs_rule(epochs, exc):
    "The same rule as Runner.fit: an int >= 0."
    model, opt = get_mlp_opt(4, 8, 3)
    batch = [(torch.zeros(2, 4), torch.tensor([0, 1]))]
    with pytest.raises(exc, match='epochs'): fit(epochs, model, cross_entropy, opt, batch, batch, verbose=False)
    assert fit(0, model, cross_entropy, opt, batch, batch, verbose=False) == []

def test_optimizer_refuses_what_torch_sgd_refuses():
    w = torch.zeros(3, requires_grad=True)
    for lr in (-0.1, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='lr'): Optimizer([w], lr)
    with pytest.raises(ValueError): torch.optim.SGD([w], -0.1)
    with pytest.raises(TypeError, match='lr'): Optimizer([w], '0.1')
    assert Optimizer(w).param_groups[0]['params'] == [w]      # one tensor, not its rows (which have no gradients)
    with pytest.raises(TypeError): Optimizer(3)
    with pytest.raises(ValueError, match='params is empty'): Optimizer([])

def test_dataloader_argument_errors_say_what_to_pass():
    ds, big = Dataset(torch.zeros(10, 2), torch.zeros(10)), Dataset(torch.zeros(20, 2), torch.zeros(20))
    with pytest.raises(TypeError, match="'int' object is not iterable"): next(iter(DataLoader(ds, 4)))   # Python says it
    with pytest.raises(ValueError, match='20 samples but ds has 10'): DataLoader(ds, Sampler(big, 4))


def test_collate_leaves_ragged_samples_to_torch_stack():
    with pytest.raises(RuntimeError, match='equal size'): collate([(torch.zeros(3), 0), (torch.zeros(4), 1)])

def test_sampler_with_a_huge_batch_size_gives_one_batch():
    s = Sampler(range(5), 10**20)
    assert len(s) == 1 and [b.tolist() for b in s] == [[0, 1, 2, 3, 4]]


@given(st.integers(1, 300), st.integers(1, 12), st.sampled_from([torch.float32, torch.float64, torch.float16]),
       st.sampled_from([torch.int64, torch.int32, torch.uint8]), st.integers(0, 2**31 - 1))
def test_accuracy_is_the_float_mean_of_hits_exactly(n, c, dtype, ydtype, seed):
    "`accuracy` averages the hits with `mean(dtype=float32)`: bit for bit the course's `(argmax == yb).float().mean()`."
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(n, c, generator=g).to(dtype)
    out[::3, 0] = out[::3].max(-1).values          # ties: argmax takes the first maximum either way
    yb = torch.randint(0, c, (n,), generator=g).to(ydtype)
    a, ref = accuracy(out, yb), (out.argmax(-1) == yb).float().mean()
    assert a.dtype == ref.dtype == torch.float32 and a.shape == () and torch.equal(a, ref)


@pytest.mark.parametrize('dtype', [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64])
def test_class_indices_of_every_integer_dtype(dtype):
    "Every integer dtype indexes as class numbers (int8/uint8 would be masks without `.long()`); negatives are refused."
    logp = torch.randn(4, 3).log_softmax(-1)
    t = torch.tensor([0, 1, 2, 0], dtype=dtype)
    assert torch.allclose(nll(logp, t), F.nll_loss(logp, t.long()))
    with pytest.raises(IndexError): nll(logp, torch.tensor([0, 1, 3, 2], dtype=dtype))
    if dtype != torch.uint8:
        with pytest.raises(ValueError, match='-1; classes start at 0'): nll(logp, torch.tensor([0, -1, 2, 2], dtype=dtype))
