"""Admin pages: read and search co-sell objects. Histories are append-only (read-only here);
changes of state go through the services (the portal and the API)."""

from django.contrib import admin

from coselling.models import (
    DealRegistration,
    IntroChange,
    IntroMessage,
    IntroRequest,
    RegistrationChange,
    RegistrationConflict,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RegistrationChangeInline(ReadOnlyInline):
    model = RegistrationChange
    fields = ["changed_at", "from_status", "to_status", "changed_by", "changed_by_organization", "note"]
    readonly_fields = fields


class RegistrationConflictInline(ReadOnlyInline):
    model = RegistrationConflict
    fk_name = "registration"
    fields = ["kind", "record", "other", "other_first", "score", "reasons"]
    readonly_fields = fields


@admin.register(DealRegistration)
class DealRegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "account_name",
        "registrant",
        "vendor",
        "value",
        "currency",
        "status",
        "protection_until",
        "submitted_at",
    ]
    list_filter = ["status", "currency", "extended_once", "submitted_at", "vendor"]
    search_fields = ["account_name", "website", "registrant__name", "vendor__name", "contact_email"]
    date_hierarchy = "submitted_at"
    list_select_related = ["registrant", "vendor"]
    raw_id_fields = ["partnership", "overlap", "created_by"]
    readonly_fields = [
        "status",
        "protection_until",
        "extended_once",
        "decision_reason",
        "submitted_at",
        "name_norm",
        "name_head",
        "domain_norm",
        "stem",
        "country_norm",
    ]
    inlines = [RegistrationConflictInline, RegistrationChangeInline]

    def has_add_permission(self, request):
        return False  # registrations are submitted through the service (conflicts, history)


@admin.register(RegistrationChange)
class RegistrationChangeAdmin(admin.ModelAdmin):
    list_display = [
        "registration",
        "from_status",
        "to_status",
        "changed_by",
        "changed_by_organization",
        "changed_at",
    ]
    list_filter = ["to_status", "changed_at"]
    search_fields = ["registration__account_name", "changed_by__email", "note"]
    list_select_related = ["registration", "changed_by", "changed_by_organization"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IntroMessageInline(ReadOnlyInline):
    model = IntroMessage
    fields = ["created_at", "author", "author_organization", "body"]
    readonly_fields = fields


class IntroChangeInline(ReadOnlyInline):
    model = IntroChange
    fields = ["changed_at", "from_status", "to_status", "changed_by", "changed_by_organization", "note"]
    readonly_fields = fields


@admin.register(IntroRequest)
class IntroRequestAdmin(admin.ModelAdmin):
    list_display = ["account_name", "kind", "requester", "recipient", "status", "respond_by", "created_at"]
    list_filter = ["status", "kind", "respond_by", "created_at"]
    search_fields = ["account_name", "message", "requester__name", "recipient__name"]
    list_select_related = ["requester", "recipient"]
    raw_id_fields = ["partnership", "overlap", "created_by"]
    readonly_fields = ["status", "decline_reason", "reminded_at"]
    inlines = [IntroMessageInline, IntroChangeInline]

    def has_add_permission(self, request):
        return False
