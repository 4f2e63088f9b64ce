"""The portal page of a partnership's thresholds and scoring model."""

import pytest

from accounts.models import Role
from mapping.models import MatchRun, MatchSettings
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.test_sharing_helpers import portal

pytestmark = pytest.mark.django_db


def _url(world):
    return f"/partnerships/{world.partnership.pk}/matching/settings/"


def test_both_sides_see_the_thresholds_in_use(world, settings):
    settings.MATCH_THRESHOLD, settings.MATCH_REVIEW_THRESHOLD = 0.5, 0.2
    for user in (world.owner, world.partner):
        page = portal(user).get(_url(world)).content.decode()
        assert 'id="effective-threshold">0.50<' in page and 'id="effective-review-threshold">0.20<' in page
        assert "(the defaults)" in page and "The default model" in page
    detail = portal(world.owner).get(f"/partnerships/{world.partnership.pk}/matching/").content.decode()
    assert _url(world) in detail  # linked from the matching status


def test_saving_thresholds_rematches_and_both_sides_see_them(
    world, lists, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = portal(world.partner).post(
            _url(world), {"action": "thresholds", "threshold": "0.9", "review_threshold": "0.4"}, follow=True
        )
    assert response.status_code == 200 and "Thresholds saved" in response.content.decode()
    own = MatchSettings.objects.get(partnership=world.partnership)
    assert (own.partner_threshold, own.partner_review_threshold) == (0.9, 0.4)  # the partner's own
    assert (own.initiator_threshold, own.initiator_review_threshold) == (None, None)
    assert MatchRun.objects.filter(partnership=world.partnership, trigger="thresholds changed").exists()
    page = portal(world.owner).get(_url(world)).content.decode()
    assert 'id="effective-threshold">0.90<' in page and "(the defaults)" not in page
    assert 'id="side-thresholds"' in page and "Partner Co's: 0.90" in page
    # blank: back to the defaults
    portal(world.partner).post(_url(world), {"action": "thresholds", "threshold": "", "review_threshold": ""})
    own.refresh_from_db()
    assert (own.partner_threshold, own.partner_review_threshold) == (None, None)


@pytest.mark.parametrize(
    "data,error",
    [
        ({"threshold": "1.5"}, "less than or equal to 1"),
        ({"threshold": "0"}, "Between 0 (excluded) and 1."),
        ({"threshold": "0.6", "review_threshold": "0.7"}, "At most the match threshold."),
        ({"threshold": "high"}, "Enter a number."),
    ],
)
def test_invalid_thresholds_are_form_errors_and_change_nothing(world, data, error):
    response = portal(world.owner).post(_url(world), {"action": "thresholds", **data})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not MatchSettings.objects.exists() and not MatchRun.objects.exists()


def test_training_without_reviews_says_why_and_unsupervised_is_queued(
    world, lists, django_capture_on_commit_callbacks
):
    response = portal(world.owner).post(_url(world), {"action": "train", "method": "labelled"})
    assert response.status_code == 400
    assert "confirmed" in response.content.decode().lower()  # not enough reviewed pairs yet
    assert not MatchSettings.objects.filter(training__in=["queued", "running"]).exists()
    response = portal(world.owner).post(
        _url(world), {"action": "train", "method": "unsupervised", "sample": "50"}
    )
    assert response.status_code == 400 and "greater than or equal to 1000" in response.content.decode()
    response = portal(world.partner).post(
        _url(world), {"action": "train", "method": "unsupervised", "sample": "5000"}, follow=True
    )
    assert "once the partner asks for the same training" in response.content.decode()
    assert 'id="model-requests"' in portal(world.owner).get(_url(world)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # tests run tasks in-process: it trains at once
        response = portal(world.owner).post(
            _url(world), {"action": "train", "method": "unsupervised", "sample": "5000"}, follow=True
        )
    assert "Training is queued" in response.content.decode()
    own = MatchSettings.objects.get(partnership=world.partnership)
    assert own.training_method == "unsupervised" and own.model and own.training == ""
    page = portal(world.partner).get(_url(world)).content.decode()
    assert "Trained without reviews" in page and 'id="reset-model"' in page
    with django_capture_on_commit_callbacks(execute=True):
        portal(world.partner).post(_url(world), {"action": "reset"})
        portal(world.owner).post(_url(world), {"action": "reset"})
    own.refresh_from_db()
    assert not own.model and "The default model" in portal(world.partner).get(_url(world)).content.decode()


def test_reps_read_outsiders_get_nothing(world):
    rep = member(world.owner_org, Role.SALES_REP)
    page = portal(rep).get(_url(world)).content.decode()
    assert (
        'id="effective-threshold"' in page and 'id="thresholds-form"' not in page and 'id="train"' not in page
    )
    portal(rep).post(_url(world), {"action": "thresholds", "threshold": "0.9"})
    portal(rep).post(_url(world), {"action": "reset"})
    assert not MatchSettings.objects.exists()
    response = portal(world.outsider).get(_url(world))
    assert response.status_code == 404
    assert_no_leak(response, "Owner Co", "Partner Co")
    assert (
        portal(world.outsider).post(_url(world), {"action": "thresholds", "threshold": "0.9"}).status_code
        == 404
    )
    assert not MatchSettings.objects.exists()
