"""Reads for workspaces and sources."""

from collections.abc import Sequence

from workspaces.models import Source
from workspaces.write_keys import write_key_digest


def source_get_by_write_key(key: str, *, with_related: Sequence[str] = ()) -> Source | None:
    """The source a write key belongs to, if the key may write now (enabled, not revoked).

    Its workspace comes in the same query, and so does whatever else `with_related` names
    (select_related paths, e.g. the workspace's one-to-one settings).
    """
    if not key or len(key) > 200:
        return None
    try:
        # get(), not first(): the digest is unique, and first() sorts by Source's ordering (a join and a sort).
        source = Source.objects.select_related("workspace", *with_related).get(write_key_hash=write_key_digest(key))
    except Source.DoesNotExist:
        return None
    if not source.accepts_writes:
        return None
    return source
