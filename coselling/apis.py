"""The co-sell REST API: deal registrations (with the vendor's conflict review) and intro requests.
Views translate: parse, call one service or selector, render. Money is a decimal text."""

from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.apis import OrgRefOut
from accounts.selectors import partnership_for
from coselling import selectors
from coselling.models import IntroKind, RegistrationStatus
from coselling.services import intros as intro_services
from coselling.services import registrations as registration_services
from prm.common.api import OrgAPIView, parse

MONEY_PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,4})?$"  # rounded half up to the cent by the service
money_validator = RegexValidator(
    MONEY_PATTERN, "A decimal amount (at most 4 decimals, rounded half up to the cent), e.g. 1250.00."
)

# ---------------------------------------------------------------- output


class RegistrationOut(serializers.Serializer):
    id = serializers.IntegerField()
    partnership_id = serializers.IntegerField()
    registrant = OrgRefOut()
    vendor = OrgRefOut()
    account_name = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField()
    overlap_id = serializers.IntegerField(allow_null=True)
    value = serializers.CharField(help_text="A decimal text with 2 decimals (never a float).")
    currency = serializers.CharField(help_text="ISO 4217 code.")
    expected_close = serializers.DateField()
    products = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    notes = serializers.CharField()
    status = serializers.ChoiceField(choices=RegistrationStatus.choices)
    decision_reason = serializers.CharField()
    protection_until = serializers.DateField(allow_null=True)
    extended_once = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    created_by = serializers.SerializerMethodField()

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.email if obj.created_by else None


class ChangeOut(serializers.Serializer):
    id = serializers.IntegerField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    changed_at = serializers.DateTimeField()
    changed_by = serializers.SerializerMethodField()
    changed_by_organization = serializers.SerializerMethodField()

    def get_changed_by(self, obj) -> str | None:
        return obj.changed_by.email if obj.changed_by else None

    def get_changed_by_organization(self, obj) -> str | None:
        return obj.changed_by_organization.name if obj.changed_by_organization else None


class ConflictRecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()
    country = serializers.CharField()
    list_name = serializers.CharField(source="account_list.name")


class ConflictRegistrationOut(serializers.Serializer):
    id = serializers.IntegerField()
    account_name = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField()
    registrant = OrgRefOut()
    submitted_at = serializers.DateTimeField()


class ConflictOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.CharField()
    other_first = serializers.BooleanField(help_text="The other claim came first.")
    vendor_record = ConflictRecordOut(source="record", allow_null=True)
    registration = ConflictRegistrationOut(source="other", allow_null=True)


class IntroOut(serializers.Serializer):
    id = serializers.IntegerField()
    partnership_id = serializers.IntegerField()
    requester = OrgRefOut()
    recipient = OrgRefOut()
    overlap_id = serializers.IntegerField(allow_null=True)
    account_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=IntroKind.choices)
    message = serializers.CharField()
    respond_by = serializers.DateField()
    status = serializers.CharField()
    decline_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.SerializerMethodField()

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.email if obj.created_by else None


class IntroMessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    author = serializers.SerializerMethodField()
    organization = serializers.CharField(source="author_organization.name")

    def get_author(self, obj) -> str | None:
        return obj.author.email if obj.author else None


class IntroDetailOut(IntroOut):
    messages = IntroMessageOut(many=True)
    history = ChangeOut(many=True)


# ---------------------------------------------------------------- input


def _text(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, default="", **kwargs
    )


class RegistrationIn(serializers.Serializer):
    account_name = serializers.CharField(max_length=200)
    website = _text(255, help_text="The account's website or domain, e.g. acme.com.")
    country = _text(100, help_text="Country name or ISO 3166 code.")
    overlap_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="An overlap the caller sees."
    )
    value = serializers.CharField(
        max_length=15, validators=[money_validator], help_text="Decimal text, e.g. 1250.00."
    )
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    expected_close = serializers.DateField(help_text="Today or later.")
    products = _text(2000)
    contact_name = _text(200)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    notes = _text(4000)


class ResubmitIn(serializers.Serializer):
    account_name = serializers.CharField(max_length=200, required=False)
    website = serializers.CharField(max_length=255, required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    value = serializers.CharField(max_length=15, validators=[money_validator], required=False)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    expected_close = serializers.DateField(required=False)
    products = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    note = _text(2000, help_text="The answer to the vendor's question.")


class NoteIn(serializers.Serializer):
    note = _text(2000)


class RequiredNoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What the vendor asks.")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApproveIn(serializers.Serializer):
    protection_days = serializers.IntegerField(min_value=1, max_value=365, default=90)
    note = _text(2000)


class ExtendIn(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=90)
    note = _text(2000)


class CloseIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[("won", "Won"), ("lost", "Lost")])
    note = _text(2000)


class IntroIn(serializers.Serializer):
    overlap_id = serializers.IntegerField(min_value=1, help_text="An overlap the caller sees.")
    kind = serializers.ChoiceField(choices=IntroKind.choices)
    message = serializers.CharField(max_length=4000)
    respond_by = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Default: 5 business days from today."
    )


class ReplyIn(serializers.Serializer):
    body = serializers.CharField(max_length=4000)


# ---------------------------------------------------------------- views


class StatusQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=RegistrationStatus.choices, required=False)


class BoxQuery(serializers.Serializer):
    box = serializers.ChoiceField(choices=[("inbox", "Asked of us"), ("sent", "Asked by us")], required=False)


STATUS_PARAM = OpenApiParameter("status", enum=RegistrationStatus.values, required=False)
BOX_PARAM = OpenApiParameter("box", enum=["inbox", "sent"], required=False)


class _RegistrationView(OrgAPIView):
    def registration(self, partnership_id, registration_id):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        return selectors.registration_for(
            org=self.org, partnership=partnership, registration_id=registration_id
        )


class RegistrationListApi(OrgAPIView):
    @extend_schema(parameters=[STATUS_PARAM], responses=RegistrationOut(many=True))
    def get(self, request, partnership_id: int):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        query = parse(StatusQuery, request.query_params)
        rows = selectors.registrations_for(
            org=self.org, partnership=partnership, status=query.get("status", "")
        )
        return self.paginate(rows, RegistrationOut)

    @extend_schema(request=RegistrationIn, responses={201: RegistrationOut})
    def post(self, request, partnership_id: int):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(RegistrationIn, request.data)
        registration = registration_services.registration_submit(
            actor=request.user, org=self.org, partnership=partnership, **data
        )
        return Response(RegistrationOut(registration).data, status=status.HTTP_201_CREATED)


class RegistrationDetailApi(_RegistrationView):
    @extend_schema(responses=RegistrationOut)
    def get(self, request, partnership_id: int, registration_id: int):
        return Response(RegistrationOut(self.registration(partnership_id, registration_id)).data)


class RegistrationHistoryApi(_RegistrationView):
    @extend_schema(responses=ChangeOut(many=True))
    def get(self, request, partnership_id: int, registration_id: int):
        registration = self.registration(partnership_id, registration_id)
        return self.paginate(
            selectors.registration_history_for(org=self.org, registration=registration), ChangeOut
        )


class RegistrationConflictsApi(_RegistrationView):
    """The vendor's review: each conflict with its score, reasons and first-come order. Anyone else: 404."""

    @extend_schema(responses=ConflictOut(many=True))
    def get(self, request, partnership_id: int, registration_id: int):
        registration = self.registration(partnership_id, registration_id)
        conflicts = selectors.registration_conflicts_for(org=self.org, registration=registration)
        return self.paginate(conflicts, ConflictOut)


def _action(serializer, call, doc: str):
    class RegistrationActionApi(_RegistrationView):
        @extend_schema(request=serializer, responses=RegistrationOut, description=doc)
        def post(self, request, partnership_id: int, registration_id: int):
            registration = self.registration(partnership_id, registration_id)
            data = parse(serializer, request.data)
            registration = call(actor=request.user, org=self.org, registration=registration, data=data)
            return Response(RegistrationOut(registration).data)

    RegistrationActionApi.__name__ = RegistrationActionApi.__qualname__ = (
        f"Registration{serializer.__name__}Api"
    )
    return RegistrationActionApi


RegistrationRequestInfoApi = _action(
    RequiredNoteIn,
    lambda *, data, **kw: registration_services.registration_request_info(note=data["note"], **kw),
    "The vendor asks the partner for more information.",
)
RegistrationApproveApi = _action(
    ApproveIn,
    lambda *, data, **kw: registration_services.registration_approve(**data, **kw),
    "The vendor approves: the account is protected for protection_days (default 90).",
)
RegistrationRejectApi = _action(
    ReasonIn,
    lambda *, data, **kw: registration_services.registration_reject(reason=data["reason"], **kw),
    "The vendor rejects, with a reason the partner sees.",
)
RegistrationExtendApi = _action(
    ExtendIn,
    lambda *, data, **kw: registration_services.registration_extend(**data, **kw),
    "The vendor extends an approved registration's protection, once.",
)
RegistrationCloseApi = _action(
    CloseIn,
    lambda *, data, **kw: registration_services.registration_close(**data, **kw),
    "The vendor closes an approved registration as won or lost.",
)
RegistrationResubmitApi = _action(
    ResubmitIn,
    lambda *, data, **kw: registration_services.registration_resubmit(**data, **kw),
    "The partner answers a request for information and submits again.",
)


class IntroListApi(OrgAPIView):
    @extend_schema(parameters=[BOX_PARAM], responses=IntroOut(many=True))
    def get(self, request, partnership_id: int):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        box = parse(BoxQuery, request.query_params).get("box", "")
        return self.paginate(selectors.intros_for(org=self.org, partnership=partnership, box=box), IntroOut)

    @extend_schema(request=IntroIn, responses={201: IntroOut})
    def post(self, request, partnership_id: int):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(IntroIn, request.data)
        intro = intro_services.intro_request_create(
            actor=request.user, org=self.org, partnership=partnership, **data
        )
        return Response(IntroOut(intro).data, status=status.HTTP_201_CREATED)


class _IntroView(OrgAPIView):
    def intro(self, partnership_id, intro_id):
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        return selectors.intro_for(org=self.org, partnership=partnership, intro_id=intro_id)

    def detail(self, intro):
        messages, history = selectors.intro_thread_for(org=self.org, intro=intro)
        data = dict(IntroOut(intro).data)
        data["messages"] = IntroMessageOut(messages, many=True).data
        data["history"] = ChangeOut(history, many=True).data
        return data


class IntroDetailApi(_IntroView):
    @extend_schema(responses=IntroDetailOut)
    def get(self, request, partnership_id: int, intro_id: int):
        return Response(self.detail(self.intro(partnership_id, intro_id)))


def _intro_action(serializer, call, doc: str):
    class IntroActionApi(_IntroView):
        @extend_schema(request=serializer, responses=IntroDetailOut, description=doc)
        def post(self, request, partnership_id: int, intro_id: int):
            intro = self.intro(partnership_id, intro_id)
            data = parse(serializer, request.data)
            call(actor=request.user, org=self.org, intro=intro, data=data)
            return Response(self.detail(self.intro(partnership_id, intro_id)))

    IntroActionApi.__name__ = IntroActionApi.__qualname__ = f"Intro{serializer.__name__}Api"
    return IntroActionApi


IntroAcceptApi = _intro_action(
    NoteIn,
    lambda *, data, **kw: intro_services.intro_accept(**data, **kw),
    "The partner accepts the request.",
)
IntroDeclineApi = _intro_action(
    ReasonIn,
    lambda *, data, **kw: intro_services.intro_decline(**data, **kw),
    "The partner declines, with a reason.",
)
IntroReplyApi = _intro_action(
    ReplyIn,
    lambda *, data, **kw: intro_services.intro_reply(**data, **kw),
    "A message in the request's thread.",
)
IntroDoneApi = _intro_action(
    NoteIn,
    lambda *, data, **kw: intro_services.intro_mark_done(**data, **kw),
    "Marks an accepted request done.",
)
