"""Write keys: how they are made, and the digest they are looked up by."""

import hashlib
import secrets

PREFIXES = {"browser": "pk_", "server": "sk_"}


def write_key_generate(*, kind: str) -> str:
    return PREFIXES[kind] + secrets.token_urlsafe(24)


def write_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
