"""Regression tests: a partner's own writes (made-up confirmations, lower thresholds) do not show
it more of the owner's records; reproduced as found, on lists the real engine matched."""

import pytest

from mapping.models import AccountRecord, Overlap
from mapping.sharing.selectors import OverlapFilters, overlap_listing_for
from mapping.sharing.selectors.review import review_queue_for
from mapping.sharing.services import sharing_rule_set

pytestmark = pytest.mark.django_db


def _seen_by_partner(world) -> set[int]:
    p = world.partnership
    overlaps = overlap_listing_for(org=world.partner_org, partnership=p, user=None, filters=OverlapFilters())
    review = review_queue_for(org=world.partner_org, partnership=p)
    return set(overlaps.queryset().values_list("left_record_id", flat=True)) | set(
        review.queryset().values_list("left_record_id", flat=True)
    )


@pytest.fixture
def shared(world, lists):
    mine, theirs, *_ = lists
    sharing_rule_set(
        actor=world.owner,
        partnership=world.partnership,
        account_list=mine,
        level="overlaps",
        fields=["name", "domain"],
    )
    sharing_rule_set(
        actor=world.partner,
        partnership=world.partnership,
        account_list=theirs,
        level="overlaps",
        fields=["name"],
    )
    return mine, theirs


def test_confirming_made_up_pairs_reveals_nothing(world, shared, django_capture_on_commit_callbacks):
    mine, theirs = shared
    before = _seen_by_partner(world)
    unseen = list(AccountRecord.objects.filter(account_list=mine).exclude(pk__in=before).order_by("pk")[:10])
    own = list(AccountRecord.objects.filter(account_list=theirs).order_by("pk")[:10])
    assert len(unseen) == 10
    url = f"/api/partnerships/{world.partnership.pk}/match-decisions/"
    for left, right in zip(unseen, own, strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            response = world.api(world.partner).post(
                url,
                {"left_record": left.pk, "right_record": right.pk, "decision": "confirmed"},
                format="json",
            )
        assert response.status_code == 404  # the same as an unknown id
        assert response.json()["detail"] == "Pair not found."
        assert left.name not in response.content.decode()
    unknown = world.api(world.partner).post(
        url, {"left_record": 10**9, "right_record": own[0].pk, "decision": "confirmed"}, format="json"
    )
    assert unknown.status_code == 404 and unknown.json() == response.json()
    assert _seen_by_partner(world) == before
    assert not Overlap.objects.filter(left_record__in=unseen, status="match").exists()


def test_lowering_my_thresholds_shows_me_nothing_more(world, shared, django_capture_on_commit_callbacks):
    before = _seen_by_partner(world)
    url = f"/api/partnerships/{world.partnership.pk}/match-settings/"
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(world.partner).put(
            url, {"threshold": 0.01, "review_threshold": 0}, format="json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["threshold"], body["partner_threshold"]) == (0.01, None)
    assert body["effective_threshold"] == 0.5  # the owner's bar (the default) still holds
    assert _seen_by_partner(world) <= before
    # the owner raising its own bar narrows both views; lowering it back restores what it allows
    with django_capture_on_commit_callbacks(execute=True):
        world.api(world.owner).put(url, {"threshold": 0.9}, format="json")
    assert _seen_by_partner(world) <= before
