from bad_cases import Bad
from course_lib.exp import datasets

CASES = [
    Bad('exp-download-data-other-url', lambda: datasets.download_data('https://example.com/imagenette', ext='.tgz'),
        ValueError, ('download_data', 'https://example.com/imagenette.tgz')),
]
