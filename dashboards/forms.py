"""Forms for the dashboards' few writes: each validates ids the page offered, nothing more."""

from django import forms

from forwarding.models import Delivery


class MergeForm(forms.Form):
    group_key = forms.CharField(max_length=300)
    person_ids = forms.CharField(max_length=2000, help_text="comma-separated ids of the group")
    survivor = forms.IntegerField(min_value=1)

    def clean_person_ids(self) -> list[int]:
        try:
            return sorted({int(value) for value in self.cleaned_data["person_ids"].split(",") if value.strip()})
        except ValueError:
            raise forms.ValidationError("person ids must be numbers") from None


class DismissForm(forms.Form):
    group_key = forms.CharField(max_length=300)
    person_ids = forms.CharField(max_length=2000)

    clean_person_ids = MergeForm.clean_person_ids


class ReplayForm(forms.Form):
    delivery = forms.IntegerField(min_value=1, required=False)
    state = forms.ChoiceField(
        choices=[("", "")] + [(s, s) for s in (Delivery.State.FAILED, Delivery.State.DEAD)], required=False
    )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("delivery") and not data.get("state"):
            raise forms.ValidationError("choose a delivery or a state to replay")
        return data


class SplitForm(forms.Form):
    identities = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args, person_identities=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identities"].choices = [(i.pk, f"{i.kind}={i.value}") for i in person_identities]


class SourceKeyForm(forms.Form):
    source = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[("issue", "issue"), ("revoke", "revoke")])
