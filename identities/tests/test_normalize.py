import pytest

from identities.normalize import IdentifierRules, email_fold, email_normalize, identifier_illegal_reason

RULES = IdentifierRules()


@pytest.mark.parametrize(
    "value",
    [
        " ",
        "null",
        "NULL",
        "undefined",
        "None",
        "NaN",
        "anonymous",
        "guest",
        "unknown",
        "0",
        "-1",
        "[object Object]",
        "true",
        "False",
        '"null"',
        "'undefined'",
        '" guest "',
        "`none`",
        "''",
        "a" * 151,
        "é" * 76,  # 152 bytes
        "user\x00id",
        "user\ufffdid",  # where ingest replaced a NUL byte
    ],
)
def test_it_refuses_placeholder_and_broken_ids(value):
    assert identifier_illegal_reason(value, rules=RULES) is not None


@pytest.mark.parametrize("value", ["42", "u_123", "alice@example.com", "a" * 150, "null-island", "00"])
def test_it_accepts_real_ids(value):
    assert identifier_illegal_reason(value, rules=RULES) is None


def test_it_applies_a_workspace_blocklist():
    rules = IdentifierRules(illegal_values=frozenset({"test"}), max_bytes=10, nul_is_illegal=False)
    assert identifier_illegal_reason("TEST", rules=rules) == "placeholder"
    assert identifier_illegal_reason("null", rules=rules) is None
    assert identifier_illegal_reason("a" * 11, rules=rules) == "too_long"
    assert identifier_illegal_reason("a\ufffdb", rules=rules) is None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [(" Alice@Example.COM ", "alice@example.com"), ("not-an-email", ""), ("a@b", ""), (None, ""), (42, "")],
)
def test_it_normalizes_emails(raw, normal):
    assert email_normalize(raw) == normal


@pytest.mark.parametrize(
    ("email", "folded"),
    [
        ("A.Lice+promo@GMail.com", "alice@gmail.com"),
        ("alice@googlemail.com", "alice@gmail.com"),
        ("a.lice+x@example.com", "a.lice@example.com"),
        ("+only@example.com", "+only@example.com"),
    ],
)
def test_it_folds_emails_for_duplicate_detection_only(email, folded):
    assert email_fold(email) == folded
    assert email_normalize(email) == email.strip().lower()
