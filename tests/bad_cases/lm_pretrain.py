import tempfile
from pathlib import Path
from bad_cases import Bad
from course_lib.awd_lstm import get_language_model
from course_lib.lm_pretrain import save_pretrained

def _save_wrong_vocab():
    save_pretrained(Path(tempfile.mkdtemp())/'lm', get_language_model(5, 4, 6, 1, 1), ['a', 'b'])

CASES = [
    Bad('save-pretrained-vocab-not-rows', _save_wrong_vocab, ValueError, ('vocab', '2')),
]
