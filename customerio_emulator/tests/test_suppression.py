"""suppress deletes and blocks identifiers; unsuppress frees them; delete lets a later call re-create."""


def test_it_suppresses_a_person_and_ignores_later_calls(emu):
    emu.identify("u1", {"email": "ann@example.com", "plan": "pro"})

    assert emu.track("POST", "/api/v1/customers/u1/suppress", {}).status_code == 200
    assert emu.people() == []

    assert emu.identify("u1", {"plan": "team"}).status_code == 200
    assert emu.event("ann@example.com", {"name": "logged_in"}).status_code == 200
    op = {"type": "person", "action": "identify", "identifiers": {"id": "u1"}}
    assert emu.batch([op]).status_code == 200

    assert emu.people() == []
    assert [note["kind"] for note in emu.notes()] == ["suppressed"] + ["ignored_suppressed"] * 3


def test_it_suppresses_an_identifier_nobody_has_yet(emu):
    emu.track("POST", "/api/v1/customers/u1/suppress")

    emu.identify("u1", {"plan": "pro"})

    assert emu.people() == []


def test_it_frees_an_identifier_on_unsuppress_without_restoring_the_profile(emu):
    emu.identify("u1", {"email": "ann@example.com", "plan": "pro"})
    emu.track("POST", "/api/v1/customers/u1/suppress")

    assert emu.track("POST", "/api/v1/customers/ann%40example.com/unsuppress").status_code == 200
    assert emu.people() == []

    emu.identify("u1", {"city": "Oslo"})
    assert emu.person("u1")["attributes"] == {"city": "Oslo"}


def test_it_suppresses_and_unsuppresses_in_v2(emu):
    op = {"type": "person", "identifiers": {"id": "u1"}}
    emu.identify("u1")

    emu.batch([{**op, "action": "suppress"}])
    emu.identify("u1")
    assert emu.people() == []

    emu.batch([{**op, "action": "unsuppress"}])
    emu.identify("u1")
    assert len(emu.people()) == 1


def test_it_notes_an_unsuppress_of_a_free_identifier(emu):
    assert emu.track("POST", "/api/v1/customers/u1/unsuppress").status_code == 200

    assert [note["kind"] for note in emu.notes()] == ["unsuppress_ignored_not_suppressed"]


def test_it_notes_a_delete_of_an_unknown_person(emu):
    assert emu.track("DELETE", "/api/v1/customers/nobody").status_code == 200

    assert [note["kind"] for note in emu.notes()] == ["delete_ignored_unknown_person"]
