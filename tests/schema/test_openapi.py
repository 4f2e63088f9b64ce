"""The OpenAPI schema says what the API answers: real responses, errors included, validate against
the operation's documented schema (the CI fuzz run, scripts/api_fuzz.sh, does the same at random)."""

import copy
import io

import jsonschema
import pytest

from accounts.models import Organization
from mapping.lists.services.lists import account_list_create
from mapping.sharing.services import sharing_rule_set

pytestmark = pytest.mark.django_db

ERROR_STATUSES = ("400", "401", "403", "404")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _jsonschema(node):
    """OpenAPI 3.0 to JSON Schema: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _jsonschema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def documented(schema, method: str, path: str, status: int, media_type: str = "application/json") -> dict:
    operation = schema["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path}: {status} is not documented"
    return response["content"][media_type]["schema"]


def assert_matches(schema, method: str, path: str, response) -> None:
    """The response's JSON body validates against what the schema documents for its status."""
    body_schema = documented(schema, method, path, response.status_code)
    root = {
        **_jsonschema(copy.deepcopy(body_schema)),
        "components": _jsonschema(copy.deepcopy(schema["components"])),
    }
    jsonschema.validate(response.json(), root)


def test_every_error_response_is_the_exception_handlers_body(schema):
    """Each operation documents 400, 401, 403 and 404, and every documented error body requires
    the handler's `detail` and `code`."""
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert set(ERROR_STATUSES) <= set(responses), (method, path, sorted(responses))
            for status, response in responses.items():
                if not status.startswith("4") or "content" not in response:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                body = components[ref.rsplit("/", 1)[1]]
                assert {"detail", "code"} <= set(body.get("required", [])), (method, path, status, ref)


@pytest.mark.parametrize("kind", ["ecosystem", "sharing-rules"])
def test_unpaginated_lists_are_documented_as_arrays(world, schema, kind):
    mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    sharing_rule_set(actor=world.owner, partnership=world.partnership, account_list=mine, level="counts")
    path, url = {
        "ecosystem": ("/api/ecosystem/", "/api/ecosystem/"),
        "sharing-rules": (
            "/api/partnerships/{partnership_id}/sharing-rules/",
            f"/api/partnerships/{world.partnership.pk}/sharing-rules/",
        ),
    }[kind]
    response = world.api(world.owner).get(url)
    assert response.status_code == 200 and isinstance(response.json(), list) and response.json()
    assert documented(schema, "GET", path, 200)["type"] == "array"
    assert_matches(schema, "GET", path, response)


def test_paginated_lists_and_their_page_errors_match(world, schema):
    account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    client = world.api(world.owner)
    assert_matches(schema, "GET", "/api/lists/", client.get("/api/lists/?page_size=1"))
    for bad in ("abc", "0", "-3", "1.5", ""):
        response = client.get(f"/api/lists/?page_size={bad}")
        assert response.status_code == 400 and response.json()["errors"] == {
            "page_size": ["A whole number of at least 1."]
        }
        assert_matches(schema, "GET", "/api/lists/", response)
    assert client.get("/api/lists/?page_size=9999999999999").json()["count"] == 1  # more than 500: 500
    assert_matches(schema, "GET", "/api/lists/", client.get("/api/lists/?page=7"))  # 404


@pytest.mark.django_db(transaction=True)  # the upload's task runs when its transaction commits
def test_import_refusals_match_their_documented_body(world, schema):
    """A refused upload answers the handler's body with the failed job; an invalid request the
    plain error body: both as documented (they were documented as ImportJobOut)."""
    mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    path, url = "/api/lists/{list_id}/imports/", f"/api/lists/{mine.pk}/imports/"
    client = world.api(world.owner)
    upload = io.BytesIO(b"name,website\nAcme,acme.example\n,nameless.example\n")
    upload.name = "accounts.csv"
    refused = client.post(url, {"file": upload}, format="multipart")  # a row without a name: refused
    assert refused.status_code == 400 and refused.json()["job"]["status"] == "failed"
    assert_matches(schema, "POST", path, refused)
    binary = io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    binary.name = "accounts.csv"
    assert_matches(schema, "POST", path, client.post(url, {"file": binary}, format="multipart"))
    invalid = client.post(url, {"mode": "replace"}, format="multipart")
    assert invalid.status_code == 400 and invalid.json()["errors"]["file"]
    assert_matches(schema, "POST", path, invalid)
    assert documented(schema, "POST", path, 400)["$ref"].endswith("/ImportRejectedOut")


def test_auth_and_not_found_errors_match(world, schema):
    path = "/api/partnerships/{partnership_id}/"
    assert_matches(schema, "GET", path, world.api(None).get(f"/api/partnerships/{world.partnership.pk}/"))
    assert_matches(
        schema, "GET", path, world.api(world.outsider).get(f"/api/partnerships/{world.partnership.pk}/")
    )


def test_json_bodies_must_have_the_documented_types(world, schema):
    """DRF takes 5 for a text and "5" for a number; the API refuses both, as the schema says."""
    client = world.api(world.owner)
    before = Organization.objects.count()
    response = client.post("/api/organizations/", {"name": 5}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"name": ["Must be a text."]}
    assert_matches(schema, "POST", "/api/organizations/", response)
    assert Organization.objects.count() == before
    settings_url = f"/api/partnerships/{world.partnership.pk}/match-settings/"
    response = client.put(settings_url, {"threshold": "0.7"}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"threshold": ["Must be a number."]}
    response = client.post(
        f"/api/lists/{account_list_create(actor=world.owner, org=world.owner_org, name='L').pk}"
        "/private-records/",
        {"record_ids": ["1"], "private": "yes"},
        format="json",
    )
    assert response.json()["errors"] == {
        "record_ids": ["Item 0: Must be a whole number."],
        "private": ["Must be true or false."],
    }
    # Forms and query strings carry text: they are not held to JSON types.
    assert (
        client.get(f"/api/partnerships/{world.partnership.pk}/overlaps/?min_score=0.5&mine=true").status_code
        == 200
    )


def test_request_bodies_are_documented_as_json_and_uploads_as_multipart(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                media_types = set(operation["requestBody"]["content"])
                expected = {"multipart/form-data"} if path.endswith("/imports/") else {"application/json"}
                assert media_types == expected, (method, path, media_types)


def test_texts_that_must_not_be_blank_document_a_visible_character(world, schema):
    """DRF trims a text before it checks it is not blank: whitespace alone is refused, as the
    documented pattern says."""
    from prm.common.schema import NOT_BLANK

    token = schema["components"]["schemas"]["TokenOnlyInRequest"]["properties"]["token"]
    assert token["pattern"] == NOT_BLANK and token["minLength"] == 1
    response = world.api(world.owner).post("/api/invitations/accept/", {"token": "\t "}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["token"]


def test_urls_and_emails_are_documented_as_what_django_accepts(schema):
    """JSON Schema's "uri" and "email" take what Django's validators refuse ("0@0.a"): inputs
    document a pattern that is part of what they accept."""
    import re

    from django.core.validators import URLValidator, validate_email

    from prm.common.schema import EMAIL, URL

    components = schema["components"]["schemas"]
    email = components["InvitationInRequest"]["properties"]["email"]
    website = components["OrganizationCreateInRequest"]["properties"]["website"]["oneOf"][0]  # or ""
    assert "format" not in email and email["pattern"] == f"^{EMAIL}$"
    assert "format" not in website and website["pattern"] == f"^({URL})?$"
    assert not re.fullmatch(EMAIL, "0@0.a")
    validate_email("a.b@mail.example.co")
    URLValidator()("https://www.example.co/a/b")
    assert re.fullmatch(EMAIL, "a.b@mail.example.co") and re.fullmatch(URL, "https://www.example.co/a/b")
