from bad_cases import Bad
from course_lib.fp16 import MixedPrecision

CASES = [
    Bad('mp-loss-scale-zero', lambda: MixedPrecision(loss_scale=0), ValueError, ('loss_scale', '0')),
    Bad('mp-max-loss-scale-negative', lambda: MixedPrecision(max_loss_scale=-1.), ValueError, ('max_loss_scale', '-1')),
    Bad('mp-div-factor-one', lambda: MixedPrecision(div_factor=1), ValueError, ('div_factor', '1')),   # the scale would never move
    Bad('mp-scale-wait-zero', lambda: MixedPrecision(scale_wait=0), ValueError, ('scale_wait', '0')),  # would never grow
    Bad('mp-scale-wait-float', lambda: MixedPrecision(scale_wait=2.5), TypeError, ('scale_wait',)),
]
