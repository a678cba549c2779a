"Tests of course_lib.cnn: device choice, the CNN builders against PyTorch's own layers, hooks that clean up, ActivationStats."
import io, os, pickle, re, subprocess, sys, textwrap, warnings
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn, optim
from hypothesis import given, strategies as st

import course_lib.cnn as cnn
from course_lib.cnn import (ActivationStats, BatchTransformXCallback, CudaCallback, DeviceCallback, GeneralRelu, Hook, Hooks,
                            Lambda, append_stats, children, conv2d, conv_grelu, default_device, flatten,
                            get_cnn_layers, get_cnn_model, get_learn_run, get_runner, init_cnn, normalize_to, view_tfm)
from course_lib.callbacks import AvgStatsCallback, Callback, CancelTrainException, DataBunch
from course_lib.minibatch import Dataset, accuracy, get_dls
from strategies import small_ints


# ---------------------------------------------------------------- shared set-up
def synth_digits(n, seed=0):
    "Flat 28x28 'images' whose class is which of 10 horizontal bands is bright, plus noise: a CNN learns it in an epoch."
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.rand(n, 28, 28, generator=g) * 0.3
    for i, c in enumerate(y.tolist()): x[i, 2 * c + 4:2 * c + 7] += 1.
    return x.view(n, 784), y


def tiny_data(n_train=256, n_valid=64, bs=32):
    (x, y), (xv, yv) = synth_digits(n_train), synth_digits(n_valid, seed=1)
    return DataBunch(*get_dls(Dataset(x, y), Dataset(xv, yv), bs, generator=torch.Generator().manual_seed(0)), c=10)


def cbfs(*extra):
    return [DeviceCallback, partial(BatchTransformXCallback, view_tfm(1, 28, 28)), partial(AvgStatsCallback, accuracy), *extra]


def quiet(run):
    run.logger = lambda line: None
    return run


# ---------------------------------------------------------------- no GPU at import
def test_import_every_module_without_cuda():
    "Every course_lib module imports with CUDA unavailable, and none initialises CUDA or calls into it."
    code = textwrap.dedent("""
        import importlib, pkgutil, torch
        calls = []
        def trap(name):
            def f(*a, **k): calls.append(name); raise RuntimeError(f'{name} called at import')
            return f
        for name in ('init', '_lazy_init', 'current_device', 'set_device', 'synchronize'): setattr(torch.cuda, name, trap(name))
        torch.cuda.is_available = lambda: False
        import course_lib
        mods = sorted(m.name for m in pkgutil.iter_modules(course_lib.__path__))
        for m in mods: importlib.import_module('course_lib.' + m)
        import course_lib.cnn as cnn
        assert not torch.cuda.is_initialized(), 'CUDA initialised'
        assert calls == [], calls
        assert cnn.default_device().type in ('cpu', 'mps')
        print(len(mods), 'modules')
    """)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', MPLBACKEND='Agg')
    env.pop('COURSE_LIB_DEVICE', None)
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[0]) >= 10


# ---------------------------------------------------------------- device
def test_default_device_order(monkeypatch):
    monkeypatch.delenv('COURSE_LIB_DEVICE', raising=False)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.backends.mps, 'is_available', lambda: False)
    assert default_device() == torch.device('cpu')
    monkeypatch.setattr(torch.backends.mps, 'is_available', lambda: True)
    assert default_device() == torch.device('mps')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert default_device() == torch.device('cuda')


def test_default_device_argument_and_env(monkeypatch):
    monkeypatch.setenv('COURSE_LIB_DEVICE', 'cpu')
    assert default_device() == torch.device('cpu')
    assert default_device(torch.device('cpu')) == torch.device('cpu')
    monkeypatch.setenv('COURSE_LIB_DEVICE', 'tpu7')
    with pytest.raises(ValueError, match='COURSE_LIB_DEVICE.*tpu7'): default_device()
    assert default_device('cpu') == torch.device('cpu')          # the argument wins over the environment


@pytest.mark.parametrize('bad', ['gpu0', 'cuda:x', '', 'cpu cpu'])
def test_fake_device_string_is_a_clear_error(bad):
    with pytest.raises(ValueError, match='device'): DeviceCallback(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_unavailable_device_is_a_clear_error():
    with pytest.raises(ValueError, match='not available'): default_device('cuda')
    with pytest.raises(ValueError, match='not available'): CudaCallback('cuda:3')


def test_cuda_callback_as_the_course_uses_it():
    "The 2019 name, given as a `cb_funcs` class with no argument, puts the model and every batch on `default_device()`."
    from course_lib.callbacks import Learner, Runner
    seen = []
    class Spy(Callback):
        _order = 10
        def after_pred(self): seen.append((self.xb.device, self.yb.device, next(self.model.parameters()).device))
    x, y = torch.randn(8, 4), torch.arange(8) % 2
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)
    model = torch.nn.Linear(4, 2)
    learn = Learner(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, DataBunch(dl, dl, c=2))
    run = Runner(cbs=Spy(), cb_funcs=CudaCallback)
    run.fit(1, learn)
    dev = default_device()
    assert run.device.device == dev and len(seen) == 4    # 2 training and 2 validation batches
    assert all(d.type == dev.type for s in seen for d in s)


class SeeDevice(Callback):
    _order = 5
    def begin_fit(self): self.devices = set()
    def after_pred(self): self.devices |= {self.xb.device, self.yb.device, self.pred.device}


def test_device_callback_moves_model_batches_and_opt_state():
    data = tiny_data()
    torch.manual_seed(0)
    model = get_cnn_model(data, [4, 8])
    learn, run = get_runner(model, data, lr=0.1, cbs=cbfs(SeeDevice), opt_func=partial(optim.SGD, momentum=0.9))
    quiet(run).fit(1, learn)
    dev = default_device()
    assert {d.type for d in run.see_device.devices} == {dev.type}
    assert {p.device.type for p in model.parameters()} == {dev.type}
    assert {s['momentum_buffer'].device.type for s in learn.opt.state.values()} == {dev.type}


def test_move_opt_state_moves_tensors_only():
    p = nn.Parameter(torch.ones(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = torch.ones(3); opt.step()
    opt.state[p]['note'] = 'kept'
    cnn._move_opt_state(opt, torch.device('cpu'))
    assert opt.state[p]['note'] == 'kept' and opt.state[p]['momentum_buffer'].device.type == 'cpu'


# ---------------------------------------------------------------- layers, against PyTorch's own
def test_lambda_and_flatten_pickle():
    m = nn.Sequential(Lambda(flatten), nn.Linear(12, 2))
    x = torch.randn(5, 3, 4)
    torch.testing.assert_close(m(x), m[1](torch.flatten(x, 1)))
    m2 = pickle.loads(pickle.dumps(m))
    torch.testing.assert_close(m2(x), m(x))
    assert 'flatten' in repr(m)


@given(size=st.lists(st.integers(1, 5), min_size=1, max_size=3), bs=small_ints)
def test_view_tfm_matches_reshape(size, bs):
    x = torch.randn(bs, *size)
    f = view_tfm(*size)
    torch.testing.assert_close(f(x.reshape(bs, -1)), x)
    assert pickle.loads(pickle.dumps(f))(x.reshape(bs, -1)).shape == x.shape


@given(size=st.lists(st.integers(1, 5), min_size=1, max_size=3), bs=st.integers(2, 6), extra=st.integers(1, 3))
def test_view_tfm_refuses_a_size_that_does_not_fit(size, bs, extra):
    n = 1
    for s in size: n *= s
    shape = str([bs, *size])
    with pytest.raises(RuntimeError, match=re.escape(shape)): view_tfm(*size)(torch.zeros(bs, n + extra))
    # twice the values per sample would view as 2*bs images with `-1`: PyTorch refuses, naming both sizes
    with pytest.raises(RuntimeError, match=re.escape(shape)): view_tfm(*size)(torch.zeros(bs, 2 * n))


def test_batch_transform_callback_applies_tfm():
    class Shape(Callback):
        _order = 5
        def begin_batch(self): self.shape = tuple(self.xb.shape)
    data = tiny_data(64, 32, 32)
    learn, run = get_runner(get_cnn_model(data, [4]), data, cbs=cbfs(Shape))
    quiet(run).fit(1, learn)
    assert run.shape.shape[1:] == (1, 28, 28)


@pytest.mark.parametrize('ks,stride', [(3, 2), (5, 2), (3, 1), (1, 1)])
def test_conv2d_and_conv_grelu_against_torch(ks, stride):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9)
    c = conv2d(3, 4, ks, stride)
    w, b = c[0].weight, c[0].bias
    torch.testing.assert_close(c(x), F.relu(F.conv2d(x, w, b, stride=stride, padding=ks // 2)))
    g = conv_grelu(3, 4, ks, stride, leak=0.1, sub=0.4, maxv=6.)
    w, b = g[0].weight, g[0].bias
    torch.testing.assert_close(g(x), (F.leaky_relu(F.conv2d(x, w, b, stride=stride, padding=ks // 2), 0.1) - 0.4).clamp(max=6.))


def test_get_cnn_layers_shapes_and_layer_kwargs():
    data = tiny_data()
    layers = get_cnn_layers(data, [8, 16, 32], conv_grelu, leak=0.2)
    assert len(layers) == 3 + 3
    assert [l[0].kernel_size for l in layers[:3]] == [(5, 5), (3, 3), (3, 3)]
    assert [(l[0].in_channels, l[0].out_channels) for l in layers[:3]] == [(1, 8), (8, 16), (16, 32)]
    assert all(l[1].leak == 0.2 for l in layers[:3])
    model = get_cnn_model(data, [8, 16, 32], conv_grelu, leak=0.2)
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert model(torch.randn(3, 1, 45, 17)).shape == (3, 10)       # the pooling makes any size work
    assert isinstance(layers[-1], nn.Linear) and layers[-1].out_features == 10


@given(leak=st.one_of(st.none(), st.floats(0, 1)), sub=st.one_of(st.none(), st.floats(-2, 2)),
       maxv=st.one_of(st.none(), st.floats(0, 10)))
def test_general_relu_against_torch(leak, sub, maxv):
    x = torch.linspace(-10, 10, 101, requires_grad=True)
    y = GeneralRelu(leak, sub, maxv)(x)
    ref = F.leaky_relu(x, leak) if leak is not None else F.relu(x)
    if sub is not None: ref = ref - sub
    if maxv is not None: ref = ref.clamp(max=maxv)
    torch.testing.assert_close(y, ref)
    y.sum().backward()                                  # no in-place op breaks autograd
    assert x.grad is not None


def test_general_relu_defaults_are_relu():
    x = torch.randn(50)
    torch.testing.assert_close(GeneralRelu()(x), F.relu(x))


def test_init_cnn_kaiming_std_and_zero_bias():
    torch.manual_seed(0)
    m = nn.Sequential(conv2d(64, 256, 3), nn.Sequential(nn.Conv1d(8, 8, 3)), nn.Linear(4, 4))
    lin_w = m[2].weight.clone()
    assert init_cnn(m, a=0.) is m
    fan_in = 64 * 9
    std = m[0][0].weight.std().item()
    assert abs(std - (2 / fan_in) ** 0.5) < 0.03 * (2 / fan_in) ** 0.5
    assert m[0][0].bias.abs().max() == 0 and m[1][0].bias.abs().max() == 0
    torch.testing.assert_close(m[2].weight, lin_w)          # linear layers are left alone
    init_cnn(m, uniform=True, a=0.1)
    bound = (6 / ((1 + 0.1 ** 2) * fan_in)) ** 0.5
    w = m[0][0].weight
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound


# ---------------------------------------------------------------- hooks
def n_hooks(model): return sum(len(m._forward_hooks) for m in model.modules())


def test_hook_records_and_is_removed():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    with Hook(model[0], append_stats) as h:
        assert n_hooks(model) == 1
        model(torch.randn(8, 4)); model(torch.randn(8, 4))
    assert n_hooks(model) == 0
    assert len(h.stats[0]) == 2 and len(h.stats[1]) == 2
    model(torch.randn(8, 4))
    assert len(h.stats[0]) == 2                              # nothing recorded after removal
    h.remove()                                               # removing twice is harmless


def test_append_stats_only_in_training_and_correct():
    lin = nn.Linear(4, 3)
    x = torch.randn(16, 4)
    with Hook(lin, append_stats) as h:
        lin.eval(); lin(x)
        lin.train(); out = lin(x)
    assert len(h.stats[0]) == 1
    torch.testing.assert_close(h.stats[0][0], out.mean()); torch.testing.assert_close(h.stats[1][0], out.std())


def test_hooks_cleaned_up_after_exception_in_with_block():
    model = get_cnn_model(tiny_data(), [4, 8])
    with pytest.raises(RuntimeError, match='boom'):
        with Hooks(model, append_stats) as hooks:
            assert n_hooks(model) == len(model)
            raise RuntimeError('boom')
    assert n_hooks(model) == 0 and len(hooks) == len(model)


def test_hooks_remove_without_with():
    model = get_cnn_model(tiny_data(), [4])
    hooks = Hooks(children(model), append_stats)
    assert n_hooks(model) == len(model)
    hooks.remove()
    assert n_hooks(model) == 0


def test_hooks_index_and_iterate_like_a_list():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with Hooks(model, append_stats) as hooks:
        assert len(hooks) == 3 and isinstance(hooks[0], Hook)
        assert list(hooks) == [hooks[0], hooks[1], hooks[2]]
        assert list(hooks[1:]) == [hooks[1], hooks[2]]
        assert hooks[-1] is hooks[2]
        model(torch.randn(4, 2))
        assert [len(h.stats[0]) for h in hooks] == [1, 1, 1]
    assert 'Hooks(3 hooks)' == repr(hooks)


# ---------------------------------------------------------------- ActivationStats
def act_fit(epochs=1, **kw):
    data = tiny_data()
    torch.manual_seed(0)
    learn, run = get_learn_run([4, 8, 8], data, 0.1, conv_grelu, cbs=cbfs(), leak=0.1, sub=0.4, maxv=6.)
    run.add_cbs(ActivationStats(**kw))
    quiet(run).fit(epochs, learn)
    return data, learn, run


def test_activation_stats_shapes_per_layer():
    data, learn, run = act_fit(2, bins=20, hist_range=(-7, 7))
    a = run.activation_stats
    n_layers, n = len(children(learn.model)), 2 * len(data.train_dl)
    assert a.means.shape == a.stds.shape == a.near_zero_frac.shape == (n_layers, n)
    assert a.hists.shape == (n_layers, n, 20)
    assert all(s.device.type == 'cpu' for s in a.stats)
    assert n_hooks(learn.model) == 0
    assert ((a.near_zero_frac >= 0) & (a.near_zero_frac <= 1)).all()


def test_activation_stats_values_match_the_layer_outputs():
    "The first record of each layer is the mean/std/histogram of that layer's output on the first training batch."
    data = tiny_data()
    torch.manual_seed(0)
    learn, run = get_learn_run([4, 8], data, 0., conv_grelu, cbs=cbfs(), leak=0.1, sub=0.4)   # lr 0: the model stays as it is
    model = learn.model
    xb = None
    class First(Callback):
        _order = 5
        def begin_batch(self):
            nonlocal xb
            if xb is None and self.in_train: xb = self.xb.clone()
    run.add_cbs([First(), ActivationStats(bins=10, hist_range=(-2, 3), near_zero=0.3)])
    quiet(run).fit(1, learn)
    a = run.activation_stats
    x = xb
    for i, layer in enumerate(model):
        x = layer(x).detach()
        torch.testing.assert_close(a.means[i, 0], x.mean()); torch.testing.assert_close(a.stds[i, 0], x.std())
        torch.testing.assert_close(a.near_zero_frac[i, 0], (x.abs() < 0.3).float().mean())
        torch.testing.assert_close(a.hists[i, 0], torch.histc(x, 10, -2, 3))


def test_activation_stats_every_and_max_iters_bound_memory():
    data, _, run = act_fit(2, every=3)
    n = 2 * len(data.train_dl)
    assert run.activation_stats.means.shape[1] == len(range(0, n, 3))
    _, _, run = act_fit(2, max_iters=5)
    assert run.activation_stats.means.shape[1] == 5
    with pytest.raises(ValueError, match='max_iters'): ActivationStats(max_iters=0)     # would record nothing


def test_activation_stats_only_training_batches_and_given_modules():
    data = tiny_data()
    learn, run = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs())
    run.add_cbs(ActivationStats(modules=[learn.model[0], learn.model[1]]))
    quiet(run).fit(1, learn)
    assert run.activation_stats.means.shape == (2, len(data.train_dl))


def test_activation_stats_hooks_removed_after_an_error():
    class Boom(Callback):
        def after_batch(self):
            if self.n_iter == 3: raise RuntimeError('boom')
    data = tiny_data()
    learn, run = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs(Boom))
    run.add_cbs(ActivationStats())
    with pytest.raises(RuntimeError, match='boom'): quiet(run).fit(2, learn)
    assert n_hooks(learn.model) == 0
    assert run.activation_stats.means.shape[1] == 3          # batches 0-2 ran their forward pass before the error: kept


def test_activation_stats_plots_return_figures():
    import matplotlib
    matplotlib.use('Agg')
    _, _, run = act_fit(1)
    a = run.activation_stats
    for fig, n_axes in ((a.plot_stats(), 2), (a.plot_stats(5), 2), (a.plot_hist(), len(a.stats)), (a.plot_near_zero(), 1)):
        assert len(fig.axes) == n_axes
    with pytest.raises(ValueError, match='axs'): a.plot_stats(axs=[fig.axes[0]])


def test_activation_stats_before_fit_is_a_clear_error():
    with pytest.raises(ValueError, match='fit'): ActivationStats().means


# ---------------------------------------------------------------- training end to end on the CPU
def test_cpu_training_end_to_end_on_the_digits():
    from course_lib.data import get_data
    x, y, xv, yv = get_data(source='sample')
    x, xv = normalize_to(x, xv)
    data = DataBunch(*get_dls(Dataset(x, y), Dataset(xv, yv), 64, generator=torch.Generator().manual_seed(0)), c=10)
    torch.manual_seed(0)
    learn, run = get_learn_run([8, 16, 32, 32], data, 0.1, conv_grelu, cbs=cbfs(), opt_func=partial(optim.SGD, momentum=0.9),
                               leak=0.1, sub=0.4, maxv=6.)
    quiet(run).fit(6, learn)
    assert run.avg_stats.log['valid_accuracy'] >= 0.92
    assert run.avg_stats.log['train_loss'] < 0.3


def test_get_runner_takes_callbacks_and_callback_functions():
    data = tiny_data()
    cb = SeeDevice()
    learn, run = get_runner(get_cnn_model(data, [4]), data, lr=0.3, cbs=[cb, *cbfs()])
    assert run.see_device is cb and learn.opt.param_groups[0]['lr'] == 0.3
    assert isinstance(learn.opt, optim.SGD)


# ---------------------------------------------------------------- builders and helpers under misuse
def test_normalize_to_takes_raw_pixels_and_refuses_mixed_scales():
    from course_lib.cnn import normalize_to
    x = torch.randint(0, 256, (50, 784), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    tr, va = normalize_to(x, x[:10])
    ref_tr, ref_va = normalize_to(x / 255., x[:10] / 255.)
    torch.testing.assert_close(tr, ref_tr); torch.testing.assert_close(va, ref_va)
    assert tr.dtype == torch.float32 and abs(tr.mean().item()) < 1e-5
    with pytest.raises(TypeError, match='uint8'): normalize_to(x, x[:10] / 255.)     # two scales: refused


def test_flatten_of_an_empty_batch_is_like_nn_flatten():
    for shape in ((0, 1, 28, 28), (0, 3), (2, 3, 4)):
        x = torch.zeros(shape)
        assert flatten(x).shape == nn.Flatten()(x).shape


@pytest.mark.parametrize('c, exc', [(0, ValueError), (None, TypeError), (2.5, TypeError), ('10', TypeError)])
def test_cnn_builders_refuse_a_bad_number_of_classes(c, exc):
    class D: pass
    d = D(); d.c = c
    for build in (get_cnn_model, lambda d: get_cnn_layers(d, [4]), lambda d: get_learn_run([4], d, 0.1, conv2d)):
        with pytest.raises(exc, match='data.c'): build(d)


def test_get_cnn_layers_refuses_no_channels():
    with pytest.raises(ValueError, match='nfs'): get_cnn_model(tiny_data(), nfs=[])


# ---------------------------------------------------------------- hooks never record nothing in silence
def test_hooks_entered_a_second_time_record_again():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    hooks = Hooks(model, append_stats)
    with hooks: model(torch.randn(4, 2))
    assert n_hooks(model) == 0
    with hooks: model(torch.randn(4, 2))                      # registered again: records into the same lists
    assert [len(h.stats[0]) for h in hooks] == [2, 2] and n_hooks(model) == 0
    with hooks:
        with hooks: model(torch.randn(4, 2))                  # nested: never registered twice
    assert [len(h.stats[0]) for h in hooks] == [3, 3] and n_hooks(model) == 0


def test_hooks_of_an_empty_list_are_refused():
    with pytest.raises(ValueError, match='empty'): Hooks([], append_stats)
    with pytest.raises(ValueError, match='empty'): Hooks((m for m in []), append_stats)


def test_activation_stats_takes_a_generator_for_every_fit():
    data = tiny_data()
    torch.manual_seed(0)
    learn, run = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs())
    run.add_cbs(ActivationStats(modules=(m for m in learn.model[:2])))
    for _ in range(2):
        quiet(run).fit(1, learn)
        assert run.activation_stats.means.shape == (2, len(data.train_dl))


def test_activation_stats_refuses_modules_of_another_model():
    "A re-run notebook cell builds a new model: the old model's layers are refused at begin_fit, before any training."
    data = tiny_data()
    old, _ = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs())
    learn, run = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs())
    w = learn.model[0][0].weight.detach().clone()
    run.add_cbs(ActivationStats(modules=list(old.model)[:2]))
    with pytest.raises(ValueError, match='not layers of the model being fitted') as info: quiet(run).fit(1, learn)
    assert not getattr(info.value, '__notes__', None)                  # no second error from after_fit
    assert torch.equal(learn.model[0][0].weight, w) and n_hooks(old.model) == n_hooks(learn.model) == 0


def test_activation_stats_warns_about_a_layer_that_never_ran():
    class Skip(nn.Module):
        "Holds a layer that its forward never calls."
        def __init__(self): super().__init__(); self.unused = nn.ReLU()
        def forward(self, x): return x
    data = tiny_data()
    learn, run = get_learn_run([4, 8], data, 0.1, conv2d, cbs=cbfs())
    learn.model.insert(1, Skip())
    run.add_cbs(ActivationStats(modules=[learn.model[0], learn.model[1].unused]))
    with pytest.warns(UserWarning, match=r'layers \[1\] never ran'): quiet(run).fit(1, learn)
    assert len(run.activation_stats.stats[0]) == len(data.train_dl) and len(run.activation_stats.stats[1]) == 0


@pytest.mark.parametrize('kw, name', [(dict(bins=10**9), 'bins'), (dict(bins=0), 'bins'), (dict(bins=True), 'bins'),
                                      (dict(hist_range=(3, 3)), 'hist_range'), (dict(every=0), 'every')])
def test_activation_stats_refuses_settings_that_record_nothing_or_too_much(kw, name):
    with pytest.raises((ValueError, TypeError), match=name): ActivationStats(**kw)


# ---------------------------------------------------------------- one error, the real one
class FailAtBeginFit(Callback):
    _order = -20           # before every library callback
    def begin_fit(self): raise RuntimeError('the real error')


@pytest.mark.parametrize('make', [lambda: ActivationStats(), lambda: DeviceCallback('cpu')])
def test_after_fit_of_a_callback_that_never_began_runs_cleanly(make, capsys):
    data = tiny_data()
    learn, run = get_learn_run([4], data, 0.1, conv2d, cbs=cbfs())
    cb = make()
    run.add_cbs([cb, FailAtBeginFit()])
    for _ in range(2):                                        # a fresh callback, then one reused after a failed fit
        with pytest.raises(RuntimeError, match='the real error') as info: quiet(run).fit(1, learn)
        assert not getattr(info.value, '__notes__', None), info.value.__notes__
    assert n_hooks(learn.model) == 0 and run.avg_stats.show is True
    run.remove_cbs(run.fail_at_begin_fit)
    quiet(run).fit(1, learn)                                  # and it still works afterwards
