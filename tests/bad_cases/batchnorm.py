from bad_cases import Bad
import torch
from torch import nn
from course_lib.batchnorm import BatchNorm, LayerNorm, InstanceNorm, GroupNorm, RunningBatchNorm, fuse_conv_bn, fuse_bn

x4 = lambda *s: torch.randn(*s)

CASES = [
    Bad('bn-nf-zero', lambda: BatchNorm(0), ValueError, ('nf', '0')),
    Bad('bn-nf-negative', lambda: BatchNorm(-3), ValueError, ('nf', '-3')),
    Bad('bn-nf-float', lambda: BatchNorm(4.5), TypeError, ('nf', '4.5')),
    Bad('bn-mom-above-1', lambda: BatchNorm(4, mom=1.5), ValueError, ('mom', '1.5')),
    Bad('bn-eps-zero', lambda: BatchNorm(4, eps=0.), ValueError, ('eps', '0.0')),
    Bad('bn-eps-nan', lambda: BatchNorm(4, eps=float('nan')), ValueError, ('eps', 'nan')),
    Bad('bn-3d-input', lambda: BatchNorm(4)(x4(2, 4, 5)), ValueError, ('x', '(2, 4, 5)')),
    Bad('bn-wrong-channels', lambda: BatchNorm(4)(x4(2, 3, 5, 5)), ValueError, ('x', '4 channels', '(2, 3, 5, 5)')),
    Bad('bn-one-value-per-channel', lambda: BatchNorm(4)(x4(1, 4, 1, 1)), ValueError, ('x', '(1, 4, 1, 1)', 'too few')),
    Bad('bn-int-input', lambda: BatchNorm(4)(torch.ones(2, 4, 3, 3, dtype=torch.int64)), TypeError, ('x', 'int64')),
    Bad('bn-not-tensor', lambda: BatchNorm(4)([[1., 2.]]), TypeError, ('x', 'list')),
    Bad('bn-empty-batch', lambda: BatchNorm(4)(x4(0, 4, 3, 3)), ValueError, ('x', '(0, 4, 3, 3)')),
    Bad('ln-eps-negative', lambda: LayerNorm(eps=-1e-5), ValueError, ('eps', '-1e-05')),
    Bad('ln-2d-input', lambda: LayerNorm()(x4(8, 10)), ValueError, ('x', '(8, 10)')),
    Bad('in-nf-zero', lambda: InstanceNorm(0), ValueError, ('nf', '0')),
    Bad('in-wrong-channels', lambda: InstanceNorm(4)(x4(2, 5, 3, 3)), ValueError, ('x', '4 channels', '(2, 5, 3, 3)')),
    Bad('in-1x1-map', lambda: InstanceNorm(4)(x4(8, 4, 1, 1)), ValueError, ('x', '(8, 4, 1, 1)', 'too few')),
    Bad('gn-groups-not-dividing', lambda: GroupNorm(4, 6), ValueError, ('num_groups', '4', 'nf=6')),
    Bad('gn-groups-zero', lambda: GroupNorm(0, 6), ValueError, ('num_groups', '0')),
    Bad('gn-groups-float', lambda: GroupNorm(2.0, 6), TypeError, ('num_groups', '2.0')),
    Bad('gn-nf-zero', lambda: GroupNorm(1, 0), ValueError, ('nf', '0')),
    Bad('gn-3d-input', lambda: GroupNorm(2, 4)(x4(2, 4, 9)), ValueError, ('x', '(2, 4, 9)')),
    Bad('gn-one-value-per-group', lambda: GroupNorm(4, 4)(x4(3, 4, 1, 1)), ValueError, ('x', 'group', '(3, 4, 1, 1)')),
    Bad('rbn-nf-zero', lambda: RunningBatchNorm(0), ValueError, ('nf', '0')),
    Bad('rbn-mom-negative', lambda: RunningBatchNorm(4, mom=-0.1), ValueError, ('mom', '-0.1')),
    Bad('rbn-wrong-channels', lambda: RunningBatchNorm(4)(x4(2, 2, 3, 3)), ValueError, ('x', '4 channels', '(2, 2, 3, 3)')),
    Bad('rbn-3d-input', lambda: RunningBatchNorm(4)(x4(2, 4, 3)), ValueError, ('x', '(2, 4, 3)')),
    Bad('fuse-not-conv', lambda: fuse_conv_bn(nn.Linear(3, 4), BatchNorm(4)), TypeError, ('conv', 'Linear')),
    Bad('fuse-not-bn', lambda: fuse_conv_bn(nn.Conv2d(3, 4, 3), nn.ReLU()), TypeError, ('bn', 'ReLU')),
    Bad('fuse-channel-mismatch', lambda: fuse_conv_bn(nn.Conv2d(3, 4, 3), BatchNorm(5)), ValueError, ('conv', '4', 'bn', '5')),
    Bad('fuse-no-running-stats', lambda: fuse_conv_bn(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)),
        ValueError, ('bn', 'track_running_stats')),
    Bad('fuse-bn-nothing-to-fold', lambda: fuse_bn(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), BatchNorm(4))),
        ValueError, ('model', 'Sequential', 'nothing to fold')),
]

from course_lib.batchnorm import conv_layer

CASES += [
    Bad('conv-layer-ni-zero', lambda: conv_layer(0, 8), ValueError, ('ni', '0')),
    Bad('conv-layer-ks-zero', lambda: conv_layer(1, 8, ks=0), ValueError, ('ks', '0')),
    Bad('conv-layer-stride-float', lambda: conv_layer(1, 8, stride=1.5), TypeError, ('stride', '1.5')),
    Bad('conv-layer-norm-not-callable', lambda: conv_layer(1, 8, norm='batch'), TypeError, ('norm', "'batch'")),
    Bad('ln-nf-zero', lambda: LayerNorm(0), ValueError, ('nf', '0')),
    Bad('ln-wrong-channels', lambda: LayerNorm(4)(x4(2, 3, 5, 5)), ValueError, ('x', '4 channels', '(2, 3, 5, 5)')),
]
