import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from prm.common.models import TimeStampedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with an e-mail address; belongs to organizations through memberships."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(TimeStampedModel):
    """A company on the platform: a vendor, a reseller, an ISV, an integrator..."""

    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        RESELLER = "reseller", "Reseller"
        ISV = "isv", "ISV / technology partner"
        INTEGRATOR = "integrator", "Systems integrator"
        DISTRIBUTOR = "distributor", "Distributor"
        AGENCY = "agency", "Agency / referral partner"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    PARTNER_MANAGER = "partner_manager", "Partner manager"
    SALES_REP = "sales_rep", "Sales rep"
    FINANCE = "finance", "Finance"
    VIEWER = "viewer", "Viewer"


class Membership(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(TimeStampedModel):
    """An invitation of a person, by e-mail, into an organization with a role."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return f"{self.email} → {self.organization} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == InvitationStatus.EXPIRED or (
            self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()
        )


class Stage(models.TextChoices):
    """POEM partner lifecycle."""

    STRATEGIZE = "strategize", "Strategize"
    RECRUIT = "recruit", "Recruit"
    ONBOARD = "onboard", "Onboard"
    ENABLE = "enable", "Enable"
    MARKET = "market", "Market"
    SELL = "sell", "Sell"
    INCENTIVIZE = "incentivize", "Incentivize"
    ACCELERATE = "accelerate", "Accelerate"


class Tier(models.TextChoices):
    REGISTERED = "registered", "Registered"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class PartnershipInvitation(TimeStampedModel):
    """One organization asks another to partner. The partnership exists only once the invited
    side accepts (dual opt-in): the inviter's consent is this invitation, the invitee's is the
    acceptance."""

    inviter = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="partnership_invitations_sent"
    )
    email = models.EmailField(help_text="Contact at the partner who receives the link.")
    invitee = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="partnership_invitations_received",
        help_text="Set when the partner is already on the platform, or once accepted.",
    )
    message = models.TextField(blank=True, max_length=2000)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    partnership = models.ForeignKey(
        "Partnership", on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return f"{self.inviter} → {self.invitee or self.email} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == InvitationStatus.EXPIRED or (
            self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()
        )


class Partnership(TimeStampedModel):
    """Two organizations that both accepted to work together."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    initiator = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="partnerships_initiated"
    )
    partner = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="partnerships_joined")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.ONBOARD)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.REGISTERED)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(initiator=models.F("partner")), name="partnership_two_orgs"),
            models.UniqueConstraint(
                fields=["initiator", "partner"],
                condition=Q(status="active"),
                name="partnership_one_active_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["initiator", "status"]), models.Index(fields=["partner", "status"])]

    def __str__(self):
        return f"{self.initiator} ⇄ {self.partner}"

    def other(self, org: Organization) -> Organization:
        return self.partner if org.pk == self.initiator_id else self.initiator

    def involves(self, org: Organization) -> bool:
        return org.pk in (self.initiator_id, self.partner_id)

    def sets_tier(self, org: Organization) -> bool:
        """The tier is the initiator's program level for its partner (incentive rates hang off it),
        so only the initiator's side sets it."""
        return org.pk == self.initiator_id


class StageChange(models.Model):
    """History of lifecycle stage changes: who moved the partnership, from what, to what, when."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.partnership}: {self.from_stage or '—'} → {self.to_stage}"


class TierChange(models.Model):
    """History of tier changes: who set the partnership's tier, from what, to what, when."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.CharField(max_length=20, choices=Tier.choices)
    to_tier = models.CharField(max_length=20, choices=Tier.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.partnership}: {self.from_tier} → {self.to_tier}"
