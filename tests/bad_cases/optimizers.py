from bad_cases import Bad
import torch
from torch import nn
from course_lib.optimizers import sgd_opt, adam_opt

p, q = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))

def _load_into_other_groups():
    "The state of a one-group optimizer loaded into a two-group one: zip would pair them silently."
    sd = adam_opt()([p, q], lr=0.1).state_dict()
    adam_opt()([[p], [q]], lr=0.1).load_state_dict(sd)

CASES = [
    Bad('opt-param-twice', lambda: sgd_opt([[p], [p]], lr=0.1), ValueError, ('params', 'twice')),
    Bad('opt-param-twice-in-a-group', lambda: sgd_opt([p, p], lr=0.1), ValueError, ('params', 'twice')),
    Bad('opt-load-other-groups', _load_into_other_groups, ValueError, ('state_dict', '[2]', '[1, 1]')),
]
