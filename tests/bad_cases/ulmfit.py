import torch
from bad_cases import Bad
from course_lib.ulmfit import match_embeds, PoolingLinearClassifier, SentenceEncoder

emb = {'0.emb.weight': torch.zeros(3, 2)}

CASES = [
    Bad('match-embeds-vocab-not-rows', lambda: match_embeds(emb, ['a', 'b'], ['a']), ValueError, ('old_vocab', '2')),
    Bad('match-embeds-no-embedding', lambda: match_embeds({'w': torch.zeros(3)}, 'abc', 'a'), ValueError, 'old_wgts'),
    Bad('pooling-classifier-drops-short', lambda: PoolingLinearClassifier([6, 5, 3], [0.1]), ValueError, 'drops'),
    Bad('sentence-encoder-bptt-zero', lambda: SentenceEncoder(torch.nn.Identity(), 0), ValueError, 'bptt'),
]
