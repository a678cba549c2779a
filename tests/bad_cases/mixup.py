from bad_cases import Bad
from course_lib.mixup import MixUp, LabelSmoothingCrossEntropy

CASES = [
    # α ≤ 0 or nan: PyTorch's Beta refuses it when MixUp is made, naming its concentration and the value
    Bad('mixup-alpha-zero', lambda: MixUp(0), ValueError, ('concentration', '0.')),
    Bad('mixup-alpha-negative', lambda: MixUp(-0.4), ValueError, ('concentration', '-0.4')),
    Bad('mixup-alpha-nan', lambda: MixUp(float('nan')), ValueError, ('concentration', 'nan')),
    Bad('label-smoothing-eps-above-1', lambda: LabelSmoothingCrossEntropy(1.5), ValueError, ('ε', '1.5')),
    Bad('label-smoothing-eps-negative', lambda: LabelSmoothingCrossEntropy(-0.1), ValueError, ('ε', '-0.1')),
    Bad('label-smoothing-reduction', lambda: LabelSmoothingCrossEntropy(reduction='avg'), ValueError,
        ('reduction', 'avg')),
]
