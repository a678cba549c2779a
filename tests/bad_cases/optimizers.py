from bad_cases import Bad
import torch
from torch import nn
from course_lib.optimizers import sgd_opt, adam_opt

p, q = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))

def _used_up_generator():
    "A generator of parameters that was consumed before the optimizer saw it: nothing would ever train."
    ps = (x for x in [p, q])
    list(ps)
    sgd_opt(ps, lr=0.1)

def _load_into_other_groups():
    "The state of a one-group optimizer loaded into a two-group one: zip would pair them silently."
    sd = adam_opt()([p, q], lr=0.1).state_dict()
    adam_opt()([[p], [q]], lr=0.1).load_state_dict(sd)

CASES = [
    Bad('opt-no-params', _used_up_generator, ValueError, ('params', 'no parameters')),
    Bad('opt-param-twice', lambda: sgd_opt([[p], [p]], lr=0.1), ValueError, ('params', 'twice')),
    Bad('opt-param-twice-in-a-group', lambda: sgd_opt([p, p], lr=0.1), ValueError, ('params', 'twice')),
    Bad('opt-load-other-groups', _load_into_other_groups, ValueError, ('state_dict', '[2]', '[1, 1]')),
]
