"""What may identify someone (rule 7), and the normal and folded forms of an email address."""

import re
from dataclasses import dataclass

# Rule 7: values SDKs and templates send when they have no real id. Compared lower-cased, after
# trimming whitespace and any quotes around them ('null', "undefined", `none`).
DEFAULT_ILLEGAL_VALUES = frozenset(
    {
        "null",
        "undefined",
        "none",
        "nan",
        "anonymous",
        "guest",
        "unknown",
        "0",
        "-1",
        "[object object]",
        "true",
        "false",
    }
)
DEFAULT_MAX_ID_BYTES = 150
QUOTES = "'\"`"
# Ingest replaces NUL (which Postgres text cannot hold) with U+FFFD and flags the event
# `nul_replaced`; a replacement character in an id is therefore where a NUL byte was.
NUL_MARKERS = ("\x00", "\ufffd")

# Deliberately loose: one @, something either side, a dot in the domain, no whitespace.
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True, slots=True)
class IdentifierRules:
    """A workspace's rule 7 settings, read once per ingest batch."""

    illegal_values: frozenset[str] = DEFAULT_ILLEGAL_VALUES
    max_bytes: int = DEFAULT_MAX_ID_BYTES
    nul_is_illegal: bool = True


def identifier_illegal_reason(value: str, *, rules: IdentifierRules) -> str | None:
    """Why `value` may not identify anyone, or None when it may. An empty value is simply absent."""
    stripped = value.strip()
    if not stripped:
        return "blank"
    if rules.nul_is_illegal and any(marker in value for marker in NUL_MARKERS):
        return "nul_byte"
    if len(value.encode()) > rules.max_bytes:
        return "too_long"
    unquoted = stripped
    while len(unquoted) >= 2 and unquoted[0] in QUOTES and unquoted[-1] == unquoted[0]:
        unquoted = unquoted[1:-1].strip()
    if not unquoted:
        return "blank"
    if unquoted.lower() in rules.illegal_values:
        return "placeholder"
    return None


def email_normalize(value: object) -> str:
    """The stored form of an email: trimmed and lower-cased; "" when it is not email-shaped."""
    if not isinstance(value, str):
        return ""
    email = value.strip().lower()
    return email if EMAIL_SHAPE.match(email) else ""


def email_is_shaped(value: str) -> bool:
    return bool(email_normalize(value))


def email_fold(email: str) -> str:
    """The form two addresses share when they probably reach one inbox; for duplicate detection only.

    `+tags` are dropped for every domain; dots are dropped for Gmail, which ignores them.
    Never used to identify or merge anyone automatically.
    """
    email = email_normalize(email)
    if not email:
        return ""
    local, _, domain = email.rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
