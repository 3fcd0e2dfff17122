"""Identity verification for browser sources, as Intercom does it: the site's backend signs the user id.

Anyone can call `identify('someone-else')` from a browser console. A browser source that requires
verification trusts an identify only when it carries `context.seam.user_hash` = hex HMAC-SHA256 of
the user id (or, for an identify with only `traits.email`, of the trimmed, lower-cased email) under
the source's identity secret. The secret never leaves the site's backend; the hash is per user.
"""

import hashlib
import hmac
import secrets

from django.db import transaction

from workspaces.models import Source


def identity_hash(*, secret: str, value: str) -> str:
    """What the site's backend computes for its logged-in user and hands to the page."""
    return hmac.new(secret.encode(), value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def identity_hash_matches(*, secret: str, value: str, provided: object) -> bool:
    if not secret or not value or not isinstance(provided, str):
        return False
    return hmac.compare_digest(identity_hash(secret=secret, value=value), provided.strip().lower())


@transaction.atomic
def source_issue_identity_secret(*, source: Source) -> str:
    """Give a source a new identity secret and return it (the only time it is shown); old hashes stop verifying."""
    secret = "isk_" + secrets.token_urlsafe(32)
    source.identity_secret = secret
    source.save(update_fields=["identity_secret"])
    return secret
