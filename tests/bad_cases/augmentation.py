from bad_cases import Bad
from course_lib.augmentation import PilRandomFlip, PilRandomDihedral, RandomResizedCrop

CASES = [
    Bad('aug-flip-p-as-per-cent', lambda: PilRandomFlip(50), ValueError, ('p', '50')),
    Bad('aug-flip-p-negative', lambda: PilRandomFlip(-0.5), ValueError, ('p', '-0.5')),
    Bad('aug-dihedral-p-as-per-cent', lambda: PilRandomDihedral(75), ValueError, ('p', '75')),
    Bad('aug-dihedral-p-not-a-number', lambda: PilRandomDihedral('0.5'), TypeError, ('p', "'0.5'")),
    Bad('aug-rrc-scale-reversed', lambda: RandomResizedCrop(64, scale=(1., 0.08)), ValueError, ('scale', '(1.0, 0.08)')),
    Bad('aug-rrc-scale-above-1', lambda: RandomResizedCrop(64, scale=(0.5, 2)), ValueError, ('scale', '(0.5, 2)')),
    Bad('aug-rrc-ratio-reversed', lambda: RandomResizedCrop(64, ratio=(4 / 3, 3 / 4)), ValueError, ('ratio',)),
    Bad('aug-rrc-ratio-zero', lambda: RandomResizedCrop(64, ratio=(0, 1)), ValueError, ('ratio', '(0, 1)')),
]
