from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import (
    Invitation,
    Membership,
    Organization,
    Partnership,
    PartnershipInvitation,
    StageChange,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "organization", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "memberships__role"]
    search_fields = ["email", "full_name", "memberships__organization__name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]
    inlines = [MembershipInline]


class OrgMembershipInline(MembershipInline):
    fields = ["user", "role", "created_at"]


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ["email", "role", "status", "invited_by", "expires_at", "accepted_at"]
    readonly_fields = ["invited_by", "accepted_at"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "website", "member_count", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["name", "slug", "website"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrgMembershipInline, InvitationInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(ordering="_members", description="Members")
    def member_count(self, obj):
        return obj._members


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "user__full_name", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "status", "expires_at", "invited_by"]
    list_filter = ["status", "role", "organization"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token", "accepted_by", "accepted_at"]
    list_select_related = ["organization", "invited_by"]


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "changed_by_organization", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # stage changes go through the service, which records who and when


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["__str__", "stage", "tier", "status", "started_at", "ended_at"]
    list_filter = ["status", "stage", "tier"]
    search_fields = ["initiator__name", "partner__name"]
    readonly_fields = ["stage", "started_at", "ended_at", "ended_by", "ended_by_organization"]
    list_select_related = ["initiator", "partner"]
    autocomplete_fields = ["initiator", "partner"]
    inlines = [StageChangeInline]


@admin.register(PartnershipInvitation)
class PartnershipInvitationAdmin(admin.ModelAdmin):
    list_display = ["inviter", "email", "invitee", "status", "expires_at", "responded_at"]
    list_filter = ["status"]
    search_fields = ["inviter__name", "invitee__name", "email"]
    readonly_fields = ["token", "partnership", "responded_by", "responded_at"]
    list_select_related = ["inviter", "invitee"]
    autocomplete_fields = ["inviter", "invitee"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["partnership", "from_stage", "to_stage", "changed_by", "changed_at"]
    list_filter = ["to_stage", "changed_at"]
    search_fields = ["partnership__initiator__name", "partnership__partner__name", "note"]
    list_select_related = ["partnership__initiator", "partnership__partner", "changed_by"]
