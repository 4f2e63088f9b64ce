from django import forms


class MatchThresholdsForm(forms.Form):
    """My side's thresholds (they bound how my accounts are shown); blank: the site-wide default."""

    threshold = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Match threshold",
        help_text="Pairs scoring at least this are overlaps. Blank: the default.",
    )
    review_threshold = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Review threshold",
        help_text="Pairs scoring from this up to the match threshold wait for review. Blank: the default.",
    )


class MatchTrainForm(forms.Form):
    method = forms.ChoiceField(
        choices=[
            ("labelled", "From our reviews (confirmed and rejected pairs)"),
            ("unsupervised", "Without reviews (a sample of both sides' candidate pairs)"),
        ],
        label="Train the scoring model",
    )
    sample = forms.IntegerField(
        required=False,
        min_value=1_000,
        max_value=2_000_000,
        label="Pairs sampled",
        help_text="Without reviews only; blank: 200,000.",
    )
