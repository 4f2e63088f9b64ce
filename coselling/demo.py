"""Co-sell demo data (seed_demo calls extend_demo through CosellingConfig): deal registrations in
every state, two of them in conflict, and intro requests in every state on overlaps both sides
see. Idempotent: registrations are added when the vendor has none, intro requests when the
partnership has none (they need the overlaps that matching writes after the lists' commit)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Membership, Partnership, Role
from coselling.models import DealRegistration, IntroRequest
from coselling.services import intros as intro_services
from coselling.services import registrations as registration_services

# (partner slug, account, website, country, value, then the vendor's steps)
REGISTRATIONS = [
    ("bluefin", "ACME Incorporated", "", "US", "48000.00", []),
    ("cobalt", "ACME Corp.", "acme.com", "US", "52000.00", []),  # conflicts with bluefin's, which came first
    ("bluefin", "Globex Corporation", "globex.example", "DE", "120000.00", [("approve", {})]),
    (
        "cobalt",
        "Initech GmbH",
        "initech.example",
        "DE",
        "15000.00",
        [("request_info", {"note": "Which products, and who is the buyer?"})],
    ),
    (
        "bluefin",
        "Umbrella Holdings",
        "umbrella.example",
        "GB",
        "9000.00",
        [("reject", {"reason": "Already a direct deal of ours."})],
    ),
    (
        "cobalt",
        "Stark Industries",
        "stark.example",
        "US",
        "250000.00",
        [("approve", {}), ("close", {"outcome": "won"})],
    ),
    (
        "bluefin",
        "Wayne Enterprises",
        "wayne.example",
        "US",
        "75000.00",
        [("approve", {}), ("close", {"outcome": "lost"})],
    ),
]
VENDOR_STEPS = {
    "approve": registration_services.registration_approve,
    "reject": registration_services.registration_reject,
    "request_info": registration_services.registration_request_info,
    "close": registration_services.registration_close,
}


def _user(org, role):
    m = Membership.objects.filter(organization=org, role=role).select_related("user").order_by("pk").first()
    return m.user if m else None


def extend_demo(*, orgs, stdout) -> None:
    vendor = orgs["northwind"]
    vendor_pm = _user(vendor, Role.PARTNER_MANAGER)
    partnerships = {
        p.partner.slug: p
        for p in Partnership.objects.filter(initiator=vendor, status="active").select_related(
            "initiator", "partner"
        )
    }
    close = timezone.localdate() + timedelta(days=75)
    made = 0
    seeded = DealRegistration.objects.filter(vendor=vendor).exists()
    for slug, name, website, country, value, steps in REGISTRATIONS:
        partnership = partnerships.get(slug)
        if partnership is None or seeded:
            continue
        registration = registration_services.registration_submit(
            actor=_user(orgs[slug], Role.SALES_REP),
            org=orgs[slug],
            partnership=partnership,
            account_name=name,
            website=website,
            country=country,
            value=value,
            currency="USD" if country == "US" else "EUR",
            expected_close=close,
            products="Northwind Platform",
            contact_name="Jordan Buyer",
            contact_email="",
            notes="Demo registration.",
        )
        for step, kwargs in steps:
            registration = VENDOR_STEPS[step](
                actor=vendor_pm, org=vendor, registration=registration, **kwargs
            )
        made += 1
    made_intros = _intros(vendor, orgs, partnerships.get("bluefin"), "bluefin", states=5)
    made_intros += _intros(vendor, orgs, partnerships.get("cobalt"), "cobalt", states=1)
    if made or made_intros:
        stdout.write(f"Demo co-selling: {made} deal registrations, {made_intros} intro requests.")


def _intros(vendor, orgs, partnership, slug: str, *, states: int) -> int:
    """Intro requests from the vendor's sales rep on overlaps it sees with a partner: open,
    accepted, declined, done, open (the first `states` of them)."""
    from mapping.sharing.selectors import OverlapFilters, overlap_listing_for

    if partnership is None or IntroRequest.objects.filter(partnership=partnership).exists():
        return 0
    rep = _user(vendor, Role.SALES_REP)
    listing = overlap_listing_for(org=vendor, partnership=partnership, user=rep, filters=OverlapFilters())
    rows = listing.rows(0, states) if listing.count() else []
    partner_org, partner_rep = orgs[slug], _user(orgs[slug], Role.SALES_REP)
    made = 0
    kinds = ["introduction", "intelligence", "joint_meeting", "introduction", "intelligence"]
    for n, row in enumerate(rows):
        intro = intro_services.intro_request_create(
            actor=rep,
            org=vendor,
            partnership=partnership,
            overlap_id=row["id"],
            kind=kinds[n],
            message="Could you help us on this account? We see it on both sides.",
        )
        made += 1
        if n == 1:
            intro_services.intro_accept(
                actor=partner_rep, org=partner_org, intro=intro, note="Happy to, let's talk Tuesday."
            )
        elif n == 2:
            intro_services.intro_decline(
                actor=partner_rep, org=partner_org, intro=intro, reason="We have no contact there any more."
            )
        elif n == 3:
            intro = intro_services.intro_accept(actor=partner_rep, org=partner_org, intro=intro)
            intro_services.intro_reply(
                actor=rep, org=vendor, intro=intro, body="Thanks for the introduction!"
            )
            intro_services.intro_mark_done(actor=rep, org=vendor, intro=intro)
    return made
