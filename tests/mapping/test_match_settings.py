"""Per-partnership thresholds, a model trained on reviewers' decisions, and the decision API."""

import pytest

from accounts.models import Role
from mapping.matching.models import SideDecision
from mapping.models import AccountRecord, MatchDecision, MatchRun, MatchSettings, Overlap
from mapping.sharing.services import sharing_rule_set
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.conftest import share_both_ways

pytestmark = pytest.mark.django_db


def test_thresholds_per_partnership_change_what_matches(world, lists, django_capture_on_commit_callbacks):
    url = f"/api/partnerships/{world.partnership.pk}/match-settings/"
    before = Overlap.objects.filter(partnership=world.partnership, status="match").count()
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(world.partner).put(
            url, {"threshold": 0.99, "review_threshold": 0.5}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["effective_threshold"] == 0.99
    after = Overlap.objects.filter(partnership=world.partnership, status="match").count()
    assert after < before
    run = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert run.kind == "full" and run.trigger == "thresholds changed"
    body = world.api(world.owner).get(url).json()  # both sides see both sides' thresholds
    assert (body["threshold"], body["partner_threshold"], body["effective_threshold"]) == (None, 0.99, 0.99)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": 0.6, "review_threshold": 0.7}, "review_threshold"),
        ({"threshold": "high"}, "threshold"),
    ],
)
def test_invalid_thresholds_are_400_and_change_nothing(world, lists, body, field):
    response = world.api(world.owner).put(
        f"/api/partnerships/{world.partnership.pk}/match-settings/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not MatchSettings.objects.exists()


def test_settings_outsider_and_roles(world, lists):
    url = f"/api/partnerships/{world.partnership.pk}/match-settings/"
    for method in ("get", "put"):
        response = getattr(world.api(world.outsider), method)(url, {"threshold": 0.9}, format="json")
        assert response.status_code == 404
        assert_no_leak(response, "Owner Co", "Partner Co")
    assert world.api(world.outsider).post(url + "model/").status_code == 404
    rep = member(world.owner_org, Role.SALES_REP)
    assert world.api(rep).get(url).status_code == 200
    assert world.api(rep).put(url, {"threshold": 0.9}, format="json").status_code == 403
    assert not MatchSettings.objects.exists()


def _decide(world, n_confirm, n_reject, django_capture_on_commit_callbacks):
    """Both sides confirm n_confirm matched pairs (a pair is confirmed once both did); the owner
    rejects n_reject (one rejection is enough)."""
    from mapping.models import AccountList

    share_both_ways(
        world,
        AccountList.objects.get(organization=world.owner_org),
        AccountList.objects.get(organization=world.partner_org),
    )
    matches = list(
        Overlap.objects.filter(partnership=world.partnership, status="match")[: n_confirm + n_reject]
    )
    url = f"/api/partnerships/{world.partnership.pk}/match-decisions/"
    for i, overlap in enumerate(matches):
        for user in (world.owner, world.partner) if i < n_confirm else (world.owner,):
            with django_capture_on_commit_callbacks(execute=True):
                response = world.api(user).post(
                    url,
                    {
                        "left_record": overlap.left_record_id,
                        "right_record": overlap.right_record_id,
                        "decision": "confirmed" if i < n_confirm else "rejected",
                    },
                    format="json",
                )
            assert response.status_code == 201, response.content


def test_training_needs_enough_labels_then_trains_and_rematches(
    world, lists, django_capture_on_commit_callbacks
):
    url = f"/api/partnerships/{world.partnership.pk}/match-settings/model/"
    _decide(world, 3, 2, django_capture_on_commit_callbacks)
    refused = world.api(world.owner).post(url)
    assert refused.status_code == 400 and "at least 5 confirmed" in refused.json()["detail"]
    _decide(world, 8, 8, django_capture_on_commit_callbacks)
    # one side's request waits for the other's (the model scores both sides' records)
    waiting = world.api(world.owner).post(url)
    assert (
        waiting.status_code == 202
        and waiting.json()["training"] == ""
        and waiting.json()["model_request"] == "labelled"
    )
    assert (
        world.api(world.partner).get(url.replace("model/", "")).json()["partner_model_request"] == "labelled"
    )
    assert not MatchSettings.objects.get().model
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(world.partner).post(url)
    assert response.status_code == 202, response.content
    body = world.api(world.owner).get(url.replace("model/", "")).json()
    assert (
        body["trained_model"]
        and body["trained_on"] == MatchDecision.objects.count()
        and body["training"] == ""
    )
    run = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert run.trigger == "model trained" and run.status == "succeeded"
    # the decisions still win over the trained model
    for decision in MatchDecision.objects.filter(decision="rejected"):
        assert not Overlap.objects.filter(
            left_record=decision.left_record, right_record=decision.right_record
        ).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert world.api(world.partner).delete(url).status_code == 204
    assert MatchSettings.objects.get().model  # the owner has not asked for it yet
    with django_capture_on_commit_callbacks(execute=True):
        assert world.api(world.owner).delete(url).status_code == 204
    assert not MatchSettings.objects.get().model


def test_decision_api_refuses_foreign_records(world, lists):
    mine, theirs, *_ = lists
    a = AccountRecord.objects.filter(account_list=mine).first()
    b = AccountRecord.objects.filter(account_list=theirs).first()
    url = f"/api/partnerships/{world.partnership.pk}/match-decisions/"
    swapped = world.api(world.owner).post(
        url, {"left_record": b.pk, "right_record": a.pk, "decision": "confirmed"}, format="json"
    )
    assert swapped.status_code == 404
    bad = world.api(world.owner).post(
        url, {"left_record": a.pk, "right_record": b.pk, "decision": "maybe"}, format="json"
    )
    assert bad.status_code == 400
    outsider = world.api(world.outsider).post(
        url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json"
    )
    assert outsider.status_code == 404
    # the partner's record in a list it does not share at record level: the same 404 as an
    # unknown id (no oracle of its ids), and no made-up pair that would then show it to me
    assert (
        world.api(world.owner)
        .post(url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json")
        .status_code
        == 404
    )
    sharing_rule_set(actor=world.partner, partnership=world.partnership, account_list=theirs, level="counts")
    assert (
        world.api(world.owner)
        .post(url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json")
        .status_code
        == 404
    )
    sharing_rule_set(
        actor=world.partner,
        partnership=world.partnership,
        account_list=theirs,
        level="overlaps",
        fields=["name"],
    )
    # at "overlapping accounts" a record that overlaps nothing is white space: not shown, so 404
    b = (
        AccountRecord.objects.filter(account_list=theirs)
        .exclude(pk__in=Overlap.objects.filter(status="match").values("right_record_id"))
        .first()
    )
    assert (
        world.api(world.owner)
        .post(url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json")
        .status_code
        == 404
    )
    b = AccountRecord.objects.get(pk=Overlap.objects.filter(status="match").values("right_record_id")[:1])
    AccountRecord.objects.filter(pk=b.pk).update(private=True)
    assert (
        world.api(world.owner)
        .post(url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json")
        .status_code
        == 404
    )
    assert not MatchDecision.objects.exists() and not SideDecision.objects.exists()
    AccountRecord.objects.filter(pk=b.pk).update(private=False)
    assert (
        world.api(world.owner)
        .post(url, {"left_record": a.pk, "right_record": b.pk, "decision": "confirmed"}, format="json")
        .status_code
        == 201
    )


def test_training_runs_on_a_worker_and_a_failure_is_reported_there(
    world, lists, django_capture_on_commit_callbacks
):
    """The request only checks and queues; the worker fits. Labels gone between the two: the
    worker's failure shows in the settings, nothing half-trained is stored, and a second request
    while one is queued is refused."""
    url = f"/api/partnerships/{world.partnership.pk}/match-settings/model/"
    _decide(world, 6, 6, django_capture_on_commit_callbacks)
    assert world.api(world.partner).post(url).json()["training"] == ""  # waits for the owner's request
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = world.api(world.owner).post(url)
    assert queued.status_code == 202 and queued.json()["training"] == "queued"
    again = world.api(world.partner).post(url)
    assert again.status_code == 409 and "under way" in again.json()["detail"]
    MatchDecision.objects.filter(decision="rejected").delete()  # a reviewer undoes them meanwhile
    for callback in callbacks:
        callback()
    body = world.api(world.owner).get(url.replace("model/", "")).json()
    assert body["training"] == "failed" and "at least 5 confirmed" in body["training_error"]
    assert body["trained_model"] is False
    # a new request after the failure is taken again
    _decide(world, 6, 6, django_capture_on_commit_callbacks)  # the confirmed ones again, 6 new rejections
    assert world.api(world.partner).post(url).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert world.api(world.owner).post(url).status_code == 202
    body = world.api(world.owner).get(url.replace("model/", "")).json()
    assert body["training"] == "" and body["trained_model"] and body["training_error"] == ""
