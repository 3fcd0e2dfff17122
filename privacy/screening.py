"""What ingest does with accepted messages before storing them: the privacy and trust checks.

- A message for a deleted or suppressed person (its user id, email, previous id, or — with no user
  id — its anonymous id is on the suppression list) is dropped: nothing of it is stored but a
  RejectedMessage row without payload (code `suppressed`), so drops are counted. The client still
  gets 200: the message was received, and is not retried. An anonymous id on the list beside a user
  id that is not (a shared device) is removed from the message, which is kept.
- context.ip is truncated (IPv4 /24, IPv6 /48), kept or dropped, per SEAM_IP_HANDLING; in the payload
  kept of a rejected message too.
- `context.seam.user_hash` is checked, for browser sources that require identity verification, and
  removed from every message: an identify or alias it does not verify is flagged
  `identity_unverified`, which identity resolution honours (no merge, no traits).

messages_screen runs for each request (events/services.py: events_received) and reads nothing. The suppression
list is read where messages are stored (events/services.py: events_store calls suppression_screen), once for a
group commit's requests together, and its drops are recorded in the store's own transaction; it changes no
message in place, so a group that fails is screened again, alike, when its requests are stored one by one.
"""

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.conf import settings

from events.ingest.batch import ReadMessages, Rejection
from identities.normalize import email_normalize
from identities.services import UNVERIFIED_IDENTITY_FLAG
from privacy.identifiers import identifier_digest
from privacy.selectors import suppressed_digests
from workspaces.identity_verification import identity_hash_matches
from workspaces.models import Source

UNVERIFIED = UNVERIFIED_IDENTITY_FLAG
SUPPRESSED_ID_REMOVED = "suppressed_id_removed"
SUPPRESSED_CODE = "suppressed"  # a dropped message's RejectedMessage, recorded by events_store
SUPPRESSED_MESSAGE = "dropped: an identifier of a deleted or suppressed person"
VERIFIED_TYPES = ("identify", "alias")


@dataclass(frozen=True, slots=True)
class Screened:
    """One request's accepted messages after the suppression list: those to store, and the field that named a
    suppressed identifier in each message dropped."""

    kept: list[dict]
    dropped: list[str]


def messages_screen(*, source: Source, read: ReadMessages) -> None:
    """Check identity hashes and handle IP addresses, in `read`, in place (the suppression list: below)."""
    verify = source.kind == Source.Kind.BROWSER and source.require_identity_verification
    for fields in read.accepted:
        provided = _user_hash_pop(fields)
        if verify and fields["type"] in VERIFIED_TYPES and not _verified(source, fields, provided):
            fields["flags"] = [*fields["flags"], UNVERIFIED]
        if settings.SEAM_IP_HANDLING != "keep" and "ip" in fields["context"]:
            fields["context"] = _ip_handled(fields["context"], settings.SEAM_IP_HANDLING)
    if settings.SEAM_IP_HANDLING != "keep":
        # Rejected messages are kept as received, for debugging: but not their client's full address.
        read.rejected[:] = [_rejection_ip_handled(rejection) for rejection in read.rejected]


def suppression_screen(*, workspace_id: int, requests: Sequence[list[dict]]) -> list[Screened]:
    """Each request's messages screened against the workspace's suppression list, in one query for them all.

    A message naming a suppressed identifier is dropped; one whose only suppressed identifier is its anonymous
    id, beside a user id, is kept as a copy without it, flagged. The messages given are not changed.
    """
    per_message = [[_digests(fields) for fields in messages] for messages in requests]
    wanted = {digest for digests_of in per_message for digests in digests_of for digest in digests.values()}
    suppressed = suppressed_digests(workspace_id=workspace_id, digests=wanted)
    if not suppressed:
        return [Screened(kept=list(messages), dropped=[]) for messages in requests]
    return [
        _suppressed_dropped(messages, digests_of, suppressed)
        for messages, digests_of in zip(requests, per_message, strict=True)
    ]


def _rejection_ip_handled(rejection: Rejection) -> Rejection:
    payload = rejection.payload
    context = payload.get("context") if isinstance(payload, dict) else None
    if not isinstance(context, dict) or "ip" not in context:
        return rejection
    return replace(rejection, payload={**payload, "context": _ip_handled(context, settings.SEAM_IP_HANDLING)})


def ip_truncate(value: object) -> str | None:
    """The network of an address (IPv4 /24, IPv6 /48) as an address; None when it is not an IP address."""
    if not isinstance(value, str):
        return None
    return _network_address(value)


# Cached: a browser's batch carries one address in every message, and a server's repeats its busiest
# clients' (100 messages spent 3% of their batch here, building an ip_network per message).
@functools.lru_cache(maxsize=4096)
def _network_address(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    host_bits = address.max_prefixlen - (24 if address.version == 4 else 48)
    return str(type(address)(int(address) >> host_bits << host_bits))


def _ip_handled(context: dict, handling: str) -> dict:
    context = dict(context)
    raw = context.pop("ip")
    truncated = ip_truncate(raw) if handling == "truncate" else None
    if truncated is not None:
        context["ip"] = truncated
    return context


def _user_hash_pop(fields: dict) -> object:
    """Take `context.seam.user_hash` out of the message: a bearer proof for that user, never stored."""
    seam = fields["context"].get("seam")
    if not isinstance(seam, dict) or "user_hash" not in seam:
        return None
    seam = dict(seam)
    provided = seam.pop("user_hash")
    context = dict(fields["context"])
    if seam:
        context["seam"] = seam
    else:
        del context["seam"]
    fields["context"] = context
    return provided


def _verified(source: Source, fields: dict, provided: object) -> bool:
    value = fields["user_id"]
    if not value and fields["type"] == "identify":
        value = email_normalize(fields["traits"].get("email"))
    return identity_hash_matches(secret=source.identity_secret, value=value, provided=provided)


def _digests(fields: dict) -> dict[str, str]:
    """field → digest of each identifier of a message that the suppression list could hold."""
    values = {
        "userId": fields["user_id"],
        "anonymousId": fields["anonymous_id"],
        "previousId": fields["previous_id"],
        "traits.email": email_normalize(fields["traits"].get("email")) if isinstance(fields["traits"], dict) else "",
    }
    return {field: identifier_digest(value) for field, value in values.items() if value}


def _suppressed_dropped(messages: list[dict], digests_of: list[dict[str, str]], suppressed: set[str]) -> Screened:
    kept, dropped = [], []
    for fields, digests in zip(messages, digests_of, strict=True):
        hits = [field for field, digest in digests.items() if digest in suppressed]
        if hits == ["anonymousId"] and fields["user_id"]:
            kept.append({**fields, "anonymous_id": "", "flags": [*fields["flags"], SUPPRESSED_ID_REMOVED]})
        elif hits:
            dropped.append(hits[0])
        else:
            kept.append(fields)
    return Screened(kept=kept, dropped=dropped)
