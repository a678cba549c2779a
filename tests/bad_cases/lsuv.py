from bad_cases import Bad
import torch
from torch import nn
from course_lib.lsuv import lsuv_module

relu_only = nn.Sequential(nn.ReLU())
no_bias = nn.Linear(3, 3, bias=False)

CASES = [
    Bad('lsuv-nothing-to-scale', lambda: lsuv_module(relu_only, relu_only[0], torch.randn(4, 3)), ValueError, ('m', 'ReLU')),
    Bad('lsuv-linear-without-bias', lambda: lsuv_module(no_bias, no_bias, torch.randn(4, 3)), ValueError, ('m', 'bias')),
]
