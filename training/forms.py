"""Admin forms for training that write through its services."""

from wagtail.admin.forms import WagtailAdminModelForm

from training.services.exemptions import assignment_exempt, assignment_exemption_withdraw


class AssignmentForm(WagtailAdminModelForm):
    """HR's edits: a new due date, or an exemption with its reason (who and when are recorded
    by the exemption services)."""

    def save(self, commit=True):
        assignment = super().save(commit=False)
        if commit:
            assignment.save()
            if "exempt_reason" in self.changed_data:
                if assignment.exempt_reason.strip():
                    assignment_exempt(
                        assignment=assignment, reason=assignment.exempt_reason, by=self.for_user
                    )
                else:
                    assignment_exemption_withdraw(assignment=assignment, by=self.for_user)
        return assignment
