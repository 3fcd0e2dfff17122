"""lib/literals.py: a constant in the statement's text selects what the bound value selected, and nothing that
would need escaping can be written."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lib.literals import text_literal
from workspaces.models import Source
from workspaces.services import source_create


@pytest.mark.django_db
def test_a_literal_selects_what_the_parameter_did(workspace):
    for kind in Source.Kind:
        source_create(workspace=workspace, name=f"{kind} app", kind=kind)
    kinds = set(Source.Kind)
    for kind in kinds:
        bound = Source.objects.filter(workspace=workspace, kind=kind)
        with CaptureQueriesContext(connection) as queries:
            written = list(Source.objects.filter(workspace=workspace, kind=text_literal(kind)))
        assert written == list(bound)
        assert f"'{kind}'" in queries[0]["sql"]
    both = Source.objects.filter(kind__in=[text_literal(kind) for kind in kinds])
    assert both.count() == Source.objects.filter(kind__in=kinds).count() > 0


@pytest.mark.parametrize("value", ["it's", "pending'--", "Pending", "", "a b", "é"])
def test_only_a_plain_lower_case_word_can_be_written(value):
    with pytest.raises(ValueError, match="plain lower-case word"):
        text_literal(value)
