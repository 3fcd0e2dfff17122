"""Reads for workspaces and sources."""

import functools
from collections.abc import Sequence

from lib.prepared import PreparedQuery
from workspaces.models import Source
from workspaces.write_keys import write_key_digest


def source_get_by_write_key(key: str, *, with_related: Sequence[str] = ()) -> Source | None:
    """The source a write key belongs to, if the key may write now (enabled, not revoked).

    Its workspace comes in the same query, and so does whatever else `with_related` names
    (select_related paths, e.g. the workspace's one-to-one settings).
    """
    if not key or len(key) > 200:
        return None
    found = _by_write_key_digest(tuple(with_related)).all(write_key_digest(key))
    if not found or not found[0].accepts_writes:
        return None
    return found[0]


@functools.cache
def _by_write_key_digest(with_related: tuple[str, ...]) -> PreparedQuery:
    """Compiled once per thread: every ingest request asks it (lib/prepared.py). The digest is unique, so no
    ORDER BY (Source's ordering would add a join and a sort to the one row)."""
    return PreparedQuery(
        lambda digest: (
            Source.objects.select_related("workspace", *with_related).filter(write_key_hash=digest).order_by()[:1]
        )
    )
