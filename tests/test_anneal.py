"Tests for course_lib.anneal: schedules, combine_scheds, ParamScheduler and Recorder."
import math, pickle
from functools import partial

import matplotlib
matplotlib.use('Agg')
import pytest
import torch
from hypothesis import given, assume, strategies as st
from matplotlib.figure import Figure

from course_lib.anneal import (annealer, sched_lin, sched_cos, sched_no, sched_exp, combine_scheds,
                               cos_1cycle_anneal, Recorder, ParamScheduler, create_learner, get_model_func)
from course_lib.callbacks import DataBunch, Learner, Runner
from course_lib.minibatch import Dataset, get_dls, cross_entropy

from strategies import values, positives, closed_positions as positions
SCHEDS = [sched_lin, sched_cos, sched_no, sched_exp]


# --- single schedules --------------------------------------------------------

@pytest.mark.parametrize('f', [sched_lin, sched_cos])
@given(start=values, end=values, pos=positions)
def test_schedule_stays_within_bounds_and_hits_end_points(f, start, end, pos):
    s = f(start, end)
    assert min(start, end) <= s(pos) <= max(start, end)
    assert s(0.) == start and s(1.) == end


@pytest.mark.parametrize('f', [sched_lin, sched_cos, sched_exp])
def test_schedule_with_equal_start_and_end_is_constant(f):
    # (1 - w) * s + w * s can round off s (e.g. s=-7.660297655943231, w=0.6894429709344351): the clamp keeps it exact
    s = 7.660297655943231 if f is sched_exp else -7.660297655943231
    for w in (0.6894429709344351, 0.1, 0.3, 0.7):
        assert f(s, s)(w) == s


@given(start=positives, end=positives, pos=positions)
def test_sched_exp_bounds_end_points_and_log_linearity(start, end, pos):
    s = sched_exp(start, end)
    assert min(start, end) <= s(pos) <= max(start, end)
    assert s(0.) == start and s(1.) == end
    assert math.log(s(pos)) == pytest.approx((1 - pos) * math.log(start) + pos * math.log(end), abs=1e-9)


@given(start=values, end=values, pos=positions)
def test_sched_no_is_constant(start, end, pos):
    assert sched_no(start, end)(pos) == start


def test_schedule_values():
    assert sched_lin(1, 2)(0.5) == 1.5
    assert sched_cos(1, 2)(0.5) == pytest.approx(1.5)
    assert sched_cos(1, 2)(0.25) == pytest.approx(1 + (1 - math.cos(math.pi / 4)) / 2)
    assert sched_exp(1e-3, 1.)(0.5) == pytest.approx(10 ** -1.5)
    assert sched_lin(0.1, 0.01)(1.) == 0.01          # start + (end - start) would give 0.009999999999999995


@pytest.mark.parametrize('f', SCHEDS)
def test_schedules_pickle(f):
    s = f(0.5, 0.05)
    assert isinstance(s, partial) and s.func is f
    restored = pickle.loads(pickle.dumps(s))
    assert [restored(p) for p in (0., 0.3, 1.)] == [s(p) for p in (0., 0.3, 1.)]


def test_annealer_keeps_name_and_doc():
    assert sched_cos.__name__ == 'sched_cos' and 'cosine' in sched_cos.__doc__.lower()
    @annealer
    def double(start, end, pos): return 2 * start
    assert double(3, 4)(0.5) == 6


def test_schedules_accept_a_tensor_grid_ending_at_one():
    grid = torch.linspace(0.01, 1, 100)
    for f in SCHEDS:
        vals = [f(2., 0.01)(p) for p in grid]
        assert vals[-1] == (2. if f is sched_no else 0.01)


@pytest.mark.parametrize('f', SCHEDS)
def test_schedules_reject_bad_positions(f):
    s = f(1., 2.)
    for bad in (-0.01, 1.01, float('inf')):
        with pytest.raises(ValueError, match=r'pos must be in \[0, 1\]'): s(bad)
    with pytest.raises(ValueError, match='pos.*nan'): s(float('nan'))
    with pytest.raises(TypeError, match='pos.*None'): s(None)          # not a schedule built a second time
    with pytest.raises(TypeError, match='pos'): s('half')
    with pytest.raises(TypeError, match='pos'): s(torch.tensor([0.1, 0.2]))


def test_schedules_reject_bad_start_end():
    for bad in [(0., 1.), (1., 0.), (-1., 1.), (1., -2.)]:
        with pytest.raises(ValueError, match='positive'): sched_exp(*bad)
    with pytest.raises(ValueError, match='finite'): sched_lin(float('nan'), 1.)
    with pytest.raises(ValueError, match='finite'): sched_cos(0., float('inf'))
    with pytest.raises(TypeError, match='start'): sched_lin('a', 1.)


# --- combine_scheds ----------------------------------------------------------

def phases(min_pct):
    "Random phases: normalized pcts (each raw weight >= min_pct) and chained end values."
    return st.integers(1, 6).flatmap(lambda n: st.tuples(
        st.lists(st.floats(min_pct, 1), min_size=n, max_size=n),
        st.lists(st.floats(-10, 10), min_size=n + 1, max_size=n + 1),
        st.lists(st.sampled_from([sched_lin, sched_cos]), min_size=n, max_size=n)))


def build(raw, vals, kinds):
    pcts = [w / sum(raw) for w in raw]
    scheds = [k(a, b) for k, a, b in zip(kinds, vals, vals[1:])]
    bounds = [0.]
    for p in pcts: bounds.append(bounds[-1] + p)
    return pcts, scheds, bounds


@given(phases(0.01), st.data())
def test_combine_scheds_follows_the_right_phase(ph, data):
    pcts, scheds, bounds = build(*ph)
    f = combine_scheds(pcts, scheds)
    pos = data.draw(positions)
    assume(pos < bounds[-1])   # (bounds[-1] may round to 1 - 1ulp here; pos == 1 is tested separately)
    i = next(i for i in range(len(pcts)) if bounds[i] <= pos < bounds[i + 1])
    assert f(pos) == pytest.approx(scheds[i]((pos - bounds[i]) / (bounds[i + 1] - bounds[i])), abs=1e-9)


@given(phases(0.01))
def test_combine_scheds_defined_at_ends_and_continuous_at_joins(ph):
    raw, vals, kinds = ph
    pcts, scheds, bounds = build(*ph)
    f = combine_scheds(pcts, scheds)
    assert f(0.) == vals[0]
    assert f(1.) == vals[-1]                      # the last schedule's end value, no index past the end
    for i in range(1, len(pcts)):
        b = bounds[i]
        assert f(b) == pytest.approx(vals[i], abs=1e-9)
        left, right = f(max(b - 1e-9, 0.)), f(min(b + 1e-9, 1.))
        assert left == pytest.approx(vals[i], abs=1e-5) and right == pytest.approx(vals[i], abs=1e-5)


@given(phases(0.), positions)
def test_combine_scheds_with_empty_phases_stays_in_range(ph, pos):
    raw, vals, kinds = ph
    assume(sum(raw) > 0)
    pcts, scheds, _ = build(*ph)
    f = combine_scheds(pcts, scheds)
    assert min(vals) <= f(pos) <= max(vals)
    assert f(1.) == vals[-1]


def test_combine_scheds_example_from_the_lesson():
    f = combine_scheds([0.3, 0.7], [sched_cos(0.3, 0.6), sched_cos(0.6, 0.2)])
    assert (f(0.), f(0.3), f(1.)) == (0.3, 0.6, 0.2)
    assert f(0.5) == pytest.approx(sched_cos(0.6, 0.2)(0.2 / 0.7))

def test_combine_scheds_keeps_its_own_phases():
    "The closure holds its own bounds and schedules: changing the lists it was built from afterwards changes nothing."
    pcts, scheds = [0.3, 0.7], [sched_cos(0.3, 0.6), sched_cos(0.6, 0.2)]
    f = combine_scheds(pcts, scheds)
    before = [f(p) for p in (0., 0.2, 0.5, 1.)]
    pcts[:] = [0.9, 0.1]; scheds.reverse()
    assert [f(p) for p in (0., 0.2, 0.5, 1.)] == before
    vals = [f(p) for p in torch.linspace(0.01, 1, 100)]
    assert vals[-1] == 0.2


def test_combine_scheds_tolerates_rounding_in_pcts():
    f = combine_scheds([0.1] * 10, [sched_lin(i, i + 1) for i in range(10)])
    assert f(1.) == 10. and f(0.) == 0.
    assert f(0.55) == pytest.approx(5.5)
    g = combine_scheds(torch.tensor([0.3, 0.7]), [sched_no(1, 1), sched_no(2, 2)])   # float32 pcts
    assert (g(0.2), g(0.9)) == (1, 2)


def test_combine_scheds_rejects_bad_input():
    s = [sched_lin(0, 1), sched_lin(1, 0)]
    with pytest.raises(ValueError, match='sum to 1'): combine_scheds([0.3, 0.6], s)
    with pytest.raises(ValueError, match=r'pcts\[1\].*>= 0.*-0.2'): combine_scheds([1.2, -0.2], s)
    with pytest.raises(ValueError, match=r'pcts\[0\].*nan'): combine_scheds([float('nan'), 1.], s)
    with pytest.raises(TypeError, match=r'pcts\[1\].*None'): combine_scheds([0.5, None], s)
    with pytest.raises(TypeError, match='pcts must be a list'): combine_scheds(None, s)
    with pytest.raises(ValueError, match='same length'): combine_scheds([0.3, 0.7], s[:1])
    with pytest.raises(ValueError, match='at least one'): combine_scheds([], [])
    with pytest.raises(TypeError, match=r'scheds\[1\] must be callable'): combine_scheds([0.5, 0.5], [s[0], 3])
    f = combine_scheds([0.3, 0.7], s)
    for bad in (-0.1, 1.0001):
        with pytest.raises(ValueError, match=r'\[0, 1\]'): f(bad)
    with pytest.raises(TypeError, match='pos'): f(None)


def test_cos_1cycle_anneal():
    f = combine_scheds([0.25, 0.75], cos_1cycle_anneal(0.1, 1.0, 0.001))
    grid = [i / 200 for i in range(201)]
    assert (f(0.), f(0.25), f(1.)) == (0.1, 1.0, 0.001)
    assert max(f(p) for p in grid) == 1.0
    vals = [f(p) for p in grid]
    up, down = vals[:51], vals[50:]
    assert all(a <= b for a, b in zip(up, up[1:])) and all(a >= b for a, b in zip(down, down[1:]))


# --- callbacks ----------------------------------------------------------------

def tiny_data(n=96, n_in=8, c=3, bs=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, n_in, generator=g), torch.randint(0, c, (n,), generator=g)
    ds = Dataset(x, y)
    return DataBunch(*get_dls(ds, Dataset(x[:32], y[:32]), bs, generator=g), c=c)


def test_create_learner_and_get_model_func():
    torch.manual_seed(0)
    data = tiny_data()
    learn = create_learner(get_model_func(0.25), cross_entropy, data)
    assert isinstance(learn, Learner) and learn.data is data and learn.loss_func is cross_entropy
    assert learn.opt.param_groups[0]['lr'] == 0.25
    assert learn.model(torch.zeros(2, 8)).shape == (2, 3)
    assert get_model_func().keywords == {'lr': 0.5}


@pytest.mark.parametrize('epochs', [1, 3])
def test_param_scheduler_follows_schedule_recorded_by_recorder(epochs):
    torch.manual_seed(0)
    data = tiny_data()
    sched = combine_scheds([0.3, 0.7], cos_1cycle_anneal(0.01, 0.3, 0.001))
    learn = create_learner(get_model_func(), cross_entropy, data)
    run = Runner(cb_funcs=[Recorder, partial(ParamScheduler, 'lr', sched)])
    run.fit(epochs, learn)
    total = epochs * len(data.train_dl)
    lrs = run.recorder.lrs
    assert len(lrs) == 1 and len(lrs[0]) == total == len(run.recorder.losses)
    assert lrs[0] == pytest.approx([sched(k / total) for k in range(total)], abs=1e-12)
    assert learn.opt.param_groups[0]['lr'] == lrs[0][-1]     # validation batches did not change it


def test_param_scheduler_with_several_parameter_groups():
    torch.manual_seed(0)
    data = tiny_data()
    learn = create_learner(get_model_func(), cross_entropy, data)
    learn.opt = torch.optim.SGD([{'params': learn.model[0].parameters()},
                                 {'params': learn.model[2].parameters()}], lr=0.1, momentum=0.9)
    scheds = [sched_lin(0.01, 0.02), sched_cos(0.2, 0.1)]
    run = Runner(cb_funcs=[Recorder, partial(ParamScheduler, 'lr', scheds),
                           partial(ParamScheduler, 'momentum', sched_lin(0.8, 0.95))])
    # two ParamSchedulers share a name; the last one added is run.param_scheduler, both are in run.cbs
    run.fit(2, learn)
    total = 2 * len(data.train_dl)
    for lrs, s in zip(run.recorder.lrs, scheds):
        assert lrs == pytest.approx([s(k / total) for k in range(total)], abs=1e-12)
    last = (total - 1) / total
    assert [pg['momentum'] for pg in learn.opt.param_groups] == pytest.approx([sched_lin(0.8, 0.95)(last)] * 2)


def test_param_scheduler_rejects_bad_input():
    data = tiny_data()
    learn = create_learner(get_model_func(), cross_entropy, data)
    with pytest.raises(TypeError, match='callable'): ParamScheduler('lr', 0.1)
    with pytest.raises(ValueError, match='at least one'): ParamScheduler('lr', [])
    with pytest.raises(ValueError, match='parameter groups'):
        Runner(cbs=ParamScheduler('lr', [sched_lin(1, 2)] * 2)).fit(1, learn)
    with pytest.raises(ValueError, match="'betas'"):
        Runner(cbs=ParamScheduler('betas', sched_lin(1, 2))).fit(1, learn)


def test_recorder_plots_return_figures():
    torch.manual_seed(0)
    data = tiny_data()
    learn = create_learner(get_model_func(0.1), cross_entropy, data)
    rec = Recorder()
    with pytest.raises(ValueError, match='nothing'): rec.plot_loss()
    Runner(cbs=rec).fit(2, learn)
    n = 2 * len(data.train_dl)
    assert len(rec.losses) == n and all(isinstance(l, torch.Tensor) and l.ndim == 0 and not l.requires_grad for l in rec.losses)
    fig = rec.plot_loss(skip_last=3)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines[0].get_ydata()) == n - 3
    fig = rec.plot_lr()
    assert isinstance(fig, Figure) and list(fig.axes[0].lines[0].get_ydata()) == [0.1] * n
    with pytest.raises(ValueError, match='pgid'): rec.plot_lr(1)
    with pytest.raises(ValueError, match='skip_last'): rec.plot_loss(skip_last=n)
    with pytest.raises(ValueError, match='skip_last'): rec.plot_loss(skip_last=-1)


def test_recorder_plot_is_loss_against_lr_on_a_log_axis():
    torch.manual_seed(0)
    data = tiny_data()
    learn = create_learner(get_model_func(), cross_entropy, data)
    rec = Recorder()
    Runner(cbs=[rec, ParamScheduler('lr', sched_exp(1e-3, 1.))]).fit(1, learn)
    n = len(data.train_dl)
    fig = rec.plot(skip_last=2)
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and ax.get_xscale() == 'log'
    xs, ys = ax.lines[0].get_data()
    assert list(xs) == rec.lrs[-1][:n - 2] and list(ys) == pytest.approx(torch.stack(rec.losses[:n - 2]).tolist())
    assert len(rec.plot().axes[0].lines[0].get_xdata()) == n
    with pytest.raises(ValueError, match='skip_last'): rec.plot(skip_last=n)
    with pytest.raises(ValueError, match='pgid'): rec.plot(pgid=2)
