from bad_cases import Bad
import torch
from torch import nn
from course_lib.batchnorm import BatchNorm, GroupNorm, RunningBatchNorm, fuse_conv_bn, fuse_bn

x4 = lambda *s: torch.randn(*s)

# A wrong shape or dtype in `forward` needs no case here: PyTorch's own error names the sizes (tests/test_batchnorm.py).
CASES = [
    Bad('bn-mom-above-1', lambda: BatchNorm(4, mom=1.5), ValueError, ('mom', '1.5')),
    Bad('bn-mom-nan', lambda: BatchNorm(4, mom=float('nan')), ValueError, ('mom', 'nan')),
    Bad('rbn-mom-negative', lambda: RunningBatchNorm(4, mom=-0.1), ValueError, ('mom', '-0.1')),
    Bad('bn-one-value-per-channel', lambda: BatchNorm(4)(x4(1, 4, 1, 1)), ValueError, ('(1, 4, 1, 1)', '1 value per channel')),
    Bad('bn-empty-batch', lambda: BatchNorm(4)(x4(0, 4, 3, 3)), ValueError, ('(0, 4, 3, 3)', '0 value per channel')),
    Bad('gn-groups-not-dividing', lambda: GroupNorm(4, 6), ValueError, ('num_groups=4', 'nf=6')),
    Bad('fuse-channel-mismatch', lambda: fuse_conv_bn(nn.Conv2d(3, 4, 3), BatchNorm(5)), ValueError, ('conv', '4', 'bn', '5')),
    Bad('fuse-no-running-stats', lambda: fuse_conv_bn(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)),
        ValueError, ('bn', 'track_running_stats')),
    Bad('fuse-bn-nothing-to-fold', lambda: fuse_bn(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), BatchNorm(4))),
        ValueError, ('model', 'nothing to fold')),
]
