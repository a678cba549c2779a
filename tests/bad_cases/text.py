from types import SimpleNamespace
from bad_cases import Bad
from course_lib.text import LM_PreLoader, NumericalizeProcessor, TokenizeProcessor, SortishSampler

short = SimpleNamespace(x=[list(range(50))])

CASES = [
    Bad('lm-preloader-too-short', lambda: LM_PreLoader(short, bs=8, bptt=10), ValueError, ('bptt=10', 'bs=8')),
    Bad('lm-preloader-bs-zero', lambda: LM_PreLoader(short, bs=0, bptt=10), ValueError, 'bs'),
    Bad('numericalize-max-vocab-below-specials', lambda: NumericalizeProcessor(max_vocab=4), ValueError, 'max_vocab'),
    Bad('tokenize-chunksize-zero', lambda: TokenizeProcessor(chunksize=0), ValueError, 'chunksize'),
    Bad('sortish-bs-float', lambda: SortishSampler([1, 2], key=[1, 2].__getitem__, bs=2.5), TypeError, 'bs'),
]
