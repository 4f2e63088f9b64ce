import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import Partnership, Role
from coselling.models import DealRegistration, RegistrationChange, RegistrationConflict
from coselling.services import registrations as svc
from prm.common.errors import Conflict, NotFound, PermissionDeniedError, ValidationFailed
from tests.conftest import require_service
from tests.coselling.conftest import deal, submit
from tests.factories import OrganizationFactory, PartnershipFactory, member
from tests.mapping.test_sharing_helpers import make_list, make_record

pytestmark = pytest.mark.django_db


def test_submit_rounds_money_half_up_and_records_history(world):
    reg = submit(world, value="100.005", currency="eur")
    assert reg.value == Decimal("100.01") and reg.currency == "EUR"
    assert reg.vendor_id == world.owner_org.pk and reg.registrant_id == world.partner_org.pk
    assert list(reg.changes.values_list("from_status", "to_status")) == [("", "submitted")]


@pytest.mark.parametrize(
    "field,value",
    [
        ("value", "-1"),
        ("value", "1e20"),
        ("value", "NaN"),
        ("value", 12.5),
        ("currency", "XXY"),
        ("currency", "US"),
        ("account_name", "  "),
        ("account_name", "Acme\nCorp"),
        ("account_name", "x" * 201),
        ("notes", "bad\x00nul"),
        ("notes", "bell\x07"),
        ("country", "Atlantis"),
        ("website", "not a site"),
        ("contact_email", "nobody"),
        ("expected_close", "2020-01-01"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, field, value):
    if field == "expected_close":
        value = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        submit(world, **{field: value})
    assert field in caught.value.extra
    assert DealRegistration.objects.count() == 0 and RegistrationChange.objects.count() == 0


def test_roles_and_sides(world):
    viewer = member(world.partner_org, Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        svc.registration_submit(actor=viewer, org=world.partner_org, partnership=world.partnership, **deal())
    with pytest.raises(PermissionDeniedError):  # the vendor does not register with itself
        svc.registration_submit(
            actor=world.owner, org=world.owner_org, partnership=world.partnership, **deal()
        )
    with pytest.raises(NotFound):
        svc.registration_submit(
            actor=world.outsider, org=world.outsider_org, partnership=world.partnership, **deal()
        )
    rep = member(world.owner_org, Role.SALES_REP)
    reg = submit(world)
    with pytest.raises(PermissionDeniedError):  # sales reps do not review
        svc.registration_approve(actor=rep, org=world.owner_org, registration=reg)
    with pytest.raises(PermissionDeniedError):  # the partner does not approve its own
        svc.registration_approve(actor=world.partner, org=world.partner_org, registration=reg)
    assert DealRegistration.objects.get(pk=reg.pk).status == "submitted"


def test_nobody_writes_on_an_ended_partnership(world):
    reg = submit(world)
    Partnership.objects.filter(pk=world.partnership.pk).update(status="ended")
    world.partnership.refresh_from_db()
    with pytest.raises(Conflict):
        submit(world, account_name="Other Co", website="other.com")
    reg = DealRegistration.objects.select_related("partnership").get(pk=reg.pk)
    with pytest.raises(Conflict):
        svc.registration_approve(actor=world.owner, org=world.owner_org, registration=reg)


def test_state_machine(world):
    reg = submit(world)
    with pytest.raises(ValidationFailed):
        svc.registration_reject(actor=world.owner, org=world.owner_org, registration=reg, reason="   ")
    with pytest.raises(ValidationFailed):
        svc.registration_request_info(actor=world.owner, org=world.owner_org, registration=reg, note="")
    reg = svc.registration_request_info(
        actor=world.owner, org=world.owner_org, registration=reg, note="Which product?"
    )
    reg = svc.registration_resubmit(
        actor=world.partner, org=world.partner_org, registration=reg, products="Platform+", note="Both"
    )
    assert reg.status == "submitted" and reg.products == "Platform+"
    reg = svc.registration_approve(actor=world.owner, org=world.owner_org, registration=reg)
    assert reg.protection_until == timezone.localdate() + timedelta(days=90)
    reg = svc.registration_extend(actor=world.owner, org=world.owner_org, registration=reg, days=30)
    assert reg.protection_until == timezone.localdate() + timedelta(days=120)
    with pytest.raises(Conflict):
        svc.registration_extend(actor=world.owner, org=world.owner_org, registration=reg)
    with pytest.raises(Conflict):  # no way back from approved to submitted
        svc.registration_request_info(actor=world.owner, org=world.owner_org, registration=reg, note="?")
    reg = svc.registration_close(actor=world.owner, org=world.owner_org, registration=reg, outcome="won")
    with pytest.raises(Conflict):
        svc.registration_close(actor=world.owner, org=world.owner_org, registration=reg, outcome="lost")
    assert list(reg.changes.values_list("from_status", "to_status")) == [
        ("", "submitted"),
        ("submitted", "info_requested"),
        ("info_requested", "submitted"),
        ("submitted", "approved"),
        ("approved", "approved"),
        ("approved", "won"),
    ]
    assert all(c.changed_at and c.changed_by_organization_id for c in reg.changes.all())


def test_reject_keeps_reason_for_partner(world):
    reg = submit(world)
    reg = svc.registration_reject(
        actor=world.owner, org=world.owner_org, registration=reg, reason="Direct deal"
    )
    assert reg.status == "rejected" and reg.decision_reason == "Direct deal"


def test_expiry_job_runs_twice_safely(world):
    reg = svc.registration_approve(
        actor=world.owner, org=world.owner_org, registration=submit(world), protection_days=1
    )
    later = timezone.localdate() + timedelta(days=3)
    assert svc.registrations_expire(today=later) == 1
    assert svc.registrations_expire(today=later) == 0
    reg.refresh_from_db()
    assert reg.status == "expired"
    assert reg.changes.filter(to_status="expired").count() == 1


# ------------------------------------------------------------------ conflict detection


def test_conflicts_with_vendor_records_and_earlier_registrations(world, other_partner):
    customers = make_list(world.owner_org, "Vendor customers", kind="customers")
    prospects = make_list(world.owner_org, "Vendor prospects", kind="prospects")
    record = make_record(
        customers,
        "Acme Corporation",
        domain="acme.com",
        domain_norm="acme.com",
        name_norm="acme",
        stem="acme",
        country="US",
    )
    make_record(
        prospects,
        "Acme Corporation",
        domain="acme.com",
        domain_norm="acme.com",
        name_norm="acme",
        stem="acme",
        country="US",
    )
    org2, partnership2, pm2 = other_partner
    earlier = svc.registration_submit(
        actor=pm2,
        org=org2,
        partnership=partnership2,
        **deal(account_name="ACME Incorporated", website="", country="US"),
    )
    org3 = OrganizationFactory(name="Third Partner", kind="reseller")
    pm3 = member(org3, Role.PARTNER_MANAGER)
    germany = svc.registration_submit(
        actor=pm3,
        org=org3,
        partnership=PartnershipFactory(initiator=world.owner_org, partner=org3),
        **deal(account_name="Acme Corp", website="acme-maschinenbau.de", country="DE", contact_email=""),
    )
    reg = submit(world, account_name="ACME Corp.", website="acme.com", country="US")
    found = {(c.kind, c.record_id or c.other_id): c for c in reg.conflicts.all()}
    assert ("vendor_record", record.pk) in found  # customers
    assert len([k for k in found if k[0] == "vendor_record"]) == 1  # prospects are not a claim
    assert ("registration", earlier.pk) in found
    assert found[("registration", earlier.pk)].other_first is True
    assert ("registration", germany.pk) not in found  # another country, another domain
    assert "domain equal" in found[("vendor_record", record.pk)].reasons
    assert 0.5 <= found[("registration", earlier.pk)].score <= 1
    mirror = RegistrationConflict.objects.get(registration=earlier, other=reg)
    assert mirror.other_first is False


def test_same_partner_twice_is_told_plainly(world):
    first = submit(world)
    with pytest.raises(Conflict) as caught:
        submit(world, account_name="Acme Corporation", website="www.acme.com")
    assert f"#{first.pk}" in caught.value.message and "already registered" in caught.value.message
    assert DealRegistration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_partners_at_once_exactly_one_is_first(world, other_partner):
    # Row locks are what this tests: SQLite has none (it locks the whole file).
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL to PostgreSQL")
    org2, partnership2, pm2 = other_partner
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def register(name, actor, org, partnership):
        try:
            barrier.wait(timeout=10)
            results[name] = svc.registration_submit(
                actor=actor, org=org, partnership=partnership, **deal()
            ).pk
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=register, args=("a", world.partner, world.partner_org, world.partnership)),
        threading.Thread(target=register, args=("b", pm2, org2, partnership2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 2
    conflicts = RegistrationConflict.objects.filter(kind="registration")
    firsts = [
        pk for pk in results.values() if not conflicts.filter(registration_id=pk, other_first=True).exists()
    ]
    assert len(firsts) == 1  # exactly one has nobody before it
    second = next(pk for pk in results.values() if pk != firsts[0])
    assert conflicts.filter(registration_id=second, other_id=firsts[0], other_first=True).exists()
