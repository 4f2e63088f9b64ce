from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.roles import Capability, role_can
from accounts.selectors import partnership_for
from mapping.matching.forms import MatchThresholdsForm, MatchTrainForm
from mapping.matching.selectors import match_settings_of
from mapping.matching.services.review import (
    UNSUPERVISED_SAMPLE,
    match_model_reset,
    match_model_train,
    match_settings_update,
)
from prm.common.errors import ValidationFailed
from prm.common.portal import apply_error_to_form, portal_view


@portal_view
def match_settings(request, partnership_id: int):
    """The partnership's thresholds and scoring model: read by both sides, changed by those who
    manage lists (each change queues a full re-match)."""
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    current = match_settings_of(org=request.org, partnership=partnership)
    thresholds = MatchThresholdsForm(
        initial={"threshold": current["threshold"], "review_threshold": current["review_threshold"]}
    )
    train = MatchTrainForm(initial={"method": "labelled"})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "thresholds":
            thresholds = MatchThresholdsForm(request.POST)
            done = _submit(
                thresholds,
                "Thresholds saved; a full re-match is queued.",
                lambda d: match_settings_update(
                    actor=request.user, org=request.org, partnership=partnership, **d
                ),
                request,
            )
        elif action == "train":
            train = MatchTrainForm(request.POST)
            done = _submit(
                train,
                _training_message,
                lambda d: match_model_train(
                    actor=request.user,
                    org=request.org,
                    partnership=partnership,
                    method=d["method"],
                    sample=d["sample"] or UNSUPERVISED_SAMPLE,
                ),
                request,
            )
        elif action == "reset":
            own = match_model_reset(actor=request.user, org=request.org, partnership=partnership)
            messages.success(
                request,
                "Back to the default model; a full re-match is queued."
                if not own.model
                else f"Asked to go back to the default model; it is done once "
                f"{partnership.other(request.org).name} asks for it too.",
            )
            done = True
        else:
            messages.error(request, "Unknown action.")
            done = False
        if done:
            return redirect("matching:match_settings", partnership_id=partnership.pk)
        status = 400
    return render(
        request,
        "mapping/matching/match_settings.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "settings": current,
            "thresholds_form": thresholds,
            "train_form": train,
            "can_manage": role_can(request.membership.role, Capability.MANAGE_LISTS),
            "active": partnership.status == partnership.Status.ACTIVE,
        },
        status=status,
    )


def _training_message(own) -> str:
    if own.training in ("queued", "running"):
        return "Training is queued; a full re-match follows it."
    return (
        "Training asked for; it is queued once the partner asks for the same training "
        "(the model scores both sides' accounts, so both sides decide on it)."
    )


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
