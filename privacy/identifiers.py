"""How the suppression list names an identifier: a SHA-256 digest of its normal form, never the value."""

import hashlib

from identities.normalize import email_normalize


def identifier_digest(value: str) -> str:
    """The digest of one identifier value; an email-shaped value is digested in its normal form
    (trimmed, lower-cased), so `Ada@Example.com` and `ada@example.com` are one entry."""
    normal = email_normalize(value) or value
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()
