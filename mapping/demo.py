"""Demo account lists for `seed_demo`: the vendor's customers and prospects and each partner's, with
realistic overlaps (same companies written differently) so that matching has something to find, and
sharing rules so that every account-mapping page has something to show (nothing is shared by
default): counts only, overlapping accounts with an allow-list, all accounts, and private records.

Goes through the real services: the push commits the lists, the commit schedules matching.
"""

import random

from django.db import transaction
from django.db.models import Q

from accounts.models import Membership, Partnership, Role
from mapping.lists.services.imports import account_records_push
from mapping.lists.services.lists import account_list_create
from mapping.models import AccountList, AccountRecord, SharingRule
from mapping.sharing.services import records_set_private, sharing_rule_set

CORES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Pied Piper",
    "Aperture",
    "Massive Dynamic",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Virtucon",
    "Dunder Mifflin",
    "Bluth",
    "Sterling Cooper",
    "Prestige Worldwide",
    "Gekko",
    "Buy n Large",
    "Ollivander",
    "Blue Sun",
    "Weyland",
    "Yoyodyne",
    "Black Mesa",
    "Sirius",
    "Duff",
    "Krusty",
    "Frobozz",
    "Zorg",
    "Axiom",
    "Cogswell",
    "Spacely",
    "Rekall",
    "Octan",
    "Omni",
    "Ajax",
    "Vehement",
    "Mooby",
    "Kwik",
    "Big Kahuna",
    "Los Pollos",
    "Paper Street",
    "Lacuna",
]
SUFFIX = [
    "Software",
    "Systems",
    "Labs",
    "Logistics",
    "Foods",
    "Analytics",
    "Robotics",
    "Energy",
    "Health",
    "Media",
]
COUNTRIES = [
    ("US", "USA", "United States", "com"),
    ("DE", "Germany", "Deutschland", "de"),
    ("GB", "UK", "United Kingdom", "co.uk"),
    ("FR", "France", "FR", "fr"),
    ("NL", "Netherlands", "Holland", "nl"),
]
LEGAL = {
    "US": ["Inc", "Inc.", "LLC", "Corp."],
    "DE": ["GmbH", "AG"],
    "GB": ["Ltd", "Limited", "plc"],
    "FR": ["SA", "SAS"],
    "NL": ["B.V.", "N.V."],
}
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Healthcare", "Financial services", "Logistics"]
STAGES = {
    "customers": ["Customer", "Renewal due", "Expansion"],
    "prospects": ["Lead", "Qualified", "Discovery"],
    "opportunities": ["Proposal", "Negotiation", "Verbal commit"],
}

# What each organization shows the other side of each of its partnerships, list by list (a list
# not named here stays hidden). The vendor shares the same with every partner.
FIELDS = ["name", "domain", "owner_name", "owner_email", "stage"]
SHARING = {
    "northwind": {"Customers": ("overlaps", FIELDS), "Prospects": ("overlaps", FIELDS)},
    "bluefin": {"Customers": ("all", FIELDS + ["industry"]), "Pipeline": ("overlaps", FIELDS)},
    "cobalt": {"Customers": ("overlaps", FIELDS), "Prospects": ("counts", [])},
    "datapath": {"Customers": ("overlaps", ["name", "domain", "stage"])},
}
# Each partner's customers hold this many lookalikes of the vendor's customers (see _lookalike).
LOOKALIKES = 8
# Records kept private (never shown to a partner): (list name, how many), the first ones by CRM id.
PRIVATE = {"northwind": ("Customers", 2), "bluefin": ("Customers", 1)}


def _companies():
    rng = random.Random(2026)
    companies = []
    for i, core in enumerate(CORES):
        for suffix in rng.sample(SUFFIX, 4):
            code, alias_a, alias_b, tld = rng.choice(COUNTRIES)
            slug = f"{core}{suffix}".lower().replace(" ", "")
            companies.append(
                {
                    "id": len(companies),
                    "core": f"{core} {suffix}",
                    "code": code,
                    "aliases": (alias_a, alias_b),
                    "domain": f"{slug}.{tld}",
                    "industry": INDUSTRIES[i % len(INDUSTRIES)],
                }
            )
    return companies


def _record(rng, company, prefix, owners, kind):
    legal = rng.choice(LEGAL[company["code"]])
    name = f"{company['core']} {legal}"
    if rng.random() < 0.3:
        name = name.upper()
    website = rng.choice(
        [f"https://www.{company['domain']}", company["domain"], f"http://{company['domain']}/", ""]
    )
    owner_name, owner_email = rng.choice(owners)
    return {
        "name": name,
        "website": website,
        "country": rng.choice(company["aliases"]),
        "industry": company["industry"],
        "owner_name": owner_name,
        "owner_email": owner_email,
        "stage": STAGES[kind][company["id"] % 3],
        "crm_id": f"{prefix}-{company['id']:04d}",
    }


def _lookalike(rng, company, prefix, owners, kind):
    """The same company as someone else's record, written so that the engine is not sure (a typo,
    another legal form, no website, no country): a near miss for the review queue, or a match. No
    owner e-mail either: its domain (the partner's own) would stand in for the missing website."""
    words = company["core"].split()
    last = words[-1]
    middle = len(last) // 2
    owner_name, _owner_email = rng.choice(owners)
    return {
        "name": " ".join(words[:-1] + [last[:middle] + last[middle + 1 :]]) + " Holdings",
        "website": "",
        "country": "",
        "industry": company["industry"],
        "owner_name": owner_name,
        "owner_email": "",
        "stage": STAGES[kind][company["id"] % 3],
        "crm_id": f"{prefix}-L{company['id']:04d}",
    }


def _vendor_customer_ids() -> list[int]:
    """Companies (by id) in the vendor's customers: the partners' lookalikes are written after them."""
    crm_ids = AccountRecord.objects.filter(
        account_list__organization__slug="northwind", account_list__name="Customers"
    ).values_list("crm_id", flat=True)
    return sorted(
        {int(crm_id.rsplit("-", 1)[1]) for crm_id in crm_ids if crm_id.rsplit("-", 1)[-1].isdigit()}
    )


def extend_demo(*, orgs, stdout) -> None:
    companies = _companies()
    rng = random.Random(7)
    plan = {  # org slug -> {list name: (kind, share of companies)}
        "northwind": {"Customers": ("customers", 0.35), "Prospects": ("prospects", 0.35)},
        "bluefin": {"Customers": ("customers", 0.3), "Pipeline": ("opportunities", 0.15)},
        "cobalt": {"Customers": ("customers", 0.3), "Prospects": ("prospects", 0.2)},
        "datapath": {"Customers": ("customers", 0.4)},
    }
    created = 0
    for slug, lists in plan.items():
        org = orgs[slug]
        manager = (
            Membership.objects.filter(organization=org, role=Role.PARTNER_MANAGER)
            .select_related("user")
            .first()
        )
        owners = [
            (m.user.full_name, m.user.email)
            for m in Membership.objects.filter(
                organization=org, role__in=[Role.SALES_REP, Role.PARTNER_MANAGER]
            ).select_related("user")
        ]
        pool = companies[:]
        rng.shuffle(pool)
        for name, (kind, share) in lists.items():
            if AccountList.objects.filter(organization=org, name=name).exists():
                continue
            chosen, pool = pool[: int(len(companies) * share)], pool[int(len(companies) * share) :]
            prefix = f"{slug[:3].upper()}{kind[:1].upper()}"
            records = [_record(rng, c, prefix, owners, kind) for c in chosen]
            if slug != "northwind" and kind == "customers":
                taken = {c["id"] for c in chosen}
                others = [i for i in _vendor_customer_ids() if i not in taken]
                lookalike_rng = random.Random(slug)
                records += [
                    _lookalike(lookalike_rng, companies[i], prefix, owners, kind)
                    for i in sorted(lookalike_rng.sample(others, min(LOOKALIKES, len(others))))
                ]
            with transaction.atomic():
                account_list = account_list_create(actor=manager.user, org=org, name=name, kind=kind)
                account_records_push(
                    actor=manager.user, account_list=account_list, mode="replace", records=records
                )
                private_list, how_many = PRIVATE.get(slug, ("", 0))
                if name == private_list:
                    ids = list(
                        account_list.records.order_by("crm_id").values_list("pk", flat=True)[:how_many]
                    )
                    records_set_private(
                        actor=manager.user, account_list=account_list, record_ids=ids, private=True
                    )
            created += 1
    if created:
        stdout.write(f"Demo account lists: {created} created; matching runs for every partnership.")
    rules = _share(orgs)
    if rules:
        stdout.write(f"Demo sharing rules: {rules} set (the rest stays hidden).")


def _share(orgs) -> int:
    """Set the demo's sharing rules, leaving alone any rule already there (a re-run keeps changes
    made since)."""
    by_id = {org.pk: slug for slug, org in orgs.items()}
    partnerships = Partnership.objects.filter(
        Q(initiator__in=orgs.values()) | Q(partner__in=orgs.values()), status=Partnership.Status.ACTIVE
    )
    set_count = 0
    for partnership in partnerships:
        for org_id in (partnership.initiator_id, partnership.partner_id):
            slug = by_id.get(org_id)
            if slug is None:
                continue
            manager = (
                Membership.objects.filter(organization_id=org_id, role=Role.PARTNER_MANAGER)
                .select_related("user")
                .first()
            )
            for account_list in AccountList.objects.filter(organization_id=org_id, name__in=SHARING[slug]):
                if SharingRule.objects.filter(partnership=partnership, account_list=account_list).exists():
                    continue
                level, fields = SHARING[slug][account_list.name]
                sharing_rule_set(
                    actor=manager.user,
                    partnership=partnership,
                    account_list=account_list,
                    level=level,
                    fields=fields,
                )
                set_count += 1
    return set_count
