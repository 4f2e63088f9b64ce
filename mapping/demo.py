"""Demo account lists for `seed_demo`: the vendor's customers and prospects and each partner's, with
realistic overlaps (same companies written differently) so that matching has something to find.

Goes through the real services: the push commits the lists, the commit schedules matching.
"""

import random

from django.db import transaction

from accounts.models import Membership, Role
from mapping.models import AccountList
from mapping.services.imports import account_records_push
from mapping.services.lists import account_list_create

CORES = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
    "Soylent", "Vandelay", "Pied Piper", "Aperture", "Massive Dynamic", "Oscorp", "Gringotts", "Monarch",
    "Nakatomi", "Virtucon", "Dunder Mifflin", "Bluth", "Sterling Cooper", "Prestige Worldwide", "Gekko",
    "Buy n Large", "Ollivander", "Blue Sun", "Weyland", "Yoyodyne", "Black Mesa", "Sirius", "Duff",
    "Krusty", "Frobozz", "Zorg", "Axiom", "Cogswell", "Spacely", "Rekall", "Octan", "Omni", "Ajax",
    "Vehement", "Mooby", "Kwik", "Big Kahuna", "Los Pollos", "Paper Street", "Lacuna",
]
SUFFIX = ["Software", "Systems", "Labs", "Logistics", "Foods", "Analytics", "Robotics", "Energy", "Health", "Media"]
COUNTRIES = [("US", "USA", "United States", "com"), ("DE", "Germany", "Deutschland", "de"),
             ("GB", "UK", "United Kingdom", "co.uk"), ("FR", "France", "FR", "fr"), ("NL", "Netherlands", "Holland", "nl")]
LEGAL = {"US": ["Inc", "Inc.", "LLC", "Corp."], "DE": ["GmbH", "AG"], "GB": ["Ltd", "Limited", "plc"],
         "FR": ["SA", "SAS"], "NL": ["B.V.", "N.V."]}
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Healthcare", "Financial services", "Logistics"]


def _companies():
    rng = random.Random(2026)
    companies = []
    for i, core in enumerate(CORES):
        for suffix in rng.sample(SUFFIX, 4):
            code, alias_a, alias_b, tld = rng.choice(COUNTRIES)
            slug = f"{core}{suffix}".lower().replace(" ", "")
            companies.append({"id": len(companies), "core": f"{core} {suffix}", "code": code,
                              "aliases": (alias_a, alias_b), "domain": f"{slug}.{tld}",
                              "industry": INDUSTRIES[i % len(INDUSTRIES)]})
    return companies


def _record(rng, company, prefix, owners):
    legal = rng.choice(LEGAL[company["code"]])
    name = f"{company['core']} {legal}"
    if rng.random() < 0.3:
        name = name.upper()
    website = rng.choice([f"https://www.{company['domain']}", company["domain"], f"http://{company['domain']}/",
                          ""])
    owner_name, owner_email = rng.choice(owners)
    return {"name": name, "website": website, "country": rng.choice(company["aliases"]),
            "industry": company["industry"], "owner_name": owner_name, "owner_email": owner_email,
            "crm_id": f"{prefix}-{company['id']:04d}"}


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
        manager = Membership.objects.filter(organization=org, role=Role.PARTNER_MANAGER).select_related("user").first()
        owners = [(m.user.full_name, m.user.email) for m in Membership.objects.filter(
            organization=org, role__in=[Role.SALES_REP, Role.PARTNER_MANAGER]).select_related("user")]
        pool = companies[:]
        rng.shuffle(pool)
        for name, (kind, share) in lists.items():
            if AccountList.objects.filter(organization=org, name=name).exists():
                continue
            chosen, pool = pool[: int(len(companies) * share)], pool[int(len(companies) * share):]
            with transaction.atomic():
                account_list = account_list_create(actor=manager.user, org=org, name=name, kind=kind)
                account_records_push(
                    actor=manager.user, account_list=account_list, mode="replace",
                    records=[_record(rng, c, f"{slug[:3].upper()}{kind[:1].upper()}", owners) for c in chosen],
                )
            created += 1
    if created:
        stdout.write(f"Demo account lists: {created} created; matching runs for every partnership.")
