"""Training the scoring model without labels (recordlinkage's ECMClassifier on candidate pairs)."""

import pytest

from accounts.models import Role
from accounts.services.partnerships import partnership_end
from mapping.engine import ScoringModel
from mapping.lists.services.lists import account_list_create
from mapping.matching.services.engine_blobs import stored_model
from mapping.matching.services.review import match_model_train
from mapping.models import MatchDecision, MatchRun, MatchSettings
from prm.common.errors import ValidationFailed
from tests.conftest import assert_no_leak
from tests.factories import member

pytestmark = pytest.mark.django_db


def url(world) -> str:
    return f"/api/partnerships/{world.partnership.pk}/match-settings/model/"


def test_training_without_labels_stores_a_model_and_rematches(
    world, lists, django_capture_on_commit_callbacks
):
    assert not MatchDecision.objects.exists()
    refused = world.api(world.owner).post(url(world))  # labelled is the default: no labels yet
    assert refused.status_code == 400 and "unsupervised" in refused.json()["detail"]
    world.api(world.owner).post(
        url(world), {"method": "unsupervised", "sample": 5000}, format="json"
    )  # both ask
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(world.partner).post(
            url(world), {"method": "unsupervised", "sample": 5000}, format="json"
        )
    assert response.status_code == 202, response.content
    assert response.json()["training"] == "queued"  # the fit runs on a worker, after the commit
    body = world.api(world.partner).get(url(world).replace("model/", "")).json()
    assert body["trained_model"] is True and body["trained_on"] == 0 and body["trained_at"]
    assert (body["training"], body["training_method"], body["training_error"]) == ("", "unsupervised", "")
    own = MatchSettings.objects.get(partnership=world.partnership)
    model = stored_model(own.model)  # plain data (mapping.engine.codec), not a pickle
    assert isinstance(model, ScoringModel)
    assert "ECMClassifier" in model.origin and own.updated_by == world.partner
    run = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert run.trigger == "model trained" and run.kind == "full" and run.requested_by == world.partner
    assert run.status == "succeeded", run.error
    assert run.matches > 0


def test_training_without_labels_needs_records_on_both_sides(world):
    account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    with pytest.raises(ValidationFailed, match="Owner Co has none yet"):
        match_model_train(
            actor=world.owner, org=world.owner_org, partnership=world.partnership, method="unsupervised"
        )
    response = world.api(world.owner).post(url(world), {"method": "unsupervised"}, format="json")
    assert response.status_code == 400 and "records on both sides" in response.json()["detail"]
    assert not MatchSettings.objects.exists()


def test_training_input_is_checked(world, lists):
    for body, field in (
        ({"method": "magic"}, "method"),
        ({"method": "unsupervised", "sample": 10}, "sample"),
        ({"method": "unsupervised", "sample": "all"}, "sample"),
    ):
        response = world.api(world.owner).post(url(world), body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
    with pytest.raises(ValidationFailed):
        match_model_train(
            actor=world.owner, org=world.owner_org, partnership=world.partnership, method="magic"
        )
    assert not MatchSettings.objects.exists()


def test_only_list_managers_of_a_side_may_train(world, lists):
    for role in (Role.SALES_REP, Role.VIEWER, Role.FINANCE):
        response = world.api(member(world.owner_org, role)).post(
            url(world), {"method": "unsupervised"}, format="json"
        )
        assert response.status_code == 403
    outsider = world.api(world.outsider).post(url(world), {"method": "unsupervised"}, format="json")
    assert outsider.status_code == 404
    assert_no_leak(outsider, "Owner Co", "Partner Co")
    assert not MatchSettings.objects.exists()


def test_no_training_once_the_partnership_has_ended(world, lists):
    partnership_end(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    response = world.api(world.owner).post(url(world), {"method": "unsupervised"}, format="json")
    assert response.status_code == 409
    assert not MatchSettings.objects.exists()
