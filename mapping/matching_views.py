from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, role_can
from accounts.selectors import partnership_for
from mapping.matching_forms import MatchThresholdsForm, MatchTrainForm, ReviewDecisionForm, ReviewFilterForm
from mapping.selectors import account_lists_of
from mapping.selectors_matching import latest_match_run, match_settings_of
from mapping.selectors_review import review_queue_for
from mapping.services.matching import match_run_request
from mapping.services.review import (
    UNSUPERVISED_SAMPLE,
    match_decision_record,
    match_model_reset,
    match_model_train,
    match_settings_update,
)
from mapping.services.run_watch import match_run_retry
from mapping.sharing_models import SHAREABLE_FIELD_LABELS
from prm.common.errors import ApplicationError, NotFound, ValidationFailed
from prm.common.portal import apply_error_to_form, portal_view

REVIEW_PAGE_SIZE = 50


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
    return render(request, "mapping/_matching_status.html", {
        "partnership": partnership,
        "run": run,
        "can_rematch": role_can(request.membership.role, Capability.MANAGE_LISTS)
        and partnership.status == partnership.Status.ACTIVE,
        "review_count": review_queue_for(org=request.org, partnership=partnership, user=request.user).count(),
    })


@portal_view
def match_settings(request, partnership_id: int):
    """The partnership's thresholds and scoring model: read by both sides, changed by those who
    manage lists (each change queues a full re-match)."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    current = match_settings_of(org=request.org, partnership=partnership)
    thresholds = MatchThresholdsForm(initial={"threshold": current["threshold"],
                                              "review_threshold": current["review_threshold"]})
    train = MatchTrainForm(initial={"method": "labelled"})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "thresholds":
            thresholds = MatchThresholdsForm(request.POST)
            done = _submit(thresholds, "Thresholds saved; a full re-match is queued.", lambda d: match_settings_update(
                actor=request.user, org=request.org, partnership=partnership, **d), request)
        elif action == "train":
            train = MatchTrainForm(request.POST)
            done = _submit(train, _training_message, lambda d: match_model_train(
                actor=request.user, org=request.org, partnership=partnership, method=d["method"],
                sample=d["sample"] or UNSUPERVISED_SAMPLE), request)
        elif action == "reset":
            own = match_model_reset(actor=request.user, org=request.org, partnership=partnership)
            messages.success(request, "Back to the default model; a full re-match is queued." if not own.model
                             else f"Asked to go back to the default model; it is done once "
                                  f"{partnership.other(request.org).name} asks for it too.")
            done = True
        else:
            messages.error(request, "Unknown action.")
            done = False
        if done:
            return redirect("matching:match_settings", partnership_id=partnership.pk)
        status = 400
    return render(request, "mapping/match_settings.html", {
        "partnership": partnership,
        "other": partnership.other(request.org),
        "settings": current,
        "thresholds_form": thresholds,
        "train_form": train,
        "can_manage": role_can(request.membership.role, Capability.MANAGE_LISTS),
        "active": partnership.status == partnership.Status.ACTIVE,
    }, status=status)


def _training_message(own) -> str:
    if own.training in ("queued", "running"):
        return "Training is queued; a full re-match follows it."
    return ("Training asked for; it is queued once the partner asks for the same training "
            "(the model scores both sides' accounts, so both sides decide on it).")


def _submit(form, success, apply, request) -> bool:
    """Validate form, then apply(cleaned_data); a domain error lands on the form. True: done.
    success: the message, or a function of what apply returned that gives it."""
    if not form.is_valid():
        return False
    try:
        result = apply(form.cleaned_data)
    except ValidationFailed as exc:
        apply_error_to_form(form, exc)
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True


def _can_decide(request, partnership) -> bool:
    return (role_can(request.membership.role, Capability.MANAGE_LISTS)
            and partnership.status == partnership.Status.ACTIVE)


def _review_page(request, partnership, *, status: int = 200):
    form = ReviewFilterForm(request.GET or None, my_lists=list(account_lists_of(org=request.org)))
    queue = page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        try:
            queue = review_queue_for(org=request.org, partnership=partnership, user=request.user,
                                     filters=form.to_filters() if form.is_bound else None)
        except ValidationFailed as exc:
            apply_error_to_form(form, exc)
            status = 400
    if queue is not None:
        page = Paginator(queue, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "mapping/review/queue.html", {
        "partnership": partnership,
        "other": partnership.other(request.org),
        "form": form,
        "page": page,
        "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in queue.columns] if queue is not None else [],
        "extra_columns": queue.extra_columns if queue is not None else [],
        "shares_records": queue is not None and bool(queue.shared),
        "can_decide": _can_decide(request, partnership),
        "query": query.urlencode(),
    }, status=status)


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
            actor=request.user, org=request.org, partnership=partnership, left_record_id=row["left_record"],
            right_record_id=row["right_record"], decision=form.cleaned_data["decision"],
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
    return render(request, "mapping/review/_row.html", {
        "partnership": partnership,
        "row": row,
        "columns": [(c, SHAREABLE_FIELD_LABELS[c]) for c in queue.columns],
        "extra_columns": queue.extra_columns,
        "can_decide": _can_decide(request, partnership),
        "decided": decided,
        "error": error,
    })
