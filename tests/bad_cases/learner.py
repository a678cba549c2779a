"Bad input for course_lib.learner: lesson 04's Learner arguments, and the callbacks the runner refuses, given to the Learner."
import torch
import torch.nn.functional as F
from torch import nn
from bad_cases import Bad
from course_lib.callbacks import Callback, DataBunch
from course_lib.learner import Learner

def _model(): return nn.Linear(4, 3)

def _data():
    ds = torch.utils.data.TensorDataset(torch.randn(8, 4), torch.arange(8) % 3)
    return DataBunch(torch.utils.data.DataLoader(ds, batch_size=4), torch.utils.data.DataLoader(ds, batch_size=4), c=3)

def _lesson_04_order():
    m = _model()
    Learner(m, torch.optim.SGD(m.parameters(), lr=0.1), F.cross_entropy, _data())

class Lr(Callback): pass          # its name, 'lr', would hide the learner's learning rate

CASES = [
    Bad('learner-04-arguments', _lesson_04_order, TypeError, ('data', 'optimizer', "lesson 04")),
    Bad('learner-cb-hides-lr', lambda: Learner(_model(), _data(), F.cross_entropy, cbs=Lr()), ValueError, ('cbs', "'lr'")),
    Bad('learner-fit-cb-class', lambda: Learner(_model(), _data(), F.cross_entropy).fit(1, cbs=Lr), TypeError,
        ('cbs', 'Lr')),
]
