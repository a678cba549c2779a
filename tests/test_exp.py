"""`course_lib.exp`: the 2019 course's `exp/nb_XX` modules, bound to course_lib. Runs without the course's checkout."""
import gzip, importlib, io, pickle, pkgutil, types, typing
from contextlib import redirect_stdout

import pytest
import torch
from torch import nn
from hypothesis import given, strategies as st
import fastcore.test

import course_lib
import course_lib.exp as exp
from course_lib import anneal, batchnorm, callbacks, cnn, data, early_stopping, lsuv
from course_lib.data import UnsafePickleError, save_course_file
from course_lib.download import MNIST_URL, cache_file
from data_helpers import isolated   # noqa: F401 (an autouse fixture: an empty cache, no download settings)

# The public names each module of the 2019 course added to the one before it (`typing`'s aside), as the course's
# `exp/nb_XX.py` gave them: its definitions, its imports, and what its star import of the previous module brought.
COURSE_NEW_NAMES = {
    'nb_00': 'TEST',
    'nb_01': 'MNIST_URL Path datasets gzip math mpl near operator pickle plt set_trace tensor test test_eq test_near '
             'torch',
    'nb_02': 'get_data init mse nn normalize test_near_zero',
    'nb_03': 'DataLoader Dataset F RandomSampler SequentialSampler accuracy get_dls optim',
    'nb_04': 'AvgStats AvgStatsCallback Callback DataBunch Learner Runner TrainEvalCallback camel2snake get_model '
             'listify partial re',
    'nb_05': 'ParamScheduler Recorder annealer combine_scheds cos_1cycle_anneal create_learner get_model_func pg_dicts '
             'sched_cos sched_exp sched_lin sched_no',
    'nb_05b': 'CancelBatchException CancelEpochException CancelTrainException LR_Find',
    'nb_06': 'BatchTransformXCallback CudaCallback GeneralRelu Hook Hooks Javascript Lambda ListContainer append_stats '
             'children conv_layer display flatten get_cnn_layers get_cnn_model get_learn_run get_runner init_cnn '
             'nb_auto_export normalize_to view_tfm',
    'nb_07': 'RunningBatchNorm init_cnn_',
    'nb_07a': 'find_modules get_batch is_lin_layer lsuv_module',
}
MODULES = list(COURSE_NEW_NAMES)
TEST_HELPERS = ['test', 'test_eq', 'near', 'test_near', 'test_near_zero', 'test_close']

def course_names(m):
    "The names the course's module `m` gave: its own and every earlier module's, `typing`'s from nb_04 on."
    names = set()
    for k in MODULES[:MODULES.index(m) + 1]: names |= set(COURSE_NEW_NAMES[k].split())
    return names | (set(typing.__all__) if MODULES.index(m) >= MODULES.index('nb_04') else set())

def module(m): return importlib.import_module(f'course_lib.exp.{m}')

# ---------------------------------------------------------------- the names

@pytest.mark.parametrize('m', MODULES)
def test_names_are_the_courses(m):
    "Exactly the course's names, plus fastcore's `test_close` beside the course's test helpers (from nb_01 on)."
    extra = {'test_close'} if m != 'nb_00' else set()
    assert set(module(m).__all__) == course_names(m) | extra

@pytest.mark.parametrize('m', MODULES)
def test_star_import_gives_all_and_nothing_private(m):
    ns = {}
    exec(f'from course_lib.exp.{m} import *', ns)
    assert sorted(k for k in ns if k != '__builtins__') == module(m).__all__
    assert all(ns[k] is getattr(module(m), k) for k in module(m).__all__)

def test_a_later_module_keeps_every_earlier_binding_but_the_courses_redefinitions():
    """As in the course, a module rebinds only the names its notebook defined again (`conv_layer` in 07); `nb_07a`
    also gives the course's 08 PyTorch's loaders from `get_dls` and a `ListContainer` its `ItemList` can subclass."""
    rebound = {'nb_07': ['conv_layer'], 'nb_07a': ['ListContainer', 'get_dls']}
    for a, b in zip(MODULES, MODULES[1:]):
        changed = [k for k in module(a).__all__ if getattr(module(a), k) is not getattr(module(b), k)]
        assert sorted(changed) == rebound.get(b, []), (a, b, changed)

def test_bound_to_course_lib():
    m7 = module('nb_07')
    assert m7.Runner is callbacks.Runner and m7.Learner is callbacks.Learner and m7.Recorder is anneal.Recorder
    assert m7.LR_Find is early_stopping.LR_Find and m7.get_data is data.get_data
    assert module('nb_06').conv_layer is cnn.conv_grelu and m7.conv_layer is batchnorm.conv_layer
    assert m7.init_cnn is cnn.init_cnn and m7.RunningBatchNorm is batchnorm.RunningBatchNorm
    assert m7.DataLoader is torch.utils.data.DataLoader and m7.nn is torch.nn and m7.F is torch.nn.functional
    assert m7.MNIST_URL == MNIST_URL
    m7a = module('nb_07a')
    assert m7a.get_batch is lsuv.get_batch and m7a.is_lin_layer is lsuv.is_lin_layer

def test_test_helpers_have_one_home():
    "fastcore's `test`, `test_eq`, `test_close`; `near`, `test_near`, `test_near_zero` from `course_lib.exp`."
    for m in MODULES[1:]:
        mod = module(m)
        assert mod.test is fastcore.test.test and mod.test_eq is fastcore.test.test_eq
        assert mod.test_close is fastcore.test.test_close and mod.near is exp.near and mod.test_near is exp.test_near
    assert module('nb_07').test_near_zero is exp.test_near_zero

def test_no_lesson_module_gives_a_test_helper():
    lessons = [i.name for i in pkgutil.iter_modules(course_lib.__path__) if not i.ispkg and i.name != '_nbdev']
    for name in lessons:
        mod = importlib.import_module(f'course_lib.{name}')
        assert not set(getattr(mod, '__all__', ())) & set(TEST_HELPERS), name

def test_a_module_not_written_yet_does_not_exist():
    with pytest.raises(ModuleNotFoundError): importlib.import_module('course_lib.exp.nb_12c')

# ---------------------------------------------------------------- the test helpers

@given(st.floats(-1e3, 1e3), st.floats(0, 0.5))
def test_near_tolerates_a_thousandth_relative(x, frac):
    a = torch.tensor([x, 1.])
    exp.test_near(a, a * (1 + frac * 1e-3))

def test_near_tells_far_from_near():
    assert exp.near(torch.tensor([1., 2.]), torch.tensor([1.0005, 2.]))
    assert not exp.near(torch.tensor([1., 2.]), torch.tensor([1.01, 2.]))
    with pytest.raises(AssertionError, match='near'): exp.test_near(torch.tensor(1.), torch.tensor(1.1))

def test_near_zero():
    exp.test_near_zero(torch.tensor(-9e-4))
    with pytest.raises(AssertionError, match='Near zero'): exp.test_near_zero(torch.tensor(2e-3))
    exp.test_near_zero(torch.tensor(2e-3), tol=1e-2)

# ---------------------------------------------------------------- the data call

def small_course_file(path):
    x, y = torch.rand(6, 784), torch.arange(6) % 10
    return save_course_file(path, (x, y), (x[:2], y[:2]), (x[:2], y[:2]))

def test_download_data_explains_when_nothing_is_cached():
    with pytest.raises(FileNotFoundError, match="COURSE_LIB_DOWNLOAD.*get_data"):
        exp.datasets.download_data(MNIST_URL, ext='.gz')

def test_download_data_answers_from_the_cache_for_both_urls():
    small_course_file(cache_file())
    for url in (MNIST_URL, 'http://deeplearning.net/data/mnist/mnist.pkl'):
        path = exp.datasets.download_data(url, ext='.gz')
        assert path == cache_file()
    with gzip.open(path, 'rb') as f: (xt, yt), (xv, yv), _ = pickle.load(f, encoding='latin-1')
    assert xt.shape == (6, 784) and xv.shape == (2, 784)

def test_download_data_refuses_other_urls():
    small_course_file(cache_file())
    with pytest.raises(ValueError, match='only knows MNIST'):
        exp.datasets.download_data('https://example.com/imagenette', ext='.tgz')

def test_download_data_checks_the_file_before_the_course_unpickles_it(tmp_path):
    marker = tmp_path/'owned'
    cache_file().parent.mkdir(parents=True)
    cache_file().write_bytes(gzip.compress(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()))
    with pytest.raises(UnsafePickleError): exp.datasets.download_data(MNIST_URL, ext='.gz')
    assert not marker.exists()

def test_download_data_downloads_only_with_consent(monkeypatch):
    calls = []
    def fake_download():
        calls.append(1)
        return small_course_file(cache_file())
    monkeypatch.setattr(exp, 'download_mnist', fake_download)
    with pytest.raises(FileNotFoundError): exp.datasets.download_data(MNIST_URL, ext='.gz')
    assert calls == []
    monkeypatch.setenv('COURSE_LIB_DOWNLOAD', '1')
    assert exp.datasets.download_data(MNIST_URL, ext='.gz') == cache_file() and calls == [1]

# ---------------------------------------------------------------- the course's small pieces

def test_pg_dicts_makes_one_group_per_list():
    ps = [[nn.Parameter(torch.zeros(2))], [nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(1))]]
    opt = torch.optim.SGD(exp.pg_dicts(ps), lr=0.1)
    assert [len(g['params']) for g in opt.param_groups] == [1, 2]

def test_init_cnn_reaches_nested_convolutions():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), nn.Conv2d(4, 4, 3, bias=False), nn.Linear(4, 2))
    before = [p.detach().clone() for p in m.parameters()]
    seen = []
    exp.init_cnn_(m, lambda w, a: (seen.append(a), nn.init.constant_(w, 0.5)))
    assert seen == [0.1, 0.1] and (m[0][0].weight == 0.5).all() and (m[1].weight == 0.5).all()
    assert (m[0][0].bias == 0).all() and torch.equal(m[2].weight, before[3])

def test_nb_auto_export_says_there_is_nothing_to_do():
    out = io.StringIO()
    with redirect_stdout(out): exp.nb_auto_export()
    assert 'nothing to export' in out.getvalue()

# ---------------------------------------------------------------- course_lib's fixes stay

def test_combine_scheds_reaches_the_end():
    m = module('nb_05')
    sched = m.combine_scheds([0.3, 0.7], [m.sched_cos(0.3, 0.6), m.sched_cos(0.6, 0.2)])
    assert sched(1.) == pytest.approx(0.2)

def test_a_callback_returning_true_is_heard():
    m = module('nb_05b')
    class Skip(m.Callback):
        def after_pred(self): return True
    assert m.Runner(cbs=[Skip()])('after_pred') is True

def test_the_courses_05b_calls_run():
    "The calls of the course's 05b (data, learner, a cancelling callback, LR_Find with Recorder) on nb_05b's names."
    ns = {}
    exec('from course_lib.exp.nb_05b import *', ns)
    exec('''
torch.manual_seed(0)
x_train, y_train, x_valid, y_valid = get_data()
data = DataBunch(*get_dls(Dataset(x_train, y_train), Dataset(x_valid, y_valid), 512), y_train.max().item() + 1)
class StopAt(Callback):
    _order = 1
    def after_step(self):
        seen.append(self.n_iter)
        if self.n_iter >= 10: raise CancelTrainException()
seen = []
Runner(cb_funcs=StopAt).fit(3, create_learner(get_model, F.cross_entropy, data))
run = Runner(cb_funcs=[LR_Find, Recorder])
run.fit(2, create_learner(get_model, F.cross_entropy, data))
run.recorder.plot(skip_last=5)
run.recorder.plot_lr()
''', ns)
    assert ns['seen'] == list(range(11))
    assert ns['run'].lr_find.lrs[0] == pytest.approx(1e-6) and len(ns['run'].recorder.losses) > 5


# ---------------------------------------------------------------- nb_07a: the course's `lsuv_module(m, xb)`

COURSE_07A_CALLS = '''
x_train, y_train, x_valid, y_valid = get_data()
x_train, x_valid = normalize_to(x_train, x_valid)
data = DataBunch(*get_dls(Dataset(x_train, y_train), Dataset(x_valid, y_valid), 64), 10)
cbfs = [Recorder, partial(AvgStatsCallback, accuracy), CudaCallback, partial(BatchTransformXCallback, view_tfm(1, 28, 28))]

class ConvRelu(nn.Module):      # the shape of the course's layer: a convolution and a GeneralRelu as attributes
    def __init__(self, ni, nf, ks=3, stride=2, sub=0., **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride)
        self.relu = GeneralRelu(sub=sub, **kwargs)
    def forward(self, x): return self.relu(self.conv(x))

torch.manual_seed(0)
learn, run = get_learn_run([8, 16, 32, 32], data, 0.6, ConvRelu, cbs=cbfs)
xb, yb = get_batch(data.train_dl, run)
mods = find_modules(learn.model, lambda o: isinstance(o, ConvRelu))
mdl = learn.model
stats = [lsuv_module(m, xb) for m in mods]
'''

def test_the_courses_07a_calls_run_and_fix_mean_and_std():
    "The course's calls, `lsuv_module(m, xb)` included, on nb_07a: every layer ends at mean 0 and std 1 (1e-3)."
    ns = {}
    exec('from course_lib.exp.nb_07a import *', ns)
    exec(COURSE_07A_CALLS, ns)
    assert len(ns['stats']) == 4
    for mean, std in ns['stats']: assert abs(mean) < 1e-3 and abs(std - 1) < 1e-3

def test_nb_07a_lsuv_module_is_course_libs_on_the_model_searched():
    "Same weights as course_lib's `lsuv_module(model, m, xb)` on a copy; a global `mdl` naming another model is ignored."
    import copy
    ns = {}
    exec('from course_lib.exp.nb_07a import *', ns)
    torch.manual_seed(0)
    model = ns['get_cnn_model'](types.SimpleNamespace(c=10), [4, 8], cnn.conv_grelu, sub=0.4)
    twin, xb = copy.deepcopy(model), torch.randn(32, 1, 28, 28)
    ns.update(model=model, xb=xb, mdl=nn.Identity())          # the course's global, here a decoy
    exec('for m in find_modules(model, lambda o: isinstance(o, nn.Sequential) and len(o) == 2): '
         'lsuv_module(m, xb)', ns)
    for m in lsuv.find_modules(twin, lambda o: isinstance(o, nn.Sequential) and len(o) == 2):
        lsuv.lsuv_module(twin, m, xb)
    for a, b in zip(model.state_dict().values(), twin.state_dict().values()): assert torch.equal(a, b)

def test_nb_07a_lsuv_module_of_a_layer_never_found_says_what_to_call():
    m7a = module('nb_07a')
    with pytest.raises(ValueError, match=r'find_modules\(model, cond\).*lsuv_module\(model, m, xb\)'):
        m7a.lsuv_module(nn.Conv2d(1, 4, 3), torch.randn(2, 1, 8, 8))

def test_nb_07a_remembers_models_weakly():
    "A layer kept after its model is gone gets the clear error; the memory never keeps a model alive."
    import gc, weakref
    m7a = module('nb_07a')
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    mods, alive = m7a.find_modules(model, m7a.is_lin_layer), weakref.ref(model)
    del model; gc.collect()
    assert alive() is None
    with pytest.raises(ValueError, match='still exists'): m7a.lsuv_module(mods[0], torch.randn(2, 1, 8, 8))
