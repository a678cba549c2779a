"Bad input for course_lib.anneal: schedules, combine_scheds, ParamScheduler, Recorder and the learner helpers."
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.anneal import *
from course_lib.callbacks import DataBunch, Runner

def _data():
    x, y = torch.randn(16, 4), torch.arange(16) % 3
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)
    return DataBunch(dl, dl, c=3)

def _recorded():
    rec = Recorder()
    Runner(cbs=rec).fit(1, create_learner(get_model_func(0.1), F.cross_entropy, _data()))
    return rec          # 4 training batches, one parameter group

def _fit_with(cb): Runner(cbs=cb).fit(1, create_learner(get_model_func(0.1), F.cross_entropy, _data()))

S = [sched_lin(0, 1), sched_lin(1, 0)]
one_cycle = combine_scheds([0.3, 0.7], S)

CASES = [
    Bad('an-pos-none', lambda: sched_lin(0, 1)(None), TypeError, ('pos', 'None')),
    Bad('an-pos-above', lambda: sched_lin(0, 1)(1.5), ValueError, ('pos', '1.5')),
    Bad('an-pos-below', lambda: sched_cos(0, 1)(-0.1), ValueError, ('pos', '-0.1')),
    Bad('an-pos-nan', lambda: sched_cos(0, 1)(float('nan')), ValueError, ('pos', 'nan')),
    Bad('an-pos-str', lambda: sched_no(0, 1)('half'), TypeError, ('pos', "'half'")),
    Bad('an-pos-vector', lambda: sched_exp(1, 2)(torch.tensor([0.1, 0.2])), TypeError, ('pos', '(2,)')),
    Bad('an-start-str', lambda: sched_lin('a', 1), TypeError, ('start', "'a'")),
    Bad('an-end-none', lambda: sched_cos(0, None), TypeError, ('end', 'None')),
    Bad('an-start-nan', lambda: sched_lin(float('nan'), 1), ValueError, ('start', 'nan')),
    Bad('an-end-inf', lambda: sched_no(0, float('inf')), ValueError, ('end', 'inf')),
    Bad('an-exp-start-zero', lambda: sched_exp(0, 1), ValueError, ('start', '0.0')),
    Bad('an-exp-end-negative', lambda: sched_exp(1, -2), ValueError, ('end', '-2.0')),
    Bad('an-annealer-not-callable', lambda: annealer(3), TypeError, ('f', '3')),
    Bad('an-combine-none-pct', lambda: combine_scheds([0.5, None], S), TypeError, ('pcts[1]', 'None')),
    Bad('an-combine-sum', lambda: combine_scheds([0.3, 0.6], S), ValueError, ('pcts', 'sum to 1')),
    Bad('an-combine-negative', lambda: combine_scheds([1.2, -0.2], S), ValueError, ('pcts[1]', '-0.2')),
    Bad('an-combine-nan', lambda: combine_scheds([float('nan'), 1.], S), ValueError, ('pcts[0]', 'nan')),
    Bad('an-combine-str-pct', lambda: combine_scheds(['0.5', 0.5], S), TypeError, ('pcts[0]', "'0.5'")),
    Bad('an-combine-lengths', lambda: combine_scheds([0.3, 0.7], S[:1]), ValueError, ('pcts', 'scheds', '2', '1')),
    Bad('an-combine-empty', lambda: combine_scheds([], []), ValueError, ('pcts', 'scheds')),
    Bad('an-combine-pcts-none', lambda: combine_scheds(None, S), TypeError, ('pcts', 'NoneType')),
    Bad('an-combine-scheds-int', lambda: combine_scheds([1.], 5), TypeError, ('scheds', 'int')),
    Bad('an-combine-sched-not-callable', lambda: combine_scheds([0.5, 0.5], [S[0], 3]), TypeError, ('scheds[1]', '3')),
    Bad('an-combined-pos-none', lambda: one_cycle(None), TypeError, ('pos', 'None')),
    Bad('an-combined-pos-above', lambda: one_cycle(2), ValueError, ('pos', '2')),
    Bad('an-1cycle-high-none', lambda: cos_1cycle_anneal(0.1, None, 0.01), TypeError, ('high', 'None')),
    Bad('an-1cycle-start-str', lambda: cos_1cycle_anneal('x', 1, 0.1), TypeError, ('start', "'x'")),
    Bad('an-1cycle-end-nan', lambda: cos_1cycle_anneal(0.1, 1, float('nan')), ValueError, ('end', 'nan')),
    Bad('an-psched-number', lambda: ParamScheduler('lr', 0.1), TypeError, ('sched_funcs[0]', '0.1')),
    Bad('an-psched-empty', lambda: ParamScheduler('lr', []), ValueError, ('sched_funcs',)),
    Bad('an-psched-pname-int', lambda: ParamScheduler(3, sched_lin(0, 1)), TypeError, ('pname', '3')),
    Bad('an-psched-groups', lambda: _fit_with(ParamScheduler('lr', S)), ValueError, ('sched_funcs', '2', '1')),
    Bad('an-psched-unknown-hyper', lambda: _fit_with(ParamScheduler('betas', sched_lin(0, 1))), ValueError, ('pname', "'betas'")),
    Bad('an-rec-before-fit', lambda: Recorder().plot_loss(), ValueError, ('Recorder', 'fit')),
    Bad('an-rec-plot-before-fit', lambda: Recorder().plot(), ValueError, ('Recorder', 'fit')),
    Bad('an-rec-pgid-range', lambda: _recorded().plot_lr(pgid=1), ValueError, ('pgid', '1')),
    Bad('an-rec-pgid-float', lambda: _recorded().plot(pgid=0.5), TypeError, ('pgid', '0.5')),
    Bad('an-rec-skip-all', lambda: _recorded().plot_loss(skip_last=4), ValueError, ('skip_last', '4')),
    Bad('an-rec-skip-negative', lambda: _recorded().plot(skip_last=-1), ValueError, ('skip_last', '-1')),
    Bad('an-create-learner-none', lambda: create_learner(None, F.cross_entropy, _data()), TypeError, ('model_func', 'None')),
    Bad('an-create-learner-loss-str', lambda: create_learner(get_model_func(), 'ce', _data()), TypeError, ('loss_func', "'ce'")),
    Bad('an-model-func-lr-negative', lambda: get_model_func(lr=-0.1), ValueError, ('lr', '-0.1')),
    Bad('an-model-func-lr-str', lambda: get_model_func(lr='fast'), TypeError, ('lr', "'fast'")),
]
