"""The co-sell portal: registrations (the partner's form and list, the vendor's review with the
conflicts side by side) and intro requests (inbox, sent, thread), per partnership."""

from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.roles import Capability, role_can
from accounts.selectors import partnership_for
from coselling import forms as f
from coselling import selectors
from coselling.services import intros as intro_services
from coselling.services import registrations as registration_services
from coselling.services.common import vendor_of
from mapping.sharing.selectors.picks import overlap_pick_for
from prm.common.errors import ApplicationError, NotFound
from prm.common.portal import apply_error_to_form, portal_view


def _can(request, capability) -> bool:
    return role_can(request.membership.role, capability)


@portal_view
def hub(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    vendor = vendor_of(partnership)
    intros = list(selectors.intros_for(org=request.org, partnership=partnership)[:100])
    return render(
        request,
        "coselling/hub.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "is_vendor": vendor.pk == request.org.pk,
            "registrations": selectors.registrations_for(org=request.org, partnership=partnership)[:100],
            "inbox": [i for i in intros if i.recipient_id == request.org.pk],
            "sent": [i for i in intros if i.requester_id == request.org.pk],
            "can_cosell": _can(request, Capability.COSELL),
        },
    )


def _pick(request, partnership, overlap_id):
    if not overlap_id:
        return None
    try:
        return overlap_pick_for(org=request.org, partnership=partnership, overlap_id=overlap_id)
    except NotFound:
        return None


@portal_view
def registration_new(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    overlap_id = request.GET.get("overlap") or request.POST.get("overlap_id")
    pick = _pick(request, partnership, overlap_id)
    initial = {"overlap_id": pick.overlap.pk if pick else None}
    if pick:
        initial.update(
            account_name=pick.mine.get("name", ""),
            website=pick.mine.get("domain", ""),
            country=pick.mine.get("country", ""),
        )
    form = f.RegistrationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registration = registration_services.registration_submit(
                actor=request.user, org=request.org, partnership=partnership, **form.cleaned_data
            )
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
        else:
            messages.success(request, "Registration submitted.")
            return redirect(
                "coselling:registration", partnership_id=partnership.pk, registration_id=registration.pk
            )
    return render(
        request,
        "coselling/registration_form.html",
        {"partnership": partnership, "other": partnership.other(request.org), "form": form, "pick": pick},
    )


REVIEW_ACTIONS = {
    "request_info": (
        f.RequiredNoteForm,
        registration_services.registration_request_info,
        "More information requested.",
    ),
    "approve": (f.ApproveForm, registration_services.registration_approve, "Approved."),
    "reject": (f.ReasonForm, registration_services.registration_reject, "Rejected."),
    "extend": (f.ExtendForm, registration_services.registration_extend, "Protection extended."),
    "close": (f.CloseForm, registration_services.registration_close, "Closed."),
    "resubmit": (f.NoteForm, registration_services.registration_resubmit, "Submitted again."),
}


@portal_view
def registration_detail(request, partnership_id: int, registration_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    registration = selectors.registration_for(
        org=request.org, partnership=partnership, registration_id=registration_id
    )
    is_vendor = registration.vendor_id == request.org.pk
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        form_class, service, done = REVIEW_ACTIONS.get(action, (None, None, None))
        if form_class is None:
            messages.error(request, "Unknown action.")
        else:
            form = bound[action] = form_class(request.POST)
            if form.is_valid():
                try:
                    service(
                        actor=request.user, org=request.org, registration=registration, **form.cleaned_data
                    )
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                else:
                    messages.success(request, done)
                    return redirect(request.path)
    forms = {name: bound.get(name) or cls() for name, (cls, _s, _d) in REVIEW_ACTIONS.items()}
    return render(
        request,
        "coselling/registration_detail.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "registration": registration,
            "is_vendor": is_vendor,
            "can_review": is_vendor and _can(request, Capability.MANAGE_PARTNERSHIPS),
            "can_answer": not is_vendor and _can(request, Capability.COSELL),
            "conflicts": selectors.registration_conflicts_for(org=request.org, registration=registration)
            if is_vendor
            else [],
            "history": selectors.registration_history_for(org=request.org, registration=registration),
            "forms": forms,
        },
    )


@portal_view
def intro_new(request, partnership_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    overlap_id = request.GET.get("overlap") or request.POST.get("overlap_id")
    pick = overlap_pick_for(
        org=request.org, partnership=partnership, overlap_id=overlap_id
    )  # 404 if not seen
    form = f.IntroForm(request.POST or None, initial={"overlap_id": pick.overlap.pk})
    if request.method == "POST" and form.is_valid():
        try:
            intro = intro_services.intro_request_create(
                actor=request.user, org=request.org, partnership=partnership, **form.cleaned_data
            )
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
        else:
            messages.success(request, "Request sent.")
            return redirect("coselling:intro", partnership_id=partnership.pk, intro_id=intro.pk)
    return render(
        request,
        "coselling/intro_form.html",
        {"partnership": partnership, "other": partnership.other(request.org), "form": form, "pick": pick},
    )


INTRO_ACTIONS = {
    "accept": (f.NoteForm, intro_services.intro_accept, "Accepted."),
    "decline": (f.ReasonForm, intro_services.intro_decline, "Declined."),
    "reply": (f.ReplyForm, intro_services.intro_reply, "Message sent."),
    "done": (f.NoteForm, intro_services.intro_mark_done, "Marked done."),
}


@portal_view
def intro_detail(request, partnership_id: int, intro_id: int):
    partnership = partnership_for(org=request.org, partnership_id=partnership_id)
    intro = selectors.intro_for(org=request.org, partnership=partnership, intro_id=intro_id)
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        form_class, service, done = INTRO_ACTIONS.get(action, (None, None, None))
        if form_class is None:
            messages.error(request, "Unknown action.")
        else:
            form = bound[action] = form_class(request.POST)
            if form.is_valid():
                try:
                    service(actor=request.user, org=request.org, intro=intro, **form.cleaned_data)
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                else:
                    messages.success(request, done)
                    return redirect(request.path)
    thread, history = selectors.intro_thread_for(org=request.org, intro=intro)
    return render(
        request,
        "coselling/intro_detail.html",
        {
            "partnership": partnership,
            "other": partnership.other(request.org),
            "intro": intro,
            "thread": thread,
            "history": history,
            "is_recipient": intro.recipient_id == request.org.pk,
            "can_cosell": _can(request, Capability.COSELL) and partnership.status == "active",
            "forms": {name: bound.get(name) or cls() for name, (cls, _s, _d) in INTRO_ACTIONS.items()},
        },
    )
