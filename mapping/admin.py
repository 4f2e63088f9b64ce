from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from mapping.lists.services import imports as import_services
from mapping.models import (
    AccountList,
    AccountRecord,
    ImportJob,
    ListChangeSet,
    MatchDecision,
    MatchRun,
    Overlap,
)
from prm.common.errors import ApplicationError


class AdminImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV or XLSX; columns are recognized, or the list's remembered mapping is used."
    )
    mode = forms.ChoiceField(choices=ImportJob.Mode.choices, initial=ImportJob.Mode.REPLACE)
    skip_invalid_rows = forms.BooleanField(required=False)


@admin.register(AccountList)
class AccountListAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "record_count", "last_changed_at", "import_link"]
    list_filter = ["kind", "source"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization", "base_list", "last_import"]
    readonly_fields = ["record_count", "last_changed_at", "last_import", "created_at", "updated_at"]

    def get_urls(self):
        return [
            path(
                "<int:list_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="mapping_accountlist_import",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Import")
    def import_link(self, obj):
        if obj.is_segment:
            return "—"
        return format_html(
            '<a href="{}">Import a file</a>', reverse("admin:mapping_accountlist_import", args=[obj.pk])
        )

    def import_view(self, request, list_id: int):
        """Import a file as the signed-in staff member: the same service as the portal, so they
        need the Manage lists capability in the list's organization."""
        account_list = get_object_or_404(AccountList.objects.select_related("organization"), pk=list_id)
        form = AdminImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_services.import_job_create(
                    actor=request.user,
                    account_list=account_list,
                    file=upload,
                    filename=upload.name,
                    source=ImportJob.Source.ADMIN,
                    mode=form.cleaned_data["mode"],
                    skip_invalid_rows=form.cleaned_data["skip_invalid_rows"],
                    start=True,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.info(request, f"Import #{job.pk} started.")
                return redirect("admin:mapping_importjob_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import into {account_list}",
            "form": form,
            "opts": self.model._meta,
            "original": account_list,
        }
        return render(request, "admin/mapping/accountlist/import.html", context)


@admin.register(AccountRecord)
class AccountRecordAdmin(admin.ModelAdmin):
    list_display = ["name", "account_list", "domain_norm", "country_norm", "crm_id", "private", "updated_at"]
    list_filter = ["private", "country_norm"]
    search_fields = ["name", "crm_id", "domain_norm"]
    list_select_related = ["account_list"]
    raw_id_fields = ["account_list"]
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account_list",
        "source",
        "status",
        "mode",
        "rows_total",
        "added",
        "edited",
        "removed",
        "rows_skipped",
        "rows_duplicate",
        "created_at",
    ]
    list_filter = ["status", "source", "mode"]
    search_fields = ["account_list__name", "original_filename", "checksum"]
    list_select_related = ["account_list"]
    raw_id_fields = ["account_list", "created_by", "changeset"]

    def has_add_permission(self, request):
        return False  # imports start from a list ("Import a file"), the portal, the API or the command

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(ListChangeSet)
class ListChangeSetAdmin(admin.ModelAdmin):
    list_display = ["id", "account_list", "added_count", "edited_count", "removed_count", "created_at"]
    list_select_related = ["account_list"]
    raw_id_fields = ["account_list"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "partnership",
        "status",
        "kind",
        "trigger",
        "progress",
        "records_rematched",
        "matches",
        "review",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["partnership__initiator__name", "partnership__partner__name", "trigger", "error"]
    list_select_related = ["partnership__initiator", "partnership__partner"]
    readonly_fields = [f.name for f in MatchRun._meta.fields]

    def has_add_permission(self, request):
        return False  # runs are scheduled by list changes or the re-match action


@admin.register(Overlap)
class OverlapAdmin(admin.ModelAdmin):
    list_display = ["id", "partnership", "left_record", "right_record", "score", "status", "confirmed"]
    list_filter = ["status", "confirmed"]
    search_fields = [
        "left_record__name",
        "right_record__name",
        "partnership__initiator__name",
        "partnership__partner__name",
    ]
    list_select_related = ["partnership__initiator", "partnership__partner", "left_record", "right_record"]
    raw_id_fields = ["left_record", "right_record", "run"]
    readonly_fields = [
        "partnership",
        "left_list",
        "right_list",
        "score",
        "status",
        "reasons",
        "confirmed",
        "run",
    ]

    def has_add_permission(self, request):
        return False  # overlaps come from the engine; people record decisions instead


@admin.register(MatchDecision)
class MatchDecisionAdmin(admin.ModelAdmin):
    list_display = ["partnership", "left_record", "right_record", "decision", "decided_by", "created_at"]
    list_filter = ["decision"]
    search_fields = ["left_record__name", "right_record__name"]
    raw_id_fields = ["left_record", "right_record"]
    list_select_related = [
        "partnership__initiator",
        "partnership__partner",
        "left_record",
        "right_record",
        "decided_by",
    ]


# Sharing rules are written through the portal or the API (the service audits every change):
# the admin reads them and their audit log.
from mapping.models import SharingRule, SharingRuleChange  # noqa: E402


@admin.register(SharingRule)
class SharingRuleAdmin(admin.ModelAdmin):
    list_display = ["account_list", "partnership", "level", "updated_by", "updated_at"]
    list_filter = ["level"]
    search_fields = ["account_list__name", "partnership__initiator__name", "partnership__partner__name"]
    list_select_related = ["account_list", "partnership__initiator", "partnership__partner", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SharingRuleChange)
class SharingRuleChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "organization", "list_name", "partnership", "changed_by", "before", "after"]
    search_fields = ["list_name", "organization__name", "changed_by__email"]
    list_select_related = ["organization", "partnership__initiator", "partnership__partner", "changed_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
