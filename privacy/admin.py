from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from dashboards.access import Role, user_has_role
from privacy.models import Erasure
from privacy.selectors import person_find_for_erasure
from privacy.services import ErasureRefused, person_erase
from workspaces.models import Workspace


class ErasureForm(forms.ModelForm):
    """Ask for a deletion or suppression by any identifier; the service does the rest."""

    identifier = forms.CharField(
        max_length=255,
        help_text="Email, customer id, anonymous id, seam_<id> reference or order id: whatever support has.",
    )
    workspace = forms.ModelChoiceField(queryset=Workspace.objects.all())
    action = forms.ChoiceField(choices=Erasure.Action.choices, widget=forms.RadioSelect)
    confirm = forms.BooleanField(help_text="Events, traits and identities are removed for good.")

    class Meta:
        model = Erasure
        fields = ["workspace", "identifier", "action", "confirm"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        found = person_find_for_erasure(workspace=cleaned["workspace"], value=cleaned["identifier"])
        if found is None:
            raise ValidationError({"identifier": "No person in this workspace has that identifier."})
        self.found = found
        return cleaned


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    """The audit of GDPR requests; adding one erases the person (admin role only)."""

    list_display = ["created_at", "action", "person", "actor_name", "via", "events_deleted", "identities_suppressed"]
    list_filter = ["action", "workspace"]
    date_hierarchy = "created_at"
    form = ErasureForm

    def has_module_permission(self, request) -> bool:
        return user_has_role(request.user, Role.ADMIN)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_has_role(request.user, Role.ADMIN)

    def has_add_permission(self, request) -> bool:
        return user_has_role(request.user, Role.ADMIN)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the read-only view of a record: its own fields, not the request form
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [field.name for field in Erasure._meta.fields if field.name != "id"]

    def save_model(self, request, obj, form, change) -> None:
        person, looked_up_by = form.found
        try:
            erasure = person_erase(
                person=person,
                action=form.cleaned_data["action"],
                actor=request.user,
                via="admin",
                looked_up_by=looked_up_by,
            )
        except ErasureRefused as refused:
            messages.error(request, str(refused))
            return
        # The admin's log entry, message and redirect name the record the service wrote.
        obj.__dict__.update({key: value for key, value in erasure.__dict__.items() if not key.startswith("_")})

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # refused: the error is already on the page
            return HttpResponseRedirect(reverse("admin:privacy_erasure_changelist"))
        return super().response_add(request, obj, post_url_continue)

    def save_related(self, request, form, formsets, change) -> None:
        pass
