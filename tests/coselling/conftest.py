from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from coselling.services.registrations import registration_submit
from tests.factories import OrganizationFactory, PartnershipFactory, member
from tests.mapping.test_sharing_helpers import link, make_list, make_record, share


def deal(**overrides) -> dict:
    data = {
        "account_name": "ACME Corp.",
        "website": "acme.com",
        "country": "US",
        "value": "25000.00",
        "currency": "USD",
        "expected_close": timezone.localdate() + timedelta(days=60),
        "products": "Platform",
        "contact_name": "Wile E.",
        "contact_email": "wile@acme.com",
        "notes": "",
    }
    data.update(overrides)
    return data


def submit(world, **overrides):
    return registration_submit(
        actor=world.partner, org=world.partner_org, partnership=world.partnership, **deal(**overrides)
    )


@pytest.fixture
def other_partner(world):
    """A second partner of the same vendor (the owner org)."""
    org = OrganizationFactory(name="Second Partner", kind="reseller")
    partnership = PartnershipFactory(initiator=world.owner_org, partner=org)
    return org, partnership, member(org, Role.PARTNER_MANAGER, email="pm@second.test")


@pytest.fixture
def shared_overlap(world):
    """An overlap both sides see: the owner's record and the partner's, each list shared at overlaps."""
    mine = make_list(world.owner_org, "Owner customers")
    theirs = make_list(world.partner_org, "Partner customers")
    a = make_record(mine, "Initech Owner Name", domain_norm="initech.com", country="US")
    b = make_record(
        theirs,
        "Initech Partner Name",
        domain_norm="initech.com",
        country="US",
        owner_email="secret.rep@partner.test",
    )
    share(world.owner, world.partnership, mine, "overlaps", fields=["name"])
    share(world.partner, world.partnership, theirs, "overlaps", fields=["name"])
    return link(world.partnership, a, b)
