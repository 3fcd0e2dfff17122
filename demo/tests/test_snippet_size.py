"""seam.js stays within the snippet's size budget: 5 KB gzipped (README: Browser snippet and demo store)."""

import gzip

from django.conf import settings

BUDGET_BYTES = 5 * 1024


def test_it_keeps_the_snippet_within_5_kb_gzipped():
    snippet = (settings.BASE_DIR / "static" / "seam" / "seam.js").read_bytes()
    # `gzip -9c seam.js` is 8 bytes larger: its header also carries the file name.
    size = len(gzip.compress(snippet, compresslevel=9))
    assert size <= BUDGET_BYTES, f"seam.js is {size} bytes gzipped, over the {BUDGET_BYTES}-byte budget"
