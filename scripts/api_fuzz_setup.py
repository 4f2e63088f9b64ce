"""Prepares the database of scripts/api_fuzz.sh (already migrated and seeded with `seed_demo`):
an API token for each fuzzing user, made directly in the database so that it does not depend on
the token endpoint's flow (MFA codes, throttling), and a schemathesis.toml per user that sends it
and fills the path parameters with ids that user can see (random ids would only ever reach 404s).

Writes DIR/<name>.toml for each USER given as NAME=EMAIL and prints nothing else on success.

    python scripts/api_fuzz_setup.py DIR pm=pm@cobalt.example viewer=viewer@northwind.example
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

import django  # noqa: E402

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402
from django.db import transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import Membership, Organization, Partnership, PartnershipInvitation, Role, User  # noqa: E402
from accounts.services import invitations as invitation_services  # noqa: E402
from accounts.services import partnerships as partnership_services  # noqa: E402
from mapping.lists.services.lists import account_list_create  # noqa: E402
from mapping.matching.models import MatchRun  # noqa: E402
from mapping.models import AccountList, ImportJob, ListChangeSet  # noqa: E402


def _admin_of(org: Organization) -> User:
    return Membership.objects.filter(organization=org, role=Role.ADMIN).select_related("user").first().user


def _pm_of(org: Organization) -> User:
    return (
        Membership.objects.filter(organization=org, role=Role.PARTNER_MANAGER)
        .select_related("user")
        .first()
        .user
    )


def _spare_partnership(org: Organization) -> Partnership:
    """A second partnership of `org` for the fuzzer to end, so that the demo partnership every other
    operation uses stays active."""
    other = Organization.objects.exclude(pk=org.pk).exclude(slug="northwind").order_by("slug").first()
    if org.slug != "northwind" and other is not None:
        invitation = partnership_services.partnership_invite(
            actor=_pm_of(org), org=org, email=_pm_of(other).email, message="Spare partnership for the fuzzer."
        )
        return partnership_services.partnership_invitation_accept(
            actor=_pm_of(other), org=other, token=invitation.token
        )
    return Partnership.objects.filter(initiator=org).order_by("-pk").first()


def _toml(value) -> str:
    return json.dumps(value)  # a JSON string or integer is a valid TOML one


@transaction.atomic
def prepare(user: User) -> dict:
    membership = Membership.objects.filter(user=user).select_related("organization").order_by("pk").first()
    org = membership.organization
    partnership = (
        Partnership.objects.filter(status=Partnership.Status.ACTIVE)
        .filter(initiator__slug="northwind", partner__slug="cobalt")
        .get()
    )
    lists = AccountList.objects.filter(organization=org, base_list__isnull=True).order_by("pk")
    account_list = lists.first()
    spare_list = account_list_create(
        actor=_admin_of(org),
        org=org,
        name=f"Spare list for the fuzzer ({user.email})",
        description="The fuzzer deletes this one.",
    )
    job = ImportJob.objects.filter(account_list=account_list).order_by("pk").first()
    changeset = ListChangeSet.objects.filter(account_list=account_list).order_by("pk").first()
    record = account_list.records.order_by("pk").first()
    other_member = (
        Membership.objects.filter(organization=org).exclude(user=user).exclude(role=Role.ADMIN).first()
    )
    invitation = invitation_services.invitation_create(
        actor=_admin_of(org), org=org, email=f"fuzz-invitee-{user.pk}@example.com", role=Role.VIEWER
    )
    partner_invitation = partnership_services.partnership_invite(
        actor=_pm_of(org), org=org, email=f"fuzz-partner-{user.pk}@example.com", message="For the fuzzer."
    )
    run = MatchRun.objects.filter(partnership=partnership).order_by("pk").first()
    spare_partnership = _spare_partnership(org)
    from coselling.models import DealRegistration, IntroRequest

    registration = DealRegistration.objects.filter(partnership=partnership).order_by("pk").first()
    intro = IntroRequest.objects.filter(partnership=partnership).order_by("pk").first()
    # POST /api/organizations/ makes its caller the new organization's admin, and an admin without
    # an authenticator is refused everywhere (403 mfa_required): with one, the rest of the run goes
    # on. The token is made after it (a token issued before TOTP was turned on is refused).
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    assert PartnershipInvitation.objects.filter(pk=partner_invitation.pk).exists()
    return {
        "token": token.key,
        "organization": org.pk,
        "parameters": {
            "path.org_id": org.pk,
            "path.member_id": other_member.pk,
            "path.partnership_id": partnership.pk,
            "path.list_id": account_list.pk,
            "path.job_id": job.pk if job else 1,
            "path.changeset_id": changeset.pk if changeset else 1,
            "path.run_id": run.pk if run else 1,
            "path.record_id": record.pk if record else 1,
            "path.invitation_id": invitation.pk,
            "path.registration_id": registration.pk if registration else 1,
            "path.intro_id": intro.pk if intro else 1,
        },
        # Operations that destroy what the others read get objects of their own.
        "operations": [
            ("DELETE /api/lists/{list_id}/", {"path.list_id": spare_list.pk}),
            ("POST /api/partnerships/{partnership_id}/end/", {"path.partnership_id": spare_partnership.pk}),
            (
                "POST /api/partnership-invitations/{invitation_id}/revoke/",
                {"path.invitation_id": partner_invitation.pk},
            ),
        ],
    }


def write_config(path: Path, prepared: dict) -> None:
    # The organization is named in every request: one the fuzzer creates could otherwise come first
    # by name and become the current one. No cache: nothing is written into the work tree.
    lines = [
        "[cache]",
        "enabled = false",
        "",
        "[headers]",
        f"Authorization = {_toml('Token ' + prepared['token'])}",
        f"X-Organization = {_toml(str(prepared['organization']))}",
        "",
        "[parameters]",
    ]
    lines += [f"{_toml(k)} = {_toml(v)}" for k, v in prepared["parameters"].items()]
    for label, params in prepared["operations"]:
        lines += ["", "[[operations]]", f"include-name = {_toml(label)}", "[operations.parameters]"]
        lines += [f"{_toml(k)} = {_toml(v)}" for k, v in params.items()]
    checks = (Path(__file__).parent / "api_fuzz_checks.toml").read_text()
    path.write_text("\n".join(lines) + "\n\n" + checks)


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    for spec in argv[1:]:
        name, _, email = spec.partition("=")
        user = User.objects.get(email=email)
        write_config(out / f"{name}.toml", prepare(user))


if __name__ == "__main__":
    main(sys.argv[1:])
