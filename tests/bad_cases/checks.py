from bad_cases import Bad
import torch
from course_lib.checks import *

CASES = [
    Bad('int-float', lambda: check_int('bs', 2.5), TypeError, ('bs', '2.5')),
    Bad('int-bool', lambda: check_int('bs', True), TypeError, ('bs', 'True')),
    Bad('int-min', lambda: check_int('bs', 0, min=1), ValueError, ('bs', '0')),
    Bad('number-nan', lambda: check_number('lr', float('nan')), ValueError, ('lr', 'nan')),
    Bad('number-str', lambda: check_number('lr', 'x'), TypeError, ('lr', "'x'")),
    Bad('choice', lambda: check_choice('source', 'web', ('a',)), ValueError, ('source', "'web'")),
]
