"""API for match runs: both sides of a partnership follow progress and may ask for a re-match.

Overlaps themselves are read through the sharing rules (see the account-mapping views)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import partnership_for
from mapping import selectors_matching
from mapping.services.matching import match_run_request
from prm.common.api import OrgAPIView, parse


class MatchRunOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    kind = serializers.CharField()
    trigger = serializers.CharField()
    progress = serializers.IntegerField()
    list_pairs = serializers.IntegerField()
    list_pairs_done = serializers.IntegerField()
    records_rematched = serializers.IntegerField()
    timings = serializers.DictField(child=serializers.FloatField())
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class MatchRunListApi(OrgAPIView):
    @extend_schema(responses=MatchRunOut(many=True))
    def get(self, request, partnership_id: int):
        runs = selectors_matching.match_runs_of(org=self.org, partnership_id=partnership_id)
        return self.paginate(runs, MatchRunOut)

    @extend_schema(request=None, responses={202: MatchRunOut})
    def post(self, request, partnership_id: int):
        """Ask for a full re-match (queued; changes already waiting fold into it)."""
        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        run = match_run_request(actor=request.user, org=self.org, partnership=partnership)
        run.refresh_from_db()
        return Response(MatchRunOut(run).data, status=status.HTTP_202_ACCEPTED)


class MatchRunDetailApi(OrgAPIView):
    @extend_schema(responses=MatchRunOut)
    def get(self, request, partnership_id: int, run_id: int):
        run = selectors_matching.match_run_for(org=self.org, partnership_id=partnership_id, run_id=run_id)
        return Response(MatchRunOut(run).data)


class MatchSettingsOut(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True)
    review_threshold = serializers.FloatField(allow_null=True)
    effective_threshold = serializers.FloatField()
    effective_review_threshold = serializers.FloatField()
    trained_model = serializers.BooleanField()
    trained_on = serializers.IntegerField()
    trained_at = serializers.DateTimeField(allow_null=True)


class MatchSettingsIn(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True, required=False, default=None)
    review_threshold = serializers.FloatField(allow_null=True, required=False, default=None)


def _settings_out(partnership) -> dict:
    from mapping.models import MatchSettings
    from mapping.services.matching import engine_config

    own = MatchSettings.objects.filter(partnership=partnership).first()
    config = engine_config(partnership.pk)
    return MatchSettingsOut({
        "threshold": own.threshold if own else None,
        "review_threshold": own.review_threshold if own else None,
        "effective_threshold": config.threshold,
        "effective_review_threshold": config.review_threshold,
        "trained_model": bool(own and own.model),
        "trained_on": own.trained_on if own else 0,
        "trained_at": own.trained_at if own else None,
    }).data


class MatchSettingsApi(OrgAPIView):
    """The partnership's thresholds and trained model (both sides see and may change them)."""

    @extend_schema(responses=MatchSettingsOut)
    def get(self, request, partnership_id: int):
        return Response(_settings_out(partnership_for(org=self.org, partnership_id=partnership_id)))

    @extend_schema(request=MatchSettingsIn, responses=MatchSettingsOut)
    def put(self, request, partnership_id: int):
        from mapping.services.matching import match_settings_update

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(MatchSettingsIn, request.data)
        match_settings_update(actor=request.user, org=self.org, partnership=partnership, **data)
        return Response(_settings_out(partnership))


class MatchModelTrainApi(OrgAPIView):
    """Train the scoring model on this partnership's confirmed and rejected pairs; a full re-match follows."""

    @extend_schema(request=None, responses=MatchSettingsOut)
    def post(self, request, partnership_id: int):
        from mapping.services.matching import match_model_train

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        match_model_train(actor=request.user, org=self.org, partnership=partnership)
        return Response(_settings_out(partnership))

    @extend_schema(responses={204: None})
    def delete(self, request, partnership_id: int):
        """Back to the default model."""
        from mapping.services.matching import match_model_reset

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        match_model_reset(actor=request.user, org=self.org, partnership=partnership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MatchDecisionIn(serializers.Serializer):
    left_record = serializers.IntegerField(help_text="The initiator's record of the pair.")
    right_record = serializers.IntegerField(help_text="The partner's record of the pair.")
    decision = serializers.ChoiceField(choices=["confirmed", "rejected"])
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MatchDecisionOut(serializers.Serializer):
    id = serializers.IntegerField()
    left_record = serializers.IntegerField(source="left_record_id")
    right_record = serializers.IntegerField(source="right_record_id")
    decision = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class MatchDecisionApi(OrgAPIView):
    """Confirm or reject a pair (from the review queue or any overlap): it wins over the engine in
    every later run, and a re-match is queued."""

    @extend_schema(request=MatchDecisionIn, responses={201: MatchDecisionOut})
    def post(self, request, partnership_id: int):
        from mapping.services.matching import match_decision_record

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(MatchDecisionIn, request.data)
        decision = match_decision_record(
            actor=request.user, org=self.org, partnership=partnership, left_record_id=data["left_record"],
            right_record_id=data["right_record"], decision=data["decision"], note=data["note"],
        )
        return Response(MatchDecisionOut(decision).data, status=status.HTTP_201_CREATED)
