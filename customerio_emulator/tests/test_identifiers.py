"""Path identifiers: percent-decoded, then read by shape (cio_ prefix, '@', else id)."""


def test_it_decodes_percent_encoded_emails_in_paths(emu):
    response = emu.track("PUT", "/api/v1/customers/ann%40example.com", {"plan": "pro"})

    assert response.status_code == 200
    (person,) = emu.people()
    assert person["email"] == "ann@example.com"
    assert person["id"] is None
    assert emu.requests_log()[0]["identifier"] == "ann@example.com"


def test_it_keeps_an_encoded_slash_inside_the_identifier(emu):
    response = emu.track("PUT", "/api/v1/customers/team%2Fann/", {"plan": "pro"})

    assert response.status_code == 200
    (person,) = emu.people()
    assert person["id"] == "team/ann"


def test_it_matches_emails_case_insensitively(emu):
    emu.identify("Ann@Example.com", {"plan": "pro"})

    emu.event("ann@EXAMPLE.com", {"name": "logged_in"})

    (person,) = emu.people()
    assert person["email"] == "Ann@Example.com"
    assert [event["name"] for event in person["events"]] == ["logged_in"]


def test_it_addresses_a_person_by_cio_id(emu):
    emu.identify("u1", {"plan": "pro"})
    cio_id = emu.person("u1")["cio_id"]

    emu.identify(f"cio_{cio_id}", {"plan": "team"})

    assert emu.person("u1")["attributes"] == {"plan": "team"}
    assert len(emu.people()) == 1


def test_it_never_creates_a_person_for_an_unknown_cio_id(emu):
    response = emu.identify("cio_doesnotexist", {"plan": "pro"})

    assert response.status_code == 200
    assert emu.people() == []
    assert [note["kind"] for note in emu.notes()] == ["identify_ignored_unknown_cio_id"]


def test_it_assigns_a_distinct_cio_id_to_each_new_person(emu):
    emu.identify("u1")
    emu.identify("u2")

    assert len({person["cio_id"] for person in emu.people()}) == 2


def test_it_refuses_ids_longer_than_150_bytes(emu):
    ok = emu.identify("é" * 75)
    too_long = emu.identify("é" * 75 + "x")

    assert ok.status_code == 200
    assert too_long.status_code == 400
    assert too_long.json() == {"meta": {"error": "id cannot be longer than 150 bytes"}}
