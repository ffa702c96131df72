"""Create the roles (groups and their permissions) and, outside production, the demo people."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

from accounts.models import Department, PersonType, ServiceArea, User

DEMO_PASSWORD = "aware-demo-2026"  # noqa: S105 - demo only; never loaded under production settings

# role -> (model permissions "app_label.codename", page permissions, collection permissions)
ROLES = {
    "HR": (
        [
            "wagtailadmin.access_admin",
            "accounts.view_user",
            "accounts.add_user",
            "accounts.change_user",
            "accounts.view_department",
            "accounts.add_department",
            "accounts.change_department",
            "accounts.view_peopleimport",  # its imports in Reports → Site history
            "training.view_assignment",
            "training.change_assignment",
            "training.view_exemptionrequest",  # line managers' requests from My team
            "training.change_exemptionrequest",  # approve or refuse them
            "training.view_assignmentrule",
            "training.add_assignmentrule",
            "training.change_assignmentrule",
            "training.view_modulecompletion",
            "training.add_modulecompletion",  # Import completions (historic records)
            "training.view_completionimport",  # those imports in Reports → Site history
            "training.view_sentmessage",
            "training.view_hr_reports",
            "training.view_scheduledreport",  # Scheduled reports, the audit-committee pack's too
            "training.add_scheduledreport",
            "training.change_scheduledreport",
            "training.delete_scheduledreport",
            "training.change_packsettings",  # Settings → Audit committee pack (the target)
            "quizzes.statistics_question",
            "cms.change_retentionsettings",  # Settings → Personal data retention
        ],
        [],
        [],
    ),
    "Member Services": (
        [
            "wagtailadmin.access_admin",
            "accounts.view_councillor",  # councillors only, never "view_user" (everyone)
            "training.view_councillor_reports",
            "training.change_escalation_mailboxes",  # its mailboxes, nothing else in Reminders
        ],
        [],
        [],
    ),
    "Content editors": (
        ["wagtailadmin.access_admin"],
        ["add_page", "change_page"],
        ["add_image", "choose_image", "add_document", "choose_document"],
    ),
    "Content approvers": (
        ["wagtailadmin.access_admin"],
        ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
        [
            "add_image",
            "change_image",
            "choose_image",
            "add_document",
            "change_document",
            "choose_document",
        ],
    ),
}

DEPARTMENTS = [
    "Neighbourhoods > Housing",
    "Neighbourhoods > Environmental Health",
    "Neighbourhoods > Licensing",
    "Place > Waste Services",
    "Resources > Procurement",
    "Resources > Revenues and Benefits",
    "Adults and Health > Adult Social Care",
    "Chief Executive's > Democratic Services",
    "Chief Executive's > Human Resources",
    "Chief Executive's > Communications",
]

# role shown, email, full name, person type, department, service area, job title, manager, groups,
# superuser
DEMO_PEOPLE = [
    (
        "line manager",
        "manager@example.gov.uk",
        "Jordan Reid",
        PersonType.OFFICER,
        "Neighbourhoods > Housing",
        ServiceArea.HOUSING,
        "Housing Team Leader",
        None,
        [],
        False,
    ),
    (
        "frontline officer (learner)",
        "officer@example.gov.uk",
        "Alex Morgan",
        PersonType.OFFICER,
        "Neighbourhoods > Housing",
        ServiceArea.HOUSING,
        "Tenancy Officer",
        "manager@example.gov.uk",
        [],
        False,
    ),
    (
        "councillor",
        "councillor@example.gov.uk",
        "Cllr Sam Whitfield",
        PersonType.COUNCILLOR,
        None,
        ServiceArea.DEMOCRATIC_SERVICES,
        "Ward councillor",
        None,
        [],
        False,
    ),
    (
        "HR",
        "hr@example.gov.uk",
        "Priya Shah",
        PersonType.OFFICER,
        "Chief Executive's > Human Resources",
        ServiceArea.OTHER,
        "Learning and Development Adviser",
        None,
        ["HR"],
        False,
    ),
    (
        "Member Services",
        "members@example.gov.uk",
        "Dana Fletcher",
        PersonType.OFFICER,
        "Chief Executive's > Democratic Services",
        ServiceArea.DEMOCRATIC_SERVICES,
        "Member Services Officer",
        None,
        ["Member Services"],
        False,
    ),
    (
        "content editor",
        "editor@example.gov.uk",
        "Chris Okafor",
        PersonType.OFFICER,
        "Chief Executive's > Communications",
        ServiceArea.OTHER,
        "Counter-fraud Officer",
        None,
        ["Content editors"],
        False,
    ),
    (
        "content approver",
        "approver@example.gov.uk",
        "Morgan Hale",
        PersonType.OFFICER,
        "Chief Executive's > Communications",
        ServiceArea.OTHER,
        "Counter-fraud Manager",
        None,
        ["Content approvers"],
        False,
    ),
    (
        "administrator",
        "admin@example.gov.uk",
        "Aware Administrator",
        PersonType.OFFICER,
        "Chief Executive's > Human Resources",
        ServiceArea.OTHER,
        "System Administrator",
        None,
        [],
        True,
    ),
]


def department_from_path(path: str) -> Department:
    """Find or create a department from "Directorate > Service"."""
    parent = None
    for name in [part.strip() for part in path.split(">")]:
        siblings = Department.get_root_nodes() if parent is None else parent.get_children()
        node = siblings.filter(name=name).first()
        if node is None:
            node = Department.add_root(name=name) if parent is None else parent.add_child(name=name)
        parent = node
    return parent


class Command(BaseCommand):
    help = "Create the roles and, outside production, the demo people."

    @transaction.atomic
    def handle(self, *args, **options):
        self.ensure_roles()
        for path in DEPARTMENTS:
            department_from_path(path)
        if not settings.AWARE_DEMO_DATA:
            self.stdout.write("Roles ready. Demo people are not created under these settings.")
            return
        self.ensure_demo_people()

    def ensure_roles(self) -> None:
        root_page = Page.get_first_root_node()
        root_collection = Collection.get_first_root_node()
        for name, (model_perms, page_perms, collection_perms) in ROLES.items():
            group, _ = Group.objects.get_or_create(name=name)
            for dotted in model_perms:
                app_label, codename = dotted.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
            for codename in page_perms:
                GroupPagePermission.objects.get_or_create(
                    group=group,
                    page=root_page,
                    permission=Permission.objects.get(
                        content_type__app_label="wagtailcore", codename=codename
                    ),
                )
            for codename in collection_perms:
                GroupCollectionPermission.objects.get_or_create(
                    group=group,
                    collection=root_collection,
                    permission=Permission.objects.get(codename=codename),
                )

    def ensure_demo_people(self) -> None:
        self.stdout.write(f"Demo people (password for all: {DEMO_PASSWORD}):")
        for role, email, name, kind, dept, area, title, manager, groups, superuser in DEMO_PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User(email=email, is_superuser=superuser, is_staff=superuser)
                user.set_password(DEMO_PASSWORD)
            user.full_name = name
            user.person_type = kind
            user.department = department_from_path(dept) if dept else None
            user.service_area = area
            user.job_title = title
            user.line_manager = User.objects.get(email=manager) if manager else None
            user.save()
            user.groups.add(*Group.objects.filter(name__in=groups))
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            self.stdout.write(f"  {email:<28} {name} ({role})")
        self.stdout.write(
            "HR, Member Services, editors, approvers and the administrator set up two-factor "
            "sign-in (an authenticator app) the first time they sign in."
        )
