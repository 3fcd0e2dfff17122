"""Constants written into a statement's text instead of bound as parameters, where a partial index names them.

With prepared statements (config/settings.py: prepare_threshold) Postgres may keep one plan for a statement a
connection repeats, made for any parameters: its generic plan. That plan cannot use a partial index through a
parameter, since nothing proves `state = $1` implies the index's `state = 'pending'`: forwarding's look-up of
the oldest pending delivery then sorted every pending row of the workspace instead of reading one entry of
`delivery_pending_idx` (forwarding/tests/test_generic_plans.py). A predicate that a partial index must serve
writes its constant with `text_literal`.
"""

import re

from django.db.models import CharField
from django.db.models.expressions import RawSQL

_PLAIN_WORD = re.compile(r"[a-z_]+")


def text_literal(value: str) -> RawSQL:
    """`value` as an SQL string literal in the statement's text: only plain lower-case words (nothing to escape)."""
    value = str(value)
    if not _PLAIN_WORD.fullmatch(value):
        raise ValueError(f"only a plain lower-case word can be written into SQL, not {value!r}")
    return RawSQL(f"'{value}'", (), output_field=CharField())  # noqa: S611 (a plain word, checked above)
