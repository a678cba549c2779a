"Bad input for course_lib.anneal: what a schedule, combine_scheds and ParamScheduler check once, where they are built."
import torch
import torch.nn.functional as F
from bad_cases import Bad
from course_lib.anneal import *
from course_lib.callbacks import DataBunch, Runner

def _data():
    x, y = torch.randn(16, 4), torch.arange(16) % 3
    dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)
    return DataBunch(dl, dl, c=3)

def _fit_with(cb, opt=None):
    learn = create_learner(get_model_func(0.1), F.cross_entropy, _data())
    if opt is not None: learn.opt = opt(learn.model.parameters())
    Runner(cbs=cb).fit(1, learn)

S = [sched_lin(0, 1), sched_lin(1, 0)]

CASES = [
    Bad('an-exp-start-zero', lambda: sched_exp(0, 1), ValueError, ('sched_exp', 'positive', '0')),
    Bad('an-exp-end-negative', lambda: sched_exp(1, -2), ValueError, ('sched_exp', 'positive', '-2')),
    Bad('an-combine-sum', lambda: combine_scheds([0.3, 0.6], S), ValueError, ('pcts', 'sum to 1', '0.6')),
    Bad('an-combine-negative', lambda: combine_scheds([1.2, -0.2], S), ValueError, ('pcts', '>= 0', '-0.2')),
    Bad('an-combine-nan', lambda: combine_scheds([float('nan'), 1.], S), ValueError, ('pcts', 'nan')),
    Bad('an-combine-lengths', lambda: combine_scheds([0.3, 0.7], S[:1]), ValueError, ('pcts', 'one per schedule')),
    Bad('an-combine-extra-pct', lambda: combine_scheds([0.3, 0.7, 0.], S), ValueError, ('pcts', 'one per schedule')),
    Bad('an-combine-empty', lambda: combine_scheds([], []), ValueError, ('pcts', 'sum to 1')),
    Bad('an-combine-sched-number', lambda: combine_scheds([0.5, 0.5], [S[0], 0.6]), ValueError, ('one per schedule', 'function')),
    Bad('an-psched-groups', lambda: _fit_with(ParamScheduler('lr', S)), ValueError, ('sched_funcs', '2', '1')),
    Bad('an-psched-empty', lambda: _fit_with(ParamScheduler('lr', [])), ValueError, ('sched_funcs', '0')),
    Bad('an-psched-unknown-hyper', lambda: _fit_with(ParamScheduler('mom', S[0])), ValueError, ('pname', "'mom'")),
    Bad('an-psched-params', lambda: _fit_with(ParamScheduler('params', S[0])), ValueError, ('pname', "'params'")),
    Bad('an-psched-bool', lambda: _fit_with(ParamScheduler('nesterov', S[0])), ValueError, ('pname', "'nesterov'")),
    Bad('an-psched-adam-betas', lambda: _fit_with(ParamScheduler('betas', S[0]), torch.optim.Adam), ValueError, ('pname', "'betas'")),
]
