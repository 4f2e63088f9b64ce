"""Demo data: a vendor and three partners, users of every role, partnerships at several stages.

Idempotent: running it twice leaves the same data. Later apps extend it with account lists and
overlaps through the `extend_demo` hook below.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import Membership, Organization, Partnership, Role, Stage, Tier, User
from accounts.services import partnerships as partnership_services

DEMO_PASSWORD = "partner-demo-2026"
# A fixed authenticator secret for the demo admins (admins must use MFA); add it to any TOTP app.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"

ORGS = [
    ("northwind", "Northwind Software", Organization.Kind.VENDOR, "https://northwind.example"),
    ("bluefin", "Bluefin Consulting", Organization.Kind.INTEGRATOR, "https://bluefin.example"),
    ("cobalt", "Cobalt Resellers", Organization.Kind.RESELLER, "https://cobalt.example"),
    ("datapath", "Datapath Analytics", Organization.Kind.ISV, "https://datapath.example"),
]
ROLES = [
    (Role.ADMIN, "admin", "Avery Admin"),
    (Role.PARTNER_MANAGER, "pm", "Pat Partner-Manager"),
    (Role.SALES_REP, "sales", "Sam Sales"),
    (Role.FINANCE, "finance", "Fran Finance"),
    (Role.VIEWER, "viewer", "Vic Viewer"),
]
# partner slug -> (stage, tier)
PARTNERSHIPS = {
    "bluefin": (Stage.SELL, Tier.GOLD),
    "cobalt": (Stage.ENABLE, Tier.SILVER),
    "datapath": (Stage.ONBOARD, Tier.REGISTERED),
}


def demo_email(slug: str, role_key: str) -> str:
    return f"{role_key}@{slug}.example"


class Command(BaseCommand):
    help = "Create demo organizations, users of every role and partnerships (idempotent)."

    def handle(self, *args, **options):
        # The demo's invitation e-mails are not worth printing.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                orgs = self._orgs_and_users()
                self._partnerships(orgs)
        # Other apps add their demo data (account lists, overlaps...) through this hook.
        from django.apps import apps

        for config in apps.get_app_configs():
            hook = getattr(config, "extend_demo", None)
            if callable(hook):
                hook(orgs=orgs, stdout=self.stdout)
        self._print_logins()

    def _orgs_and_users(self) -> dict[str, Organization]:
        from allauth.account.models import EmailAddress
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        orgs = {}
        for slug, name, kind, website in ORGS:
            org, _ = Organization.objects.update_or_create(
                slug=slug, defaults={"name": name, "kind": kind, "website": website}
            )
            orgs[slug] = org
            for role, key, full_name in ROLES:
                email = demo_email(slug, key)
                user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True}
                )
                Membership.objects.update_or_create(user=user, organization=org, defaults={"role": role})
                if role == Role.ADMIN:
                    if slug == "northwind":
                        user.is_staff = user.is_superuser = True
                        user.save(update_fields=["is_staff", "is_superuser"])
                    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                        TOTP.activate(user, DEMO_TOTP_SECRET)
        return orgs

    def _partnerships(self, orgs):
        vendor = orgs["northwind"]
        vendor_pm = User.objects.get(email=demo_email("northwind", "pm"))
        for slug, (stage, tier) in PARTNERSHIPS.items():
            partner = orgs[slug]
            if Partnership.objects.filter(initiator=vendor, partner=partner, status="active").exists():
                continue
            partner_pm = User.objects.get(email=demo_email(slug, "pm"))
            invitation = partnership_services.partnership_invite(
                actor=vendor_pm, org=vendor, email=partner_pm.email, message="Let's map accounts together."
            )
            partnership = partnership_services.partnership_invitation_accept(
                actor=partner_pm, org=partner, token=invitation.token
            )
            order = list(Stage.values)
            for next_stage in order[order.index(Stage.ONBOARD) + 1 : order.index(stage) + 1]:
                partnership = partnership_services.partnership_change_stage(
                    actor=vendor_pm,
                    org=vendor,
                    partnership=partnership,
                    stage=next_stage,
                    note="Demo history",
                )
            partnership_services.partnership_set_tier(
                actor=vendor_pm, org=vendor, partnership=partnership, tier=tier
            )

    def _print_logins(self):
        out = self.stdout
        out.write(self.style.SUCCESS("Demo data ready."))
        out.write(f"Password for every demo user: {DEMO_PASSWORD}")
        out.write("Start with the vendor's partner manager:  pm@northwind.example")
        out.write("Other logins: ROLE@ORG.example with ROLE in admin, pm, sales, finance, viewer")
        out.write("              and ORG in northwind (vendor), bluefin, cobalt, datapath (partners).")
        out.write(
            f"Admins must use two-factor authentication: add the secret {DEMO_TOTP_SECRET} to an "
            "authenticator app (admin@northwind.example is also a Django admin superuser)."
        )
