"""Portal pages of account mapping: the overlap matrix, overlap and white-space lists, sharing
rules, account 360 and the ecosystem. Views only translate; the rules live in the selectors."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.roles import Capability, role_can
from accounts.selectors import partnership_for
from mapping.lists.exports import csv_response
from mapping.lists.selectors import account_list_for, account_lists_of
from mapping.matching.selectors import latest_match_run
from mapping.matching.services.review import match_decision_record
from mapping.matching.services.runs import match_run_request, match_run_retry
from mapping.sharing import read_cache
from mapping.sharing import selectors as overlaps
from mapping.sharing.forms import OverlapFilterForm, ReviewDecisionForm, ReviewFilterForm, SharingRuleForm
from mapping.sharing.models import SHAREABLE_FIELD_LABELS, SharingLevel
from mapping.sharing.selectors.review import review_queue_for
from mapping.sharing.services import records_set_private, sharing_rule_set
from prm.common.errors import ApplicationError, NotFound, ValidationFailed
from prm.common.portal import apply_error_to_form, portal_view

PAGE_SIZE = 50


class _Pages:
    """Lets Django's Paginator page a listing (count + rows) without loading it."""

    def __init__(self, listing):
        self.listing = listing

    def count(self) -> int:
        return self.listing.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        if isinstance(item, slice):
            return self.listing.rows(item.start or 0, (item.stop or 0) - (item.start or 0))
        return self.listing.rows(item, 1)[0]


def _page(request, listing):
    return Paginator(_Pages(listing), PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _cached_body(request, name: str, partnership, context_of) -> str:
    """A page's content (template mapping/overlaps/_<name>_body.html over context_of()), kept by the
    read cache until the data it shows changes. The content depends on nothing else than the
    caller's organization, user and role and the URL."""
    parts = (
        request.org.pk,
        request.user.pk,
        request.user.email,
        request.membership.role,
        request.get_full_path(),
    )
    return mark_safe(
        read_cache.cached(  # nosec B308 B703  # rendered by our own (autoescaping) template
            f"portal-{name}",
            partnership=partnership,
            parts=parts,
            compute=lambda: render_to_string(f"mapping/sharing/_{name}_body.html", context_of()),
        )
    )


def _page_of(request, partnership, template: str, body: str):
    return render(
        request, template, {"partnership": partnership, "other": partnership.other(request.org), "body": body}
    )


@portal_view
@require_GET
def matrix(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)

    def context() -> dict:
        result = overlaps.overlap_matrix_for(org=request.org, partnership=partnership)
        return {
            "partnership": partnership,
            "other": result.side.other,
            "matrix": result,
            "quick_wins": [(key, label) for key, (_a, _b, label) in overlaps.QUICK_WINS.items()],
            "white_space_lists": [s for s, _size in result.columns if s.shows_white_space],
            "shares_records": any(s.shows_records for s, _size in result.columns),
            "can_manage": role_can(request.membership.role, Capability.MANAGE_LISTS),
        }

    return _page_of(
        request,
        partnership,
        "mapping/sharing/matrix.html",
        _cached_body(request, "matrix", partnership, context),
    )


@portal_view
def sharing(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    failed = None
    if request.method == "POST":
        form = SharingRuleForm(request.POST, auto_id=f"rule{request.POST.get('list_id', '')}_%s")
        if form.is_valid():
            account_list = account_list_for(org=request.org, list_id=form.cleaned_data["list_id"])  # else 404
            try:
                rule = sharing_rule_set(
                    actor=request.user,
                    partnership=partnership,
                    account_list=account_list,
                    level=form.cleaned_data["level"],
                    fields=form.cleaned_data["fields"],
                    extra_fields=form.cleaned_data["extra_fields"],
                )
            except ApplicationError as exc:
                apply_error_to_form(form, exc)
                failed = form
            else:
                messages.success(request, f"{account_list.name}: {rule.get_level_display().lower()}.")
                return redirect("overlaps:sharing", partnership_id=partnership.pk)
        else:
            failed = form
    rows = []
    for account_list, rule in overlaps.sharing_rules_of(org=request.org, partnership=partnership):
        if failed is not None and str(failed.data.get("list_id")) == str(account_list.pk):
            form = failed
        else:
            form = SharingRuleForm(
                initial={
                    "list_id": account_list.pk,
                    "level": rule.level if rule else SharingLevel.HIDDEN,
                    "fields": rule.fields if rule and rule.fields else ["name", "domain"],
                    "extra_fields": ", ".join(rule.extra_fields) if rule else "",
                },
                auto_id=f"rule{account_list.pk}_%s",
            )
        rows.append((account_list, rule, form))
    is_admin = request.membership.role == Role.ADMIN
    changes = (
        overlaps.sharing_rule_changes_of(
            org=request.org, membership=request.membership, partnership=partnership
        )[:50]
        if is_admin
        else []
    )
    return render(
        request,
        "mapping/sharing/sharing.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "rows": rows,
            "changes": changes,
            "is_admin": is_admin,
            "can_manage": role_can(request.membership.role, Capability.MANAGE_LISTS),
            "levels": SharingLevel.choices,
        },
        status=400 if failed is not None else 200,
    )


def _overlap_listing(request, partnership):
    # my lists and theirs shared at record level, read once: the filter form offers them, the listing uses them
    in_view = overlaps.lists_in_view(org=request.org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    my_lists, their_lists = in_view
    form = OverlapFilterForm(request.GET or None, my_lists=my_lists, their_lists=their_lists)
    if request.GET and not form.is_valid():
        raise ValidationFailed(
            "Check the filters: "
            + "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        )
    filters = form.to_filters() if request.GET else overlaps.OverlapFilters()
    listing = overlaps.overlap_listing_for(
        org=request.org, partnership=partnership, user=request.user, filters=filters, in_view=in_view
    )
    return form, listing, their_lists


@portal_view
@require_GET
def overlap_list(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)

    def context() -> dict:
        form, listing, their_lists = _overlap_listing(request, partnership)
        page = _page(request, listing)
        for row in page.object_list:  # the partner's values in column order (absent: blank)
            row["their_cells"] = [row["partner"]["fields"].get(key, "") for key in listing.columns] + [
                row["partner"]["extra"].get(key, "") for key in listing.extra_columns
            ]
        return {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "form": form,
            "page": page,
            "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in listing.columns],
            "extra_columns": listing.extra_columns,
            "query": _query_without_page(request),
            "shares_records": bool(their_lists),
            "view_label": overlaps.QUICK_WINS.get(request.GET.get("view", ""), (None, None, ""))[2],
        }

    try:
        body = _cached_body(request, "list", partnership, context)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("overlaps:overlaps", partnership_id=partnership.pk)
    return _page_of(request, partnership, "mapping/sharing/list.html", body)


@portal_view
@require_GET
def overlap_export(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    _form, listing, _their = _overlap_listing(request, partnership)
    return csv_response(overlaps.listing_csv_rows(listing), f"overlaps-{partnership.pk}.csv")


def _partner_white_space(request, partnership):
    return overlaps.partner_white_space_for(
        org=request.org,
        partnership=partnership,
        their_list_id=request.GET.get("their_list"),
        search=request.GET.get("q", "")[:200],
    )


@portal_view
@require_GET
def partner_white_space(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    listing = _partner_white_space(request, partnership)
    return render(
        request,
        "mapping/sharing/white_space.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "their_list": listing.shared,
            "page": _page(request, listing),
            "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in listing.columns],
            "extra_columns": listing.extra_columns,
            "query": _query_without_page(request),
            "q": request.GET.get("q", ""),
        },
    )


@portal_view
@require_GET
def partner_white_space_export(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    listing = _partner_white_space(request, partnership)
    return csv_response(overlaps.listing_csv_rows(listing), f"partner-white-space-{partnership.pk}.csv")


def _my_white_space(request, partnership):
    return overlaps.my_white_space_for(
        org=request.org,
        partnership=partnership,
        my_list_id=request.GET.get("my_list") or None,
        user=request.user,
        mine_only=request.GET.get("mine") in ("1", "on", "true"),
        search=request.GET.get("q", "")[:200],
    )


@portal_view
@require_GET
def my_white_space(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    listing = _my_white_space(request, partnership)
    return render(
        request,
        "mapping/sharing/my_white_space.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "page": _page(request, listing),
            "my_lists": [lst for lst in account_lists_of(org=request.org)],
            "query": _query_without_page(request),
            "q": request.GET.get("q", ""),
            "my_list": request.GET.get("my_list", ""),
            "mine": request.GET.get("mine") in ("1", "on", "true"),
        },
    )


@portal_view
@require_GET
def my_white_space_export(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    listing = _my_white_space(request, partnership)
    return csv_response(overlaps.listing_csv_rows(listing), f"my-white-space-{partnership.pk}.csv")


@portal_view
@require_GET
def account_360(request, record_id: int):
    record, partners = overlaps.account_360_for(org=request.org, record_id=record_id)
    return render(
        request,
        "mapping/sharing/account_360.html",
        {
            "record": record,
            "partners": partners,
            "labels": SHAREABLE_FIELD_LABELS,
        },
    )


@portal_view
@require_GET
def ecosystem(request):
    sort = request.GET.get("sort", "-total")[:60]
    rows = overlaps.ecosystem_for(org=request.org, sort=sort)
    return render(
        request,
        "mapping/sharing/ecosystem.html",
        {
            "rows": rows,
            "columns": overlaps.ecosystem_columns(),
            "sort": sort,
        },
    )


@portal_view
@require_GET
def ecosystem_export(request):
    rows = overlaps.ecosystem_for(org=request.org, sort=request.GET.get("sort", "-total")[:60])
    return csv_response(overlaps.ecosystem_csv_rows(rows), "ecosystem.csv")


@portal_view
@require_POST
def record_private(request, list_id: int, record_id: int):
    """Mark one record of my list private (never shown to partners) or shareable again."""
    account_list = account_list_for(org=request.org, list_id=list_id)
    private = request.POST.get("private")
    if private not in ("1", "0"):
        raise ValidationFailed("Choose private or shareable.")
    records_set_private(
        actor=request.user, account_list=account_list, record_ids=[record_id], private=private == "1"
    )
    messages.success(
        request,
        "The account is now private: no partner sees it, not even in counts."
        if private == "1"
        else "The account is shareable again under your sharing rules.",
    )
    query = {k: v for k, v in (("page", request.POST.get("page", "")), ("q", request.POST.get("q", ""))) if v}
    url = reverse("lists:detail", args=[account_list.pk])
    return redirect(f"{url}?{urlencode(query)}" if query else url)


# ---------------------------------------------------- the matching status and the review queue


@portal_view
def matching_status(request, partnership_id: int):
    """The partnership's matching status: a progress bar that polls itself while a run is active."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    if request.method == "POST":
        if request.POST.get("action") == "retry":  # a run stuck past its expected time
            match_run_retry(actor=request.user, org=request.org, partnership=partnership)
            messages.success(request, "The stuck run is sent again.")
        else:
            match_run_request(actor=request.user, org=request.org, partnership=partnership)
            messages.success(request, "A full re-match is queued.")
        if not request.htmx:
            return redirect("portal:partnership_detail", partnership_id=partnership.pk)
    run = latest_match_run(org=request.org, partnership_id=partnership.pk)
    return render(
        request,
        "mapping/matching/_matching_status.html",
        {
            "partnership": partnership,
            "run": run,
            "can_rematch": role_can(request.membership.role, Capability.MANAGE_LISTS)
            and partnership.status == partnership.Status.ACTIVE,
            "review_count": review_queue_for(
                org=request.org, partnership=partnership, user=request.user
            ).count(),
        },
    )


REVIEW_PAGE_SIZE = 50


def _can_decide(request, partnership) -> bool:
    return (
        role_can(request.membership.role, Capability.MANAGE_LISTS)
        and partnership.status == partnership.Status.ACTIVE
    )


def _review_page(request, partnership, *, status: int = 200):
    form = ReviewFilterForm(request.GET or None, my_lists=list(account_lists_of(org=request.org)))
    queue = page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        try:
            queue = review_queue_for(
                org=request.org,
                partnership=partnership,
                user=request.user,
                filters=form.to_filters() if form.is_bound else None,
            )
        except ValidationFailed as exc:
            apply_error_to_form(form, exc)
            status = 400
    if queue is not None:
        page = Paginator(queue, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mapping/sharing/review/queue.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "form": form,
            "page": page,
            "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in queue.columns] if queue is not None else [],
            "extra_columns": queue.extra_columns if queue is not None else [],
            "shares_records": queue is not None and bool(queue.shared),
            "can_decide": _can_decide(request, partnership),
            "query": query.urlencode(),
        },
        status=status,
    )


@portal_view
@require_GET
def review_queue(request, partnership_id: int):
    """The pairs waiting for review, with Confirm / Reject on each (for those who may decide)."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    return _review_page(request, partnership)


@portal_view
@require_POST
def review_decide(request, partnership_id: int, pair_id: int):
    """Confirm or reject one pair of my review queue (only a pair that waits there: else 404)."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    queue = review_queue_for(org=request.org, partnership=partnership, user=request.user)
    row = queue.pair(pair_id)
    if row is None:
        raise NotFound("Pair not found.")
    form = ReviewDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed("Choose Confirm or Reject.", extra=form.errors)
        decided = match_decision_record(
            actor=request.user,
            org=request.org,
            partnership=partnership,
            left_record_id=row["left_record"],
            right_record_id=row["right_record"],
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        if request.htmx:  # the row tells, in place (htmx swaps 2xx responses only)
            return _row(request, queue, row, error=exc.message)
        messages.error(request, exc.message)
        return _review_page(request, partnership, status=exc.status_code)
    if request.htmx:
        return _row(request, queue, row, decided=decided)
    messages.success(request, f"{row['mine']['name']}: {decided.get_decision_display().lower()}.")
    return redirect("matching:review_queue", partnership_id=partnership.pk)


def _row(request, queue, row, *, decided=None, error=""):
    partnership = queue.side.partnership
    return render(
        request,
        "mapping/sharing/review/_row.html",
        {
            "partnership": partnership,
            "row": row,
            "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in queue.columns],
            "extra_columns": queue.extra_columns,
            "can_decide": _can_decide(request, partnership),
            "decided": decided,
            "error": error,
        },
    )
