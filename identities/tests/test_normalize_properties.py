"""Property tests (hypothesis) for rule 7 and the email forms: any input, never a crash, stable answers."""

import string

from hypothesis import assume, given
from hypothesis import strategies as st

from identities.normalize import (
    DEFAULT_ILLEGAL_VALUES,
    EMAIL_SHAPE,
    QUOTES,
    IdentifierRules,
    email_fold,
    email_normalize,
    identifier_illegal_reason,
)

RULES = IdentifierRules()
anything = st.one_of(st.text(), st.none(), st.integers(), st.floats(), st.booleans(), st.lists(st.text(max_size=3)))
local = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=20)
domain = st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,6}", fullmatch=True)


@given(anything)
def test_normalizing_an_email_never_raises_and_is_idempotent(value):
    normal = email_normalize(value)
    assert isinstance(normal, str)
    assert email_normalize(normal) == normal
    assert normal == "" or (normal == normal.strip().lower() and EMAIL_SHAPE.match(normal))


@given(anything)
def test_folding_is_idempotent_and_empty_exactly_when_not_an_email(value):
    folded = email_fold(value if isinstance(value, str) else "")
    assert email_fold(folded) == folded
    assert (folded == "") == (email_normalize(value) == "" if isinstance(value, str) else True)


@given(local, local, domain, st.sampled_from(["", " ", "\t"]))
def test_case_whitespace_and_tags_fold_together(name, tag, host, pad):
    plain = f"{name}@{host}"
    assume(not name.startswith("+"))
    assert email_fold(f"{pad}{name.upper()}+{tag}@{host.upper()}{pad}") == email_fold(plain)


@given(local, st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]))
def test_gmail_ignores_dots_and_the_googlemail_domain(name, host):
    assume(name.replace(".", "") and not name.startswith("+"))
    assert email_fold(f"{'.'.join(name)}@{host}") == email_fold(f"{name.replace('.', '')}@gmail.com")


@given(st.text())
def test_rule_7_never_raises_and_answers_a_known_reason(value):
    assert identifier_illegal_reason(value, rules=RULES) in (None, "blank", "nul_byte", "too_long", "placeholder")


@given(
    st.sampled_from(sorted(DEFAULT_ILLEGAL_VALUES)),
    st.lists(st.sampled_from(QUOTES), max_size=3),
    st.text(" \t\n", max_size=3),
    st.booleans(),
)
def test_a_placeholder_is_illegal_however_it_is_quoted_cased_or_padded(placeholder, quotes, pad, upper):
    value = placeholder.upper() if upper else placeholder
    for quote in quotes:
        value = f"{quote}{pad}{value}{pad}{quote}"
    assert identifier_illegal_reason(f"{pad}{value}{pad}", rules=RULES) == "placeholder"


@given(st.text(min_size=1, max_size=60), st.integers(min_value=0, max_value=60))
def test_a_nul_anywhere_is_illegal_by_default(value, at):
    at = min(at, len(value))
    with_nul = value[:at] + "\x00" + value[at:]
    assert identifier_illegal_reason(with_nul, rules=RULES) in ("nul_byte", "blank")
    assert identifier_illegal_reason(with_nul, rules=IdentifierRules(nul_is_illegal=False)) != "nul_byte"


@given(st.text(min_size=1).filter(lambda text: text.strip() and "\x00" not in text and "\ufffd" not in text))
def test_only_the_byte_length_decides_too_long(value):
    reason = identifier_illegal_reason(value, rules=RULES)
    assert (reason == "too_long") == (len(value.encode()) > 150 and reason not in ("blank",))


@given(st.integers(min_value=1, max_value=10**30), st.sampled_from(["u-", "cust_", "", "user:"]))
def test_real_ids_are_legal(number, prefix):
    assume(f"{prefix}{number}" not in ("0", "-1"))
    assert identifier_illegal_reason(f"{prefix}{number}", rules=RULES) is None
