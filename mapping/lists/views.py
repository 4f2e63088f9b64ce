from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, role_can
from mapping.lists import selectors
from mapping.lists.apis import export_response, import_report_response
from mapping.lists.columns import FIELD_LABELS, FIELDS
from mapping.lists.forms import AccountListForm, MappingForm, UploadForm
from mapping.lists.models import ImportJob
from mapping.lists.services import imports as import_services
from mapping.lists.services import lists as list_services
from prm.common.errors import ApplicationError
from prm.common.portal import apply_error_to_form, portal_view


def _can_manage(request) -> bool:
    return role_can(request.membership.role, Capability.MANAGE_LISTS)


@portal_view
def index(request):
    lists = selectors.account_lists_of(org=request.org)
    form = AccountListForm(lists=lists.filter(base_list__isnull=True))
    if request.method == "POST":
        form = AccountListForm(request.POST, lists=lists.filter(base_list__isnull=True))
        if form.is_valid():
            data = form.cleaned_data
            try:
                account_list = list_services.account_list_create(
                    actor=request.user,
                    org=request.org,
                    name=data["name"],
                    kind=data["kind"],
                    description=data["description"],
                    base_list=data["base_list"],
                    filters=form.filters(),
                )
            except ApplicationError as exc:
                apply_error_to_form(form, exc)
            else:
                messages.success(request, f"List {account_list.name} created.")
                return redirect("lists:detail", list_id=account_list.pk)
    return render(
        request,
        "mapping/lists/index.html",
        {"lists": lists, "form": form, "can_manage": _can_manage(request)},
    )


def _detail_context(request, account_list, upload_form=None):
    records = selectors.account_list_records(
        org=request.org, account_list=account_list, search=request.GET.get("q", "")
    )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return {
        "account_list": account_list,
        "page": page,
        "record_count": selectors.account_list_record_count(org=request.org, account_list=account_list),
        "imports": selectors.import_jobs_of(org=request.org, account_list=account_list)[:10],
        "upload_form": upload_form or UploadForm(),
        "can_manage": _can_manage(request),
        "q": request.GET.get("q", ""),
    }


@portal_view
@require_GET
def detail(request, list_id: int):
    account_list = selectors.account_list_for(org=request.org, list_id=list_id)
    return render(request, "mapping/lists/detail.html", _detail_context(request, account_list))


@portal_view
@require_POST
def upload(request, list_id: int):
    account_list = selectors.account_list_for(org=request.org, list_id=list_id)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            job = import_services.import_job_create(
                actor=request.user,
                account_list=account_list,
                file=upload_file,
                filename=upload_file.name,
                source=ImportJob.Source.PORTAL,
            )
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
        else:
            return redirect("lists:import", list_id=account_list.pk, job_id=job.pk)
    return render(
        request, "mapping/lists/detail.html", _detail_context(request, account_list, form), status=400
    )


@portal_view
@require_POST
def delete(request, list_id: int):
    account_list = selectors.account_list_for(org=request.org, list_id=list_id)
    list_services.account_list_delete(actor=request.user, account_list=account_list)
    messages.success(request, f"List {account_list.name} deleted.")
    return redirect("lists:index")


@portal_view
@require_GET
def export(request, list_id: int):
    account_list = selectors.account_list_for(org=request.org, list_id=list_id)
    return export_response(org=request.org, account_list=account_list)


@portal_view
def import_job(request, list_id: int, job_id: int):
    job = selectors.import_job_for(org=request.org, list_id=list_id, job_id=job_id)
    form = None
    if job.status == ImportJob.Status.AWAITING_MAPPING:
        form = MappingForm(initial=MappingForm.initial_for(job), headers=job.headers)
        if request.method == "POST":
            form = MappingForm(request.POST, headers=job.headers)
            if form.is_valid():
                try:
                    import_services.import_job_confirm(
                        actor=request.user,
                        job=job,
                        column_mapping=form.column_mapping(),
                        mode=form.cleaned_data["mode"],
                        skip_invalid_rows=form.cleaned_data["skip_invalid_rows"],
                    )
                except ApplicationError as exc:
                    if exc.extra:
                        exc.extra = {f"map_{k}" if k in FIELDS else k: v for k, v in exc.extra.items()}
                    apply_error_to_form(form, exc)
                else:
                    return redirect("lists:import", list_id=list_id, job_id=job.pk)
    return render(request, "mapping/lists/import.html", _job_context(request, job, form))


def _job_context(request, job, form=None):
    return {
        "job": job,
        "account_list": job.account_list,
        "form": form,
        "labels": FIELD_LABELS,
        "mapping": [
            (FIELD_LABELS[name], job.column_mapping.get(name))
            for name in FIELDS
            if job.column_mapping.get(name)
        ],
        "record_count": selectors.account_list_record_count(org=request.org, account_list=job.account_list),
        "can_manage": _can_manage(request),
    }


@portal_view
@require_GET
def import_progress(request, list_id: int, job_id: int):
    """Polled by HTMX while the import runs; once it is over the whole page is shown again."""
    job = selectors.import_job_for(org=request.org, list_id=list_id, job_id=job_id)
    response = render(request, "mapping/lists/_import_progress.html", _job_context(request, job))
    if job.is_finished:
        response["HX-Refresh"] = "true"
    return response


@portal_view
@require_GET
def import_report(request, list_id: int, job_id: int):
    job = selectors.import_job_for(org=request.org, list_id=list_id, job_id=job_id)
    return import_report_response(job)
