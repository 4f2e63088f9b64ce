"""Co-selling between the two organizations of a partnership: deal registrations (with the
conflicts the matching engine finds and every state change kept) and intro requests (with their
thread and status history). Workflows live in coselling.services; these tables guard integrity."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization, Partnership
from prm.common.models import TimeStampedModel


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    INFO_REQUESTED = "info_requested", "More information requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    EXPIRED = "expired", "Expired"


# A registration that still claims its account: conflicts are looked for among these.
ACTIVE_REGISTRATION = (
    RegistrationStatus.SUBMITTED,
    RegistrationStatus.INFO_REQUESTED,
    RegistrationStatus.APPROVED,
)


class DealRegistration(TimeStampedModel):
    """An opportunity a partner registers with the vendor of the partnership."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="deal_registrations")
    registrant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="registrations_made")
    vendor = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="registrations_received")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    account_name = models.CharField(max_length=200)
    website = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=100, blank=True)
    # The registrant's pick among the overlaps it sees (optional).
    overlap = models.ForeignKey(
        "mapping.Overlap", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    expected_close = models.DateField()
    products = models.TextField(blank=True, max_length=2000)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    notes = models.TextField(blank=True, max_length=4000)
    status = models.CharField(
        max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.SUBMITTED
    )
    decision_reason = models.TextField(blank=True, max_length=2000)
    protection_until = models.DateField(null=True, blank=True)
    extended_once = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    # The account as the engine normalizes it (mapping.engine), for the conflict look-up.
    name_norm = models.CharField(max_length=500, blank=True)
    name_head = models.CharField(max_length=100, blank=True)
    domain_norm = models.CharField(max_length=255, blank=True)
    stem = models.CharField(max_length=255, blank=True)
    country_norm = models.CharField(max_length=2, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="registration_value_not_negative"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="registration_currency_iso"
            ),
            models.CheckConstraint(condition=~Q(registrant=models.F("vendor")), name="registration_two_orgs"),
        ]
        indexes = [
            models.Index(fields=["partnership", "status"], name="registration_partnership"),
            models.Index(fields=["vendor", "status", "name_head"], name="registration_vendor_name"),
            models.Index(fields=["vendor", "status", "domain_norm"], name="registration_vendor_domain"),
            models.Index(fields=["vendor", "status", "stem"], name="registration_vendor_stem"),
        ]

    def __str__(self):
        return f"{self.account_name} ({self.registrant} → {self.vendor}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_REGISTRATION


class RegistrationChange(models.Model):
    """Append-only history of a registration: every state change (who, when, before, after)."""

    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=20, choices=RegistrationStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RegistrationStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self):
        return f"{self.registration_id}: {self.from_status or '—'} → {self.to_status}"


class RegistrationConflict(models.Model):
    """An earlier claim on the same account that the engine found: one of the vendor's customers or
    open opportunities, or another active registration (of any partner). Only the vendor sees it."""

    class Kind(models.TextChoices):
        VENDOR_RECORD = "vendor_record", "Vendor's account"
        REGISTRATION = "registration", "Other registration"

    registration = models.ForeignKey(DealRegistration, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    record = models.ForeignKey(
        "mapping.AccountRecord", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    other = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The other registration was submitted first (first-come order).
    other_first = models.BooleanField(default=False)
    score = models.FloatField()
    reasons = models.TextField(blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="vendor_record", record__isnull=False, other__isnull=True))
                | Q(kind="registration", record__isnull=True, other__isnull=False),
                name="conflict_one_target",
            ),
            models.UniqueConstraint(fields=["registration", "record"], name="conflict_unique_record"),
            models.UniqueConstraint(fields=["registration", "other"], name="conflict_unique_other"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="conflict_score_range"),
        ]

    def __str__(self):
        return f"{self.registration_id} ~ {self.record_id or self.other_id} ({self.score:.2f})"


class IntroKind(models.TextChoices):
    INTRODUCTION = "introduction", "Introduction to a contact"
    INTELLIGENCE = "intelligence", "Account intelligence"
    JOINT_MEETING = "joint_meeting", "Joint meeting"


class IntroStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    DONE = "done", "Done"
    EXPIRED = "expired", "Expired"


class IntroRequest(TimeStampedModel):
    """A rep asks the partner for help on one account of an overlap they both see."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="intro_requests")
    requester = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="intros_sent")
    recipient = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="intros_received")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    overlap = models.ForeignKey("mapping.Overlap", on_delete=models.SET_NULL, null=True, related_name="+")
    # The requester's own account (its name, as the requester chose to tell it).
    account_name = models.CharField(max_length=500)
    kind = models.CharField(max_length=20, choices=IntroKind.choices)
    message = models.TextField(max_length=4000)
    respond_by = models.DateField()
    status = models.CharField(max_length=10, choices=IntroStatus.choices, default=IntroStatus.OPEN)
    decline_reason = models.TextField(blank=True, max_length=2000)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(requester=models.F("recipient")), name="intro_two_orgs"),
        ]
        indexes = [
            models.Index(fields=["partnership", "status"], name="intro_partnership"),
            models.Index(fields=["status", "respond_by"], name="intro_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.account_name} ({self.status})"


class IntroMessage(models.Model):
    """One message of an intro request's thread; both sides read the same thread."""

    request = models.ForeignKey(IntroRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.request_id}: {self.body[:40]}"


class IntroChange(models.Model):
    """Append-only status history of an intro request (who, when, from, to, note)."""

    request = models.ForeignKey(IntroRequest, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=10, choices=IntroStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=IntroStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self):
        return f"{self.request_id}: {self.from_status or '—'} → {self.to_status}"
