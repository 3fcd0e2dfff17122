"""seam.js's userHash option, in headless Chromium against a live Seam whose browser source requires it."""

import pytest

from demo.tests.browsing import events_wait, snippet_url
from demo.tests.conftest import demo_sources, new_tab, tab  # noqa: F401
from identities.models import IdentityWarning
from workspaces.identity_verification import identity_hash, source_issue_identity_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("demo.tests.urls")]


def test_the_snippet_sends_the_user_hash_and_forgets_it_on_reset(live_server, demo_sources, tab):  # noqa: F811
    source = demo_sources["browser"]
    secret = source_issue_identity_secret(source=source)
    source.require_identity_verification = True
    source.save()
    good = identity_hash(secret=secret, value="u-1")

    tab.goto(snippet_url(live_server.url, flushInterval=50, page=False))
    tab.page.evaluate(f"seam.identify('u-1', {{name: 'Ada'}}, {{userHash: '{good}'}})")
    tab.page.evaluate("seam.track('added_to_cart')")
    identify, track = events_wait(1, type="identify")[0], events_wait(1, type="track")[0]
    assert "identity_unverified" not in identify.flags
    assert "seam" not in identify.context and "seam" not in track.context  # checked, then never stored
    assert tab.storage("seam_user_hash") == f'"{good}"'
    assert tab.cookie(live_server.url, "seam_user_hash") is None  # localStorage only

    tab.page.evaluate("seam.reset(); seam.identify('u-2')")
    second = events_wait(2, type="identify")[1]
    assert "identity_unverified" in second.flags
    assert tab.storage("seam_user_hash") is None
    assert IdentityWarning.objects.filter(kind=IdentityWarning.Kind.UNVERIFIED_IDENTITY).count() == 1
