"""API for match runs: both sides of a partnership follow progress and may ask for a re-match;
the review queue of near-miss pairs and the decisions on them.

Overlaps themselves are read through the sharing rules (see the account-mapping views); so are the
partner's records in the review queue (mapping.sharing.selectors.review)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import partnership_for
from mapping.matching import selectors
from mapping.matching.services.review import TRAINING_METHODS, UNSUPERVISED_SAMPLE
from mapping.matching.services.runs import match_run_request
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
        runs = selectors.match_runs_of(org=self.org, partnership_id=partnership_id)
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
        run = selectors.match_run_for(org=self.org, partnership_id=partnership_id, run_id=run_id)
        return Response(MatchRunOut(run).data)


class MatchSettingsOut(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True, help_text="My side's (null: the default).")
    review_threshold = serializers.FloatField(allow_null=True, help_text="My side's (null: the default).")
    partner_threshold = serializers.FloatField(
        allow_null=True, help_text="The partner's (null: the default)."
    )
    partner_review_threshold = serializers.FloatField(
        allow_null=True, help_text="The partner's (null: the default)."
    )
    effective_threshold = serializers.FloatField(
        help_text="What the engine runs at: the higher of both sides'."
    )
    effective_review_threshold = serializers.FloatField(help_text="The higher of both sides'.")
    trained_model = serializers.BooleanField()
    trained_on = serializers.IntegerField(
        help_text="Labelled pairs behind the model (0 when trained without labels)."
    )
    trained_at = serializers.DateTimeField(allow_null=True)
    training = serializers.CharField(
        help_text="'' (idle), queued, running or failed: training runs on a worker."
    )
    training_method = serializers.CharField(allow_blank=True)
    training_error = serializers.CharField(allow_blank=True, help_text="Why the last training failed.")
    model_request = serializers.CharField(
        allow_blank=True,
        help_text="What my side asked of the model and waits for the partner to ask too: "
        "labelled, unsupervised, reset or ''.",
    )
    partner_model_request = serializers.CharField(allow_blank=True, help_text="The same, the partner's.")


class MatchSettingsIn(serializers.Serializer):
    threshold = serializers.FloatField(allow_null=True, required=False, default=None)
    review_threshold = serializers.FloatField(allow_null=True, required=False, default=None)


def _settings_out(org, partnership) -> dict:
    from mapping.matching.selectors import match_settings_of

    return MatchSettingsOut(match_settings_of(org=org, partnership=partnership)).data


class MatchSettingsApi(OrgAPIView):
    """The partnership's thresholds and trained model. Both sides read them; PUT sets my side's
    thresholds, which bound how my records are shown (the engine runs at the higher of both)."""

    @extend_schema(responses=MatchSettingsOut)
    def get(self, request, partnership_id: int):
        return Response(_settings_out(self.org, partnership_for(org=self.org, partnership_id=partnership_id)))

    @extend_schema(request=MatchSettingsIn, responses=MatchSettingsOut)
    def put(self, request, partnership_id: int):
        from mapping.matching.services.review import match_settings_update

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(MatchSettingsIn, request.data)
        match_settings_update(actor=request.user, org=self.org, partnership=partnership, **data)
        return Response(_settings_out(self.org, partnership))


class MatchModelTrainIn(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=TRAINING_METHODS,
        required=False,
        default="labelled",
        help_text="labelled: on the reviewers' confirmed and rejected pairs (at least 5 of each). "
        "unsupervised: without labels, on a sample of the candidate pairs of both sides' lists "
        "(recordlinkage's ECMClassifier).",
    )
    sample = serializers.IntegerField(
        required=False,
        default=UNSUPERVISED_SAMPLE,
        min_value=1_000,
        max_value=2_000_000,
        help_text="unsupervised only: candidate pairs sampled for training.",
    )


class MatchModelTrainApi(OrgAPIView):
    """Train the scoring model of this partnership; a full re-match follows. The model scores both
    sides' records, so a change is made once both sides asked for the same (model_request)."""

    @extend_schema(request=MatchModelTrainIn, responses={202: MatchSettingsOut})
    def post(self, request, partnership_id: int):
        """Ask for a training: queued once the partner asked for the same method (it runs on a
        worker; `training` in the settings tells how it goes)."""
        from mapping.matching.services.review import match_model_train

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(MatchModelTrainIn, request.data)
        match_model_train(actor=request.user, org=self.org, partnership=partnership, **data)
        return Response(_settings_out(self.org, partnership), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={204: None})
    def delete(self, request, partnership_id: int):
        """Ask to go back to the default model: done once the partner asked for it too."""
        from mapping.matching.services.review import match_model_reset

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
    side = serializers.CharField(help_text="Whose word this is: initiator or partner.")
    decision = serializers.CharField(
        help_text="My side's word; the pair is confirmed once both sides confirmed it."
    )
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class MatchDecisionApi(OrgAPIView):
    """My side's word on a pair (from the review queue or any overlap); a re-match is queued. A
    rejection by either side drops the pair; a confirmation makes it an overlap once both sides
    confirmed it. A pair whose partner record I am not shown already answers 404."""

    @extend_schema(request=MatchDecisionIn, responses={201: MatchDecisionOut})
    def post(self, request, partnership_id: int):
        from mapping.matching.services.review import match_decision_record

        partnership = partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(MatchDecisionIn, request.data)
        decision = match_decision_record(
            actor=request.user,
            org=self.org,
            partnership=partnership,
            left_record_id=data["left_record"],
            right_record_id=data["right_record"],
            decision=data["decision"],
            note=data["note"],
        )
        return Response(MatchDecisionOut(decision).data, status=status.HTTP_201_CREATED)
