"""Least privilege: every URL pattern, every role, the answer each must get (issue 15).

Every pattern Django's resolver knows (ours, Wagtail's admin, Django's admin, allauth, documents,
page serving) must match a rule in RULES, or the test fails: a new URL needs a rule before CI
passes. Each rule fills its pattern with real ids of objects that belong to other people (another
officer's certificate and quiz attempt, a non-councillor person, a councillor, pages, documents,
images, snippets, tasks...), so that an id-guessing leak shows, and says per role what the answer
must be. State-changing views of our own apps are also POSTed to, with a valid CSRF token, by each
role that must be refused, and nothing may change.
"""

import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "officer",
    "manager",
    "councillor",
    "hr",
    "member_services",
    "editor",
    "approver",
    "admin",
]


# PATTERNS ------------------------------------------------------------------------------------


def all_patterns() -> dict[str, set]:
    """Every URL pattern in the project, as its full route ("cms/pages/<int:page_id>/edit/"),
    with the views it resolves to (a route can be listed twice: ours shadows Wagtail's)."""
    found: dict[str, set] = {}

    def walk(resolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, route)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "view_class", entry.callback)
                found.setdefault(route, set()).add(view)

    walk(get_resolver(), "")
    return found


# A listing's "results/" half (and a history's, and the image URL generator's output) is the same
# view class as the page it belongs to, under the same rule: it is asked through that page.
TWINS = [
    ("history-results/", "history/"),
    ("results/", ""),
    ("generate_url/output/", "generate_url/"),
]


def twin_of(route: str, patterns: dict[str, set]) -> str | None:
    for part, replacement in TWINS:
        if part in route:
            twin = route.replace(part, replacement, 1)
            if twin in patterns and patterns[twin] == patterns[route]:
                return twin
    return None


# THE COUNCIL ---------------------------------------------------------------------------------
# One person per role (privileged ones with an authenticator app, as the MFA middleware demands),
# and the objects the patterns are filled with: each belongs to someone else.


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


PEOPLE_CSV = (
    "employee_number,email,full_name,person_type,department,service_area,job_title,"
    "manager_email,start_date,on_leave_until,active\n"
    "E900,new.starter@example.gov.uk,New Starter,officer,Neighbourhoods > Housing,housing,"
    "Tenancy Officer,,2026-01-05,,yes\n"
)
COMPLETIONS_CSV = (
    "email,module,module_version,completed_on,score,expires_on\n"
    "colm.colleague@example.gov.uk,matrix-module,1,2025-06-01,85,\n"
)


def person(email: str, *, groups=(), mfa=False, **fields):
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    from accounts.models import User
    from tests.conftest import totp_activate

    fields.setdefault("full_name", "Matrix Person")
    user = User.objects.create_user(email=email, password="correct-horse-battery", **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    if mfa:
        totp_activate(user)
    return user


def build_council() -> dict:
    """The people and objects, built once for the module (inside its rolled-back transaction)."""
    from allauth.socialaccount.models import SocialApp
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.core.files.base import ContentFile
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from taggit.models import Tag
    from wagtail.admin.models import EditingSession
    from wagtail.contrib.redirects.models import Redirect
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import (
        Collection,
        CollectionViewRestriction,
        Page,
        PageViewRestriction,
        Site,
        Task,
        UploadedFile,
        Workflow,
    )

    from accounts.models import Department, PersonType
    from accounts.services import people_import_upload
    from cms.audit import ACTION_EDIT, audit_record
    from cms.models import StandardPage
    from quizzes.models import Attempt, ExtraTime, Question
    from tests.factories import module_with_lessons
    from tests.quizzes.conftest import quiz_for
    from training.models import (
        Assignment,
        AssignmentRule,
        Audience,
        ExemptionRequest,
        LessonPage,
        ModulePage,
        ReportExport,
        RetakeRequest,
        ScheduledReport,
        SentMessage,
        ToolboxSession,
    )
    from training.services.completion import completion_record_create
    from training.services.historic import historic_import_upload
    from training.services.toolbox import toolbox_present_tick

    devnull = open(os.devnull, "w")  # noqa: SIM115
    # The site tree, and the roles as load_initial_data makes them (its accounts loader); a
    # small module of our own instead of the starter catalogue, which takes long to load.
    call_command("load_cms_data", stdout=devnull)
    call_command("load_accounts_data", stdout=devnull)
    now = timezone.now()
    housing = Department.objects.get(name="Housing")
    c = {"now": now}
    c["manager"] = person("m.manager@example.gov.uk", department=housing)
    c["officer"] = person("m.officer@example.gov.uk", department=housing, line_manager=c["manager"])
    c["councillor"] = person("m.cllr@example.gov.uk", person_type=PersonType.COUNCILLOR)
    c["hr"] = person("m.hr@example.gov.uk", groups=["HR"], mfa=True)
    c["member_services"] = person("m.members@example.gov.uk", groups=["Member Services"], mfa=True)
    c["editor"] = person("m.editor@example.gov.uk", groups=["Content editors"], mfa=True)
    c["approver"] = person("m.approver@example.gov.uk", groups=["Content approvers"], mfa=True)
    c["admin"] = person("m.admin@example.gov.uk", is_staff=True, is_superuser=True, mfa=True)
    # Other people's: a colleague in the same team, a second councillor, another HR adviser.
    c["colleague"] = person(
        "colm.colleague@example.gov.uk",
        full_name="Colm Colleague",
        department=housing,
        line_manager=c["manager"],
    )
    c["other_councillor"] = person(
        "m.cllr2@example.gov.uk", full_name="Cllr Cora Other", person_type=PersonType.COUNCILLOR
    )
    c["other_hr"] = person("m.hr2@example.gov.uk", groups=["HR"], mfa=True)

    module = module_with_lessons(2, slug="matrix-module", title="Matrix module")
    c["module"] = module
    c["lesson"] = LessonPage.objects.child_of(module).live().order_by("path").first()
    # A public module (ModulePage.public): anyone may read it, and nobody's reading is recorded.
    c["public_module"] = module_with_lessons(
        1, slug="matrix-public", title="Matrix public module", public=True
    )
    c["public_lesson"] = LessonPage.objects.child_of(c["public_module"]).get()
    c["home"] = Page.objects.get(depth=2)
    c["standard"] = StandardPage.objects.live().first()
    c["catalogue"] = module.get_parent()
    c["quiz"] = quiz_for(module, questions=2)
    c["question"] = Question.objects.filter(module=module).first()
    c["revision"] = module.latest_revision
    c["audience"] = Audience.objects.create(
        name="Matrix officers", slug="matrix-officers", person_types=[PersonType.OFFICER]
    )
    c["rule"] = AssignmentRule.objects.create(module=module, audience=c["audience"])
    c["completion"] = completion_record_create(
        user=c["colleague"],
        module=module,
        module_version=module.version,
        score=90,
        completed_at=now - dt.timedelta(days=3),
        valid_months=12,
    )
    c["attempt"] = Attempt.objects.create(
        quiz=c["quiz"],
        user=c["colleague"],
        number=1,
        module_version=module.version,
        pass_mark=c["quiz"].pass_mark,
        started_at=now - dt.timedelta(hours=1),
    )
    c["assignment"] = Assignment.objects.create(
        user=c["colleague"],
        module=module,
        rule=c["rule"],
        assigned_at=now - dt.timedelta(days=40),
        due_on=(now - dt.timedelta(days=10)).date(),
    )
    # The line manager's toolbox talk: the officer and the colleague (their reports) are here.
    c["toolbox_session"] = ToolboxSession.objects.create(
        module=module,
        module_version=module.version,
        supervisor=c["manager"],
        team_of=c["manager"],
        token="matrix-toolbox-talk-token",
        questions=[
            {
                "scenario": "",
                "text": f"Matrix question {n}?",
                "choices": [
                    {"text": "Right", "correct": True},
                    {"text": "Wrong", "correct": False},
                ],
            }
            for n in range(1, 4)
        ],
        pass_mark=80,
        started_at=now,
    )
    toolbox_present_tick(
        session=c["toolbox_session"], attendee_ids=[c["officer"].pk, c["colleague"].pk]
    )
    # The colleague's line manager asked HR to exempt them (My team).
    c["exemption_request"] = ExemptionRequest.objects.create(
        assignment=c["assignment"], requested_by=c["manager"], requested_at=now, reason="Matrix"
    )
    c["retake_request"] = RetakeRequest.objects.create(
        module=module, requested_by=c["approver"], requested_at=now
    )
    # HR changed the colleague's record: an entry in the site history.
    audit_record(
        instance=c["colleague"],
        action=ACTION_EDIT,
        user=c["other_hr"],
        changes=[{"field": "job_title", "label": "Job title", "before": "''", "after": "'X'"}],
    )
    c["extra_time"] = ExtraTime.objects.create(user=c["colleague"], percent=25, note="Matrix")
    c["sent_message"] = SentMessage.objects.create(
        recipient=c["colleague"],
        kind=SentMessage.Kind.choices[0][0],
        period="2026-01-01",
        created_at=now,
    )
    c["export"] = ReportExport.objects.create(
        owner=c["other_hr"],
        report="overdue",
        export_format="csv",
        created_at=now,
        expires_at=now + ReportExport.LIFETIME,
    )
    # A report scheduled to another HR adviser (its download link is theirs).
    c["scheduled_report"] = ScheduledReport.objects.create(
        name="Matrix pack", recipients=c["other_hr"].email
    )
    # Another HR adviser's uploads, waiting for their confirmation.
    c["people_import"] = people_import_upload(
        uploaded_by=c["other_hr"], filename="people.csv", text=PEOPLE_CSV
    )
    c["completion_import"] = historic_import_upload(
        uploaded_by=c["other_hr"], filename="records.csv", text=COMPLETIONS_CSV
    )

    collection = Collection.get_first_root_node().add_child(name="Matrix collection")
    c["collection"] = collection
    c["image"] = get_image_model().objects.create(
        title="Matrix image",
        file=ContentFile(png_bytes(), name="matrix.png"),
        collection=collection,
    )
    c["document"] = get_document_model().objects.create(
        title="Matrix document", file=ContentFile(b"%PDF-1.4 matrix", name="matrix.pdf")
    )
    private = Collection.get_first_root_node().add_child(name="Matrix private")
    c["private_document"] = get_document_model().objects.create(
        title="Private",
        file=ContentFile(b"%PDF-1.4 private", name="private.pdf"),
        collection=private,
    )
    c["collection_restriction"] = CollectionViewRestriction.objects.create(
        collection=private, restriction_type="password", password="matrix-secret"
    )
    c["page_restriction"] = PageViewRestriction.objects.create(
        page=c["standard"], restriction_type="password", password="matrix-secret"
    )
    c["uploaded_file"] = UploadedFile.objects.create(
        file=ContentFile(png_bytes(), name="upload.png"), uploaded_by_user=c["other_hr"]
    )
    c["redirect"] = Redirect.objects.create(old_path="/matrix-old", redirect_link="/")
    c["site"] = Site.objects.get(is_default_site=True)
    c["group"] = Group.objects.get(name="HR")
    c["workflow"] = Workflow.objects.first()
    c["task"] = Task.objects.first()
    c["tag"] = Tag.objects.create(name="matrix-tag")
    c["department"] = housing
    c["page_type"] = ContentType.objects.get_for_model(ModulePage)
    c["editing_session"] = EditingSession.objects.create(
        user=c["other_hr"],
        content_type=ContentType.objects.get_for_model(Page),
        object_id=str(module.pk),
        last_seen_at=now,
    )
    workflow_state = c["workflow"].start(c["module"], c["approver"]) if c["workflow"] else None
    c["workflow_state"] = workflow_state
    c["task_state"] = workflow_state.current_task_state if workflow_state else None
    c["authenticator"] = c["other_hr"].authenticator_set.first()
    c["email_address"] = c["colleague"].emailaddress_set.first()
    c["crontab"] = CrontabSchedule.objects.create(minute="0", hour="7")
    c["interval"] = IntervalSchedule.objects.create(every=7, period="days")
    c["periodic_task"] = PeriodicTask.objects.create(
        name="Matrix task", task="matrix.task", interval=c["interval"]
    )
    c["solar"] = SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=-0.1)
    c["clocked"] = ClockedSchedule.objects.create(clocked_time=now)
    c["rendition"] = c["image"].get_rendition("fill-10x10")
    # An identity provider the council has added but not shown on the sign-in page.
    c["social_app"] = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="entra",
        name="Matrix Entra ID",
        client_id="matrix-client",
        secret="matrix-secret",
        settings={"server_url": "http://127.0.0.1:9/v2.0"},
    )
    return c


# FILLING A PATTERN ---------------------------------------------------------------------------
# Whose id goes into <pk> / <object_id> depends on where the pattern is: first prefix that fits.
OBJECT_BY_PREFIX = [
    ("cms/snippets/choose/training/audience/", "audience"),
    ("cms/snippets/choose/training/assignmentrule/", "rule"),
    ("cms/snippets/choose/training/assignment/", "assignment"),
    ("cms/snippets/choose/training/sentmessage/", "sent_message"),
    ("cms/snippets/choose/training/exemptionrequest/", "exemption_request"),
    ("cms/snippets/choose/training/scheduledreport/", "scheduled_report"),
    ("cms/snippets/choose/quizzes/question/", "question"),
    ("cms/snippets/choose/quizzes/quiz/", "quiz"),
    ("cms/snippets/choose/quizzes/extratime/", "extra_time"),
    ("cms/snippets/choose/socialaccount/socialapp/", "social_app"),
    ("cms/snippets/training/audience/", "audience"),
    ("cms/snippets/training/assignmentrule/", "rule"),
    ("cms/snippets/training/assignment/", "assignment"),
    ("cms/snippets/training/sentmessage/", "sent_message"),
    ("cms/snippets/training/exemptionrequest/", "exemption_request"),
    ("cms/snippets/training/scheduledreport/", "scheduled_report"),
    ("cms/snippets/quizzes/question/", "question"),
    ("cms/snippets/quizzes/quiz/", "quiz"),
    ("cms/snippets/quizzes/extratime/", "extra_time"),
    ("cms/snippets/socialaccount/socialapp/", "social_app"),
    ("cms/workflows/tasks/", "task"),
    ("cms/workflows/", "workflow"),
    ("cms/collections/", "collection"),
    ("cms/sites/", "site"),
    ("cms/users/", "colleague"),
    ("cms/people/", "colleague"),
    ("cms/groups/", "group"),
    ("cms/documents/", "document"),
    ("cms/images/", "image"),
    ("cms/api/main/^pages/", "module"),
    ("cms/api/main/^documents/", "document"),
    ("cms/api/main/^images/", "image"),
    ("cms/aware-reports/people/", "colleague"),
    ("cms/aware-reports/exports/", "export"),
    ("cms/aware-reports/scheduled/", "scheduled_report"),
    ("certificates/", "completion"),
    ("django-admin/auth/group/", "group"),
    ("django-admin/accounts/department/", "department"),
    ("django-admin/accounts/user/", "colleague"),
    ("django-admin/wagtaildocs/", "document"),
    ("django-admin/wagtailimages/", "image"),
    ("django-admin/taggit/", "tag"),
    ("django-admin/account/", "email_address"),
    ("django-admin/mfa/", "authenticator"),
    ("django-admin/django_celery_beat/periodictask/", "periodic_task"),
    ("django-admin/django_celery_beat/clockedschedule/", "clocked"),
    ("django-admin/django_celery_beat/crontabschedule/", "crontab"),
    ("django-admin/django_celery_beat/solarschedule/", "solar"),
    ("django-admin/django_celery_beat/intervalschedule/", "interval"),
]

# Every other parameter, by its name: a council key (its pk is used) or a literal.
OBJECT_BY_PARAMETER = {
    "page_id": "module",
    "parent_page_id": "module",
    "page_to_move_id": "module",
    "page_pk": "module",
    "destination_id": "home",
    "module_id": "module",
    "image_id": "image",
    "document_id": "document",
    "doc_id": "document",
    "uploaded_file_id": "uploaded_file",
    "revision_id": "revision",
    "task_id": "task",
    "task_state_id": "task_state",
    "workflow_state_id": "workflow_state",
    "workflow_pk": "workflow",
    "session_id": "editing_session",
    "attempt_id": "attempt",
    "assignment_id": "assignment",
    "person_id": "colleague",
    "quiz_id": "quiz",
    "collection_id": "collection",
    "redirect_id": "redirect",
    "restriction_id": "collection_restriction",
    "page_view_restriction_id": "page_restriction",
}
LITERALS = {
    "content_type_app_name": "training",
    "content_type_model_name": "modulepage",
    "app_label": "training",
    "model_name": "modulepage",
    "app_name": "training",
    "action_name": "approve",
    "filter_spec": "fill-10x10",
    "uidb64": "MQ",
    "token": "set-password",
    "uidb36": "1",
    "key": "not-a-key",
    "url": "nothing-here/",
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def object_key_for(route: str) -> str:
    for prefix, key in OBJECT_BY_PREFIX:
        if route.startswith(prefix):
            return key
    raise LookupError(f"no object for <pk> in {route}")


def django_admin_row(route: str) -> str:
    """A model in Django's admin with no entry above: its first row's id (0 when it has none)."""
    from django.apps import apps

    _, app_label, model_name, *_ = route.split("/")
    row = apps.get_model(app_label, model_name).objects.order_by("pk").first()
    return str(row.pk if row else 0)


def fill(route: str, council: dict, objects: dict) -> str:
    """The route with each parameter replaced by a real id (or a literal)."""

    def value(match: re.Match) -> str:
        name = match["name"] or match["group"]
        if name in objects:
            given = objects[name]
            if callable(given):
                return str(given(council))
            return str(council[given].pk) if given in council else given
        if name in ("pk", "object_id", "id", "content_type_id"):
            if (
                name == "object_id"
                and route.startswith("django-admin/")
                and not any(route.startswith(prefix) for prefix, _ in OBJECT_BY_PREFIX)
            ):
                return django_admin_row(route)
            key = object_key_for(route) if name != "content_type_id" else "page_type"
        elif name == "code":
            return council["completion"].verification_code
        elif name == "token":
            if route.startswith("cms/people/"):
                return council["people_import"].token
            if route.startswith("cms/completions/"):
                return council["completion_import"].token
            if route.startswith("toolbox/"):
                return council["toolbox_session"].token
            return LITERALS[name]
        elif name in OBJECT_BY_PARAMETER:
            key = OBJECT_BY_PARAMETER[name]
        else:
            return LITERALS[name]
        return str(council[key].pk)

    return "/" + PARAMETER.sub(value, route).replace("^", "").replace("$", "")


# FIXTURES ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def council(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once; everything is rolled back when the module ends."""
    from django.test import override_settings

    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        built = build_council()
        built["clients"] = clients_for(built)
        yield built
        transaction.set_rollback(True)


def clients_for(council: dict) -> dict[str, Client]:
    """One client per role, signed in (force_login: privileged roles have their authenticator,
    which is what the MFA middleware asks for, as in tests/conftest.py signed_in_with_mfa)."""
    clients, sessions = {}, {}
    for role in ROLES:
        client = Client(raise_request_exception=False, enforce_csrf_checks=True)
        if role != "anonymous":
            client.force_login(council[role])
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        clients[role] = client
    council["sessions"] = sessions
    return clients


# THE RULES -----------------------------------------------------------------------------------
# One row per family of patterns: globs over the route (the first row that fits a pattern is its
# rule), the answers in ROLES order, and what fills the pattern where the defaults above do not.
# A row marked also=True is one more instance for patterns that already have a rule (for
# example, the same page for a councillor where the first instance used a non-councillor).
#
# Answers: 200, 400, 403, 404, 405 are status codes; "login" is a redirect to a sign-in page;
# "dash" is Wagtail's refusal (a redirect to the dashboard with "Sorry, you do not have
# permission"); "302" is any other redirect (to somewhere that is neither of those).


@dataclass
class Rule:
    routes: tuple[str, ...]
    expect: str
    url: str = ""  # for patterns that are regular expressions: the URL, formatted with the council
    objects: dict = field(default_factory=dict)
    also: bool = False
    shows_people: bool = False  # public by design although it names someone

    @property
    def answers(self) -> dict[str, str]:
        values = self.expect.split()
        assert len(values) == len(ROLES), f"{self.routes}: {len(values)} answers"
        return dict(zip(ROLES, values, strict=True))


def rule(
    expect: str,
    routes: str,
    *,
    url: str = "",
    also: bool = False,
    shows_people: bool = False,
    **objects,
) -> Rule:
    return Rule(tuple(routes.split()), " ".join(expect.split()), url, objects, also, shows_people)


# Rows that many families share (anonymous, officer, line manager, councillor, HR, Member
# Services, content editor, content approver, administrator).
EVERYONE = "200   200   200   200   200   200   200   200   200"
SIGNED_IN = "login 200   200   200   200   200   200   200   200"
ADMIN_USERS = (
    "login login login login 200   200   200   200   200"  # anyone Wagtail's admin lets in
)
EDITORS = "login login login login dash  dash  200   200   200"
APPROVERS = "login login login login dash  dash  dash  200   200"
ADMINS = "login login login login dash  dash  dash  dash  200"
HR = "login login login login 200   dash  dash  dash  200"
HR_AND_MS = "login login login login 200   200   dash  dash  200"
DJANGO_ADMIN = "login login login login login login login login 200"

# fmt: off
RULES = [
    # Public pages and endpoints ----------------------------------------------------------------
    #     anon  offcr manag cllr  hr    membr editr apprv admin
    rule(EVERYONE, "healthz search/ verify/"),
    # The web app manifest and the offline service worker (neither holds anyone's data).
    rule(EVERYONE, "manifest.webmanifest service-worker.js"),
    # Public by design: a certificate's code shows its holder's name (for the auditor).
    rule(EVERYONE, "verify/<str:code>/", shows_people=True),
    rule("405   405   405   405   405   405   405   405   405", "csp-report/"),
    rule(EVERYONE, "documents/^(\\d+)/(.*)$", url="/documents/{document.pk}/{document.filename}"),
    # A document in a password-protected collection: the password form.
    rule(EVERYONE, "documents/^(\\d+)/(.*)$", also=True,
         url="/documents/{private_document.pk}/{private_document.filename}"),
    rule(EVERYONE, "documents/authenticate_with_password/*"),
    rule(EVERYONE, "^media/images/(?P<path>.+)$", url="/media/{rendition.file.name}"),
    rule(EVERYONE, "_util/authenticate_with_password/*", page_id="standard"),
    # Wagtail's own password form would skip the second factor: it sends to allauth's sign-in.
    rule("login login login login login login login login login", "_util/login/"),
    # Wagtail's pages: the home page; a standard page behind a password (the form; signed-in
    # people are told it is not for them); the catalogue, a module and its lesson; no page.
    rule(EVERYONE, "^((?:*", url="/"),
    rule("200   403   403   403   403   403   403   403   403", "^((?:*", also=True,
         url="{standard.url}"),
    rule(SIGNED_IN, "^((?:*", also=True, url="{catalogue.url}"),
    rule(SIGNED_IN, "^((?:*", also=True, url="{module.url}"),
    rule(SIGNED_IN, "^((?:*", also=True, url="{lesson.url}"),
    rule(EVERYONE, "^((?:*", also=True, url="{public_module.url}"),
    rule(EVERYONE, "^((?:*", also=True, url="{public_lesson.url}"),
    rule("404   404   404   404   404   404   404   404   404", "^((?:*", also=True,
         url="/no-such-page/"),

    # Learners: their own training and team; another officer's certificate and attempt ---------
    rule(SIGNED_IN, "my-training/"),
    rule("login 403   200   403   403   403   403   403   403", "my-team/"),
    # A line manager's actions, on the colleague (their report): nobody else's tree has them.
    rule("login 404   200   404   404   404   404   404   404", "my-team/<int:assignment_id>/* "
         "quizzes/team/<int:assignment_id>/another-attempt/"),
    # Toolbox talks: line managers and HR run them; a talk is its supervisor's (the manager's);
    # its check takes the people ticked present (the officer), or each on the supervisor's
    # device; anyone else signed in is told their answers cannot be taken.
    rule("login 403   200   403   200   403   403   403   200", "toolbox/"),
    rule("login 403   200   403   404   403   403   403   404", "toolbox/<str:token>/"),
    rule("login 403   302   403   404   403   403   403   404",
         "toolbox/<str:token>/present/ toolbox/<str:token>/close/"),
    rule("login 200   403   403   403   403   403   403   403", "toolbox/<str:token>/check/"),
    rule("login 404   200   404   404   404   404   404   404",
         "toolbox/<str:token>/check/<int:person_id>/"),
    rule("login 404   404   404   200   404   404   404   200", "certificates/<int:pk>.pdf"),
    rule(SIGNED_IN, "quizzes/<int:quiz_id>/"),
    rule("login 405   405   405   405   405   405   405   405", "quizzes/<int:quiz_id>/start/"),
    rule("login 404   404   404   404   404   404   404   404", "quizzes/attempts/*"),

    # Sign-in and account pages (allauth) -------------------------------------------------------
    rule("200   302   302   302   302   302   302   302   302", "accounts/login/ accounts/signup/"),
    rule("302   200   200   200   200   200   200   200   200", "accounts/logout/"),
    rule(EVERYONE, "accounts/inactive/ accounts/confirm-email/ accounts/password/reset/ "
         "accounts/password/reset/done/ accounts/password/reset/key/done/"),
    rule(EVERYONE, "accounts/^confirm-email/*", url="/accounts/confirm-email/not-a-key/"),
    rule(EVERYONE, "accounts/^password/reset/key/*",
         url="/accounts/password/reset/key/{colleague.pk}-not-a-key/"),
    rule(SIGNED_IN, "accounts/reauthenticate/ accounts/reauthenticate/code/ accounts/email/ "
         "accounts/password/change/ accounts/2fa/"),
    rule("login 302   302   302   302   302   302   302   302",
         "accounts/reauthenticate/code/confirm/ accounts/password/set/ "
         "accounts/2fa/authenticate/ accounts/2fa/totp/activate/ "
         "accounts/2fa/recovery-codes/generate/"),
    rule("login 302   302   302   200   200   200   200   200", "accounts/2fa/reauthenticate/"),
    rule("login 404   404   404   302   302   302   302   302", "accounts/2fa/totp/deactivate/"),
    rule("login 404   404   404   404   404   404   404   404",
         "accounts/2fa/recovery-codes/ accounts/2fa/recovery-codes/download/"),
    # The council's identity provider (SAML; social accounts): none is set up here.
    rule("302   302   302   302   302   302   302   302   302", "accounts/^saml/*/acs/ "
         "accounts/social/*", organization_slug="council"),
    rule("404   404   404   404   404   404   404   404   404", "accounts/saml/* accounts/^saml/*",
         organization_slug="council"),
    # OpenID Connect: a provider id the council has not set up; and the council's own one, which
    # is not shown on the sign-in page, so nobody may start a sign-in with it.
    rule("404   404   404   404   404   404   404   404   404", "accounts/oidc/*",
         provider_id="nosuch"),
    rule(EVERYONE, "accounts/3rdparty/login/cancelled/"),
    # Sign-in by emailed code (partners, contractors, kiosks); a partner's invitation link, here
    # one that does not verify (a clear page, 404).
    rule("200   302   302   302   302   302   302   302   302", "accounts/login/code/"),
    # With no code asked for, its confirmation page sends everyone to ask for one.
    rule("302   302   302   302   302   302   302   302   302", "accounts/login/code/confirm/"),
    rule("404   404   404   404   404   404   404   404   404", "accounts/invited/<str:token>/",
         token="not-a-real-invitation"),
    # HR marks a shared depot device as a kiosk.
    rule("login 403   403   403   200   403   403   403   200", "kiosk/"),
    rule("401   401   401   401   401   401   401   401   401", "accounts/3rdparty/login/error/"),
    rule("login login login login login login login login login", "accounts/3rdparty/signup/"),
    rule(SIGNED_IN, "accounts/3rdparty/"),

    # Wagtail admin: sign-in, shell, account ----------------------------------------------------
    rule("login 403   403   403   login login login login login", "cms/login/"),
    rule("404   404   404   404   404   404   404   404   404", "cms/password_reset/*"),
    rule(ADMIN_USERS, "cms/ cms/test404/ cms/account/ cms/dismissibles/"),
    rule(EVERYONE, "cms/sprite/ cms/jsi18n/"),
    rule("login login login login 404   404   404   404   404", "cms/^.*/$",
         url="/cms/no-such-admin-page/"),
    # Wagtail's deliberate error, to test error reporting.
    rule("login login login login 500   500   500   500   500", "cms/failwhale/"),
    rule("login login login login 405   405   405   405   405",
         "cms/logout/ cms/editing-sessions/release/*"),
    rule("login login login login 405   405   405   405   405", "cms/editing-sessions/ping/*",
         app_label="wagtailcore", model_name="page", object_id=lambda c: c["module"].pk),
    rule("login login login login 404   404   404   404   404", "cms/block-preview/"),
    rule(ADMIN_USERS, "cms/api/main/^pages/ cms/api/main/^documents/ "
         "cms/api/main/^documents/<int:pk>/ cms/api/main/^images/ cms/api/main/^images/<int:pk>/"),
    rule(EDITORS.replace("dash ", "404  "), "cms/api/main/^pages/<int:pk>/"),
    rule("login login login login 405   405   405   405   405", "cms/api/main/^pages/*/action/*",
         action_name="copy"),
    rule("login login login login 404   404   404   404   404", "cms/api/main/*/find/"),
    # Bulk actions: their confirmation pages list what the person may not act on, as Wagtail does.
    rule(ADMIN_USERS, "cms/bulk/*", url="/cms/bulk/wagtailcore/page/delete/?id={lesson.pk}"),
    rule(ADMIN_USERS, "cms/bulk/*", also=True,
         url="/cms/bulk/wagtailimages/image/delete/?id={image.pk}"),
    rule(ADMIN_USERS, "cms/bulk/*", also=True,
         url="/cms/bulk/wagtaildocs/document/delete/?id={document.pk}"),
    rule(HR, "cms/bulk/*", also=True, url="/cms/bulk/accounts/user/delete/?id={colleague.pk}"),
    rule(HR, "cms/bulk/*", also=True,
         url="/cms/bulk/accounts/user/set_active_state/?id={colleague.pk}"),
    rule(HR, "cms/bulk/*", also=True,
         url="/cms/bulk/accounts/user/assign_role/?id={colleague.pk}"),
    # HR's bulk exempt and extend on Assignments: the confirmation names the people.
    rule(HR, "cms/bulk/*", also=True,
         url="/cms/bulk/training/assignment/exempt/?id={assignment.pk}"),
    rule(HR, "cms/bulk/*", also=True,
         url="/cms/bulk/training/assignment/extend/?id={assignment.pk}"),

    # Wagtail admin: pages (a module page, its catalogue, its revision and workflow) ------------
    rule(EDITORS, "cms/pages/^(\\d+)/revisions/compare/*",
         url="/cms/pages/{module.pk}/revisions/compare/earliest...latest/"),
    rule(EDITORS, "cms/pages/ cms/pages/<int:parent_page_id>/ cms/pages/usage/* "
         "cms/pages/<int:page_id>/usage/ cms/pages/<int:page_id>/edit/ "
         "cms/pages/<int:page_id>/edit/preview/ cms/pages/<int:page_id>/view_draft/ "
         "cms/pages/search/ cms/pages/<int:page_id>/copy/ "
         "cms/pages/<int:page_id>/revisions/<int:revision_id>/view/ "
         "cms/pages/<int:page_id>/revisions/<int:revision_id>/revert/ "
         "cms/pages/<int:page_id>/workflow_history/ cms/pages/<int:page_id>/workflow_history/* "
         "cms/pages/<int:page_id>/history/ cms/pages/<int:page_id>/history/results/ "
         "cms/pages/<int:parent_page_id>/results/ cms/pages/search/results/"),
    rule(EDITORS, "cms/pages/add/*", parent_page_id="catalogue"),
    rule("login login login login 200   200   302   302   302", "cms/pages/create/*"),
    rule("login login login login dash  dash  302   302   302",
         "cms/pages/<int:parent_page_id>/add_subpage/"),
    rule(APPROVERS, "cms/pages/<int:page_to_move_id>/move/ "
         "cms/pages/<int:page_to_move_id>/set_position/ cms/pages/<int:page_id>/privacy/ "
         "cms/pages/<int:page_id>/revisions/<int:revision_id>/unschedule/"),
    rule(ADMIN_USERS, "cms/pages/<int:page_to_move_id>/move/<int:destination_id>/confirm/",
         destination_id="catalogue"),
    rule(ADMINS, "cms/pages/<int:page_id>/delete/ cms/pages/<int:page_id>/unpublish/ "
         "cms/pages/workflow/action/* cms/pages/workflow/collect_action_data/* "
         "cms/pages/workflow/preview/*"),
    rule(ADMIN_USERS, "cms/pages/workflow/confirm_cancellation/*"),
    rule("login login login login 404   404   404   404   404",
         "cms/pages/<int:page_id>/convert_alias/"),
    rule("login login login login 405   405   405   405   405",
         "cms/pages/<int:page_id>/lock/ cms/pages/<int:page_id>/unlock/"),
    rule("login login login login 302   302   302   302   302",
         "cms/pages/<int:page_id>/revisions/"),

    # Wagtail admin: choosers and tags ----------------------------------------------------------
    rule(ADMIN_USERS, "cms/choose-page/* cms/choose-*-link/ cms/tag-autocomplete/ "
         "cms/embeds/* cms/workflows/task_chooser/*"),
    rule("login login login login 404   404   404   404   404", "cms/tag-autocomplete/*/",
         app_name="quizzes", model_name="question"),

    # Wagtail admin: collections, workflows, redirects, sites, roles: administrators ------------
    rule("login login login login 404   404   404   404   200", "cms/collections/<int:pk>/delete/"),
    rule("login login login login 405   405   405   405   405", "cms/workflows/enable/* "
         "cms/workflows/tasks/enable/* cms/workflows/remove/*"),
    rule(ADMINS.replace("200", "405"), "cms/redirects/import/process/"),
    rule("login login login login dash  dash  dash  dash  302", "cms/workflows/tasks/select_type/"),
    rule(ADMINS, "cms/workflows/tasks/add/*", app_label="wagtailcore",
         model_name="groupapprovaltask"),
    rule(ADMINS, "cms/collections/* cms/workflows/* cms/redirects/* cms/sites/* cms/groups/*"),

    # Wagtail admin: reports --------------------------------------------------------------------
    rule(APPROVERS, "cms/reports/locked/*"),
    rule(EDITORS, "cms/reports/workflow/* cms/reports/workflow_tasks/* cms/reports/aging-pages/* "
         "cms/reports/page-types-usage/* cms/forms/ cms/forms/results/"),
    # Aware's site history: each role sees the changes to what it may see.
    rule(ADMIN_USERS, "cms/reports/site-history/*"),
    rule(ADMIN_USERS, "cms/reports/site-history/*", also=True,
         url="/cms/reports/site-history/?export=csv"),
    rule("login login login login 404   404   404   404   404",
         "cms/forms/submissions/<int:page_id>/ cms/forms/submissions/<int:page_id>/results/",
         page_id="home"),
    rule("login login login login dash  dash  dash  dash  dash", "cms/forms/submissions/*/delete/",
         page_id="home"),

    # Wagtail admin: site settings (administrators) ---------------------------------------------
    rule(ADMINS.replace("200", "302"), "cms/settings/<slug:app_name>/<slug:model_name>/",
         app_name="cms", model_name="councilsettings"),
    # (A settings page's <pk> is the site's.)
    rule(ADMINS, "cms/settings/*/<int:pk>/", app_name="cms", model_name="councilsettings",
         pk="site"),
    rule(ADMINS, "cms/settings/*/<int:pk>/", also=True, app_name="cms",
         model_name="reportingroutes", pk="site"),
    rule(ADMINS, "cms/settings/*/<int:pk>/", also=True, app_name="training",
         model_name="remindersettings", pk="site"),
    rule(ADMINS, "cms/settings/*/<int:pk>/", also=True, app_name="training",
         model_name="reportsettings", pk="site"),
    rule(ADMINS, "cms/settings/*/<int:pk>/", also=True, app_name="accounts",
         model_name="signinsettings", pk="site"),
    # HR sets the completion target the audit-committee pack marks directorates against.
    rule(HR, "cms/settings/*/<int:pk>/", also=True, app_name="training",
         model_name="packsettings", pk="site"),
    # HR sets how long personal data is kept.
    rule(HR, "cms/settings/*/<int:pk>/", also=True, app_name="cms",
         model_name="retentionsettings", pk="site"),
    rule(ADMINS.replace("200", "404"), "cms/settings/*/preview/", app_name="cms",
         model_name="councilsettings", pk="site"),

    # Wagtail admin: documents and images (someone else's) --------------------------------------
    rule(ADMIN_USERS, "cms/documents/chooser/ cms/documents/chooser/results/ "
         "cms/documents/chooser/chosen-multiple/ cms/images/chooser/ cms/images/chooser/results/ "
         "cms/images/chooser/chosen-multiple/ "
         "cms/images/chooser/<int:image_id>/select_format/"),
    rule(EDITORS, "cms/documents/chooser/* cms/images/chooser/* cms/documents/ "
         "cms/documents/results/ cms/documents/add/ cms/documents/multiple/add/ cms/images/ "
         "cms/images/results/ cms/images/add/ cms/images/multiple/add/"),
    rule("login login login login 405   405   405   405   405",
         "cms/documents/multiple/* cms/images/multiple/*"),
    rule("login login login login 404   404   404   404   404", "cms/images/*/generate_url/*"),
    rule(APPROVERS, "cms/documents/* cms/images/*"),

    # Wagtail admin: people (another officer: Member Services must not find them) ---------------
    rule(HR_AND_MS, "cms/users/ cms/users/results/"),
    rule(HR_AND_MS, "cms/users/ cms/users/results/", also=True, url="/cms/users/?q=colm"),
    rule(HR, "cms/users/new/ cms/users/copy/<int:pk>/"),
    rule("login login login login 200   404   404   404   200", "cms/users/edit/<int:pk>/ "
         "cms/users/history/<int:pk>/ cms/users/history-results/<int:pk>/ "
         "cms/users/usage/<int:pk>/"),
    rule("login login login login dash  404   404   404   200", "cms/users/delete/<int:pk>/"),
    # ...and a councillor, whom Member Services sees in the list but may not change.
    rule("login login login login 200   dash  404   404   200", "cms/users/edit/<int:pk>/ "
         "cms/users/history/<int:pk>/ cms/users/history-results/<int:pk>/ "
         "cms/users/usage/<int:pk>/", also=True,
         pk="other_councillor"),
    rule("login login login login dash  dash  404   404   200", "cms/users/delete/<int:pk>/",
         also=True, pk="other_councillor"),
    rule(HR, "cms/users/copy/<int:pk>/", also=True, pk="other_councillor"),

    # Wagtail admin: snippets (one real row of each, about someone else) -------------------------
    rule("login login login login dash  dash  dash  dash  dash", "cms/snippets/"),
    rule(HR, "cms/snippets/training/assignmentrule/ cms/snippets/training/assignmentrule/results/ "
         "cms/snippets/training/assignmentrule/add/ "
         "cms/snippets/training/assignmentrule/history-results/* "
         "cms/snippets/training/assignment/results/ "
         "cms/snippets/training/assignment/history-results/* "
         "cms/snippets/training/sentmessage/results/ "
         "cms/snippets/training/assignmentrule/edit/* cms/snippets/training/assignmentrule/usage/* "
         "cms/snippets/training/assignmentrule/history/* "
         "cms/snippets/training/assignmentrule/copy/* cms/snippets/training/assignment/ "
         "cms/snippets/training/assignment/edit/* cms/snippets/training/assignment/usage/* "
         "cms/snippets/training/assignment/history/* cms/snippets/training/sentmessage/ "
         "cms/snippets/training/sentmessage/inspect/*"),
    # Line managers' exemption requests: HR answers them (no one adds one here).
    rule(HR, "cms/snippets/training/exemptionrequest/ "
         "cms/snippets/training/exemptionrequest/results/ "
         "cms/snippets/training/exemptionrequest/edit/* "
         "cms/snippets/training/exemptionrequest/inspect/* "
         "cms/snippets/training/exemptionrequest/history/* "
         "cms/snippets/training/exemptionrequest/history-results/* "
         "cms/snippets/training/exemptionrequest/usage/*"),
    # HR schedules reports (the audit-committee pack among them).
    rule(HR, "cms/snippets/training/scheduledreport/*"),
    rule(ADMINS, "cms/snippets/training/* cms/snippets/quizzes/*"),
    # Identity providers and their set-up page: administrators only.
    rule(ADMINS, "cms/snippets/socialaccount/socialapp/*"),
    rule("login login login login 403   403   403   403   200", "cms/sso/setup/"),
    # Choosers: open to every admin user for content; for rows about people, only to those who
    # may list them (cms/choosers.py).
    # Scheduled reports say who gets HR's figures: only HR may choose them (and add one there).
    rule(HR, "cms/snippets/choose/training/scheduledreport/*"),
    rule(ADMINS, "cms/snippets/choose/training/assignment/create/ "
         "cms/snippets/choose/training/sentmessage/create/ "
         "cms/snippets/choose/training/exemptionrequest/create/"),
    rule(HR, "cms/snippets/choose/training/assignmentrule/create/ "
         "cms/snippets/choose/training/assignment/* cms/snippets/choose/training/sentmessage/* "
         "cms/snippets/choose/training/exemptionrequest/*"),
    rule(ADMINS, "cms/snippets/choose/*/create/ cms/snippets/choose/quizzes/extratime/* "
         "cms/snippets/choose/socialaccount/*"),
    rule(ADMIN_USERS, "cms/snippets/choose/*"),

    # Aware's admin pages ------------------------------------------------------------------------
    rule("login login login login 200   403   403   403   200",
         "cms/people/import/ cms/completions/import/ cms/people/invite/ cms/people/invite/sent/"),
    # Another HR adviser's upload: not there for this one (sent back with a message).
    rule("login login login login 302   403   403   403   302",
         "cms/people/import/<str:token>/ cms/completions/import/<str:token>/"),
    rule(HR, "cms/quizzes/statistics/*"),
    rule(ADMINS, "cms/quizzes/bank/*"),
    # Sample data only, so that editors can check the wording.
    rule(ADMIN_USERS, "cms/reminder-previews/"),
    # Member Services sets the councillors' escalation mailboxes (issue 18).
    rule("login login login login 403   200   403   403   200", "cms/escalation-mailboxes/"),
    # A retake request someone else made: editors may withdraw it (this asks first).
    rule(EDITORS, "cms/modules/<int:module_id>/retake-request/withdraw/"),
    rule(HR, "cms/aware-reports/compliance/"),
    rule(HR_AND_MS, "cms/aware-reports/councillors/ cms/aware-reports/overdue/* "
         "cms/aware-reports/people/ cms/aware-reports/figure/*"),
    # The people behind a figure: Member Services gets councillors only, whatever it asks.
    rule(HR_AND_MS, "cms/aware-reports/figure/*", also=True,
         url="/cms/aware-reports/figure/?person_type=officer&category=not_started"),
    rule(HR_AND_MS, "cms/aware-reports/overdue/*", also=True,
         url="/cms/aware-reports/overdue/?export=csv"),
    rule(HR_AND_MS, "cms/aware-reports/overdue/*", also=True,
         url="/cms/aware-reports/councillors/?export=csv&table=people"),
    rule(HR_AND_MS, "cms/aware-reports/people/", also=True,
         url="/cms/aware-reports/people/?q=colm"),
    rule("login login login login 200   404   dash  dash  200",
         "cms/aware-reports/people/<int:pk>/"),
    rule("login login login login 200   404   dash  dash  200",
         "cms/aware-reports/people/<int:pk>/", also=True,
         url="/cms/aware-reports/people/{colleague.pk}/?export=csv"),
    rule(HR_AND_MS, "cms/aware-reports/people/<int:pk>/", also=True, pk="other_councillor"),
    # A person's data (subject access export) and erasure: another officer, then a councillor.
    rule("login login login login 200   404   404   404   200",
         "cms/people/<int:pk>/personal-data/"),
    rule("login login login login 200   200   404   404   200",
         "cms/people/<int:pk>/personal-data/", also=True, pk="other_councillor"),
    rule("login login login login 200   403   403   403   200", "cms/people/<int:pk>/erase/"),
    rule("login login login login 200   403   403   403   200", "cms/people/<int:pk>/erase/",
         also=True, pk="other_councillor"),
    # Another HR adviser's export: only its owner may follow it.
    rule("login login login login dash  dash  dash  dash  dash", "cms/aware-reports/exports/*"),
    # A report scheduled to another HR adviser: HR (who may change schedules) may open it too;
    # Member Services, who may not see the pack, and everyone else may not.
    rule(HR, "cms/aware-reports/scheduled/<int:pk>/<str:export_format>/", export_format="pdf"),
    rule(HR, "cms/aware-reports/scheduled/<int:pk>/<str:export_format>/", also=True,
         export_format="xlsx"),

    # Django's admin: administrators only ---------------------------------------------------------
    rule("login 403   403   403   403   403   403   403   login", "django-admin/login/"),
    rule("302   302   302   302   302   302   302   302   405", "django-admin/logout/"),
    rule(DJANGO_ADMIN.replace("200", "404"), "django-admin/(?P<url>.*)$",
         url="/django-admin/no-such-page/"),
    rule(DJANGO_ADMIN, "django-admin/^(?P<app_label>*", app_label="accounts"),
    rule(DJANGO_ADMIN.replace("200", "404"), "django-admin/r/*",
         object_id=lambda c: c["module"].pk),
    rule(DJANGO_ADMIN.replace("200", "302"), "django-admin/*/<path:object_id>/"),
    # Nobody deletes a person (they are deactivated); the autocomplete needs its parameters.
    rule(DJANGO_ADMIN.replace("200", "403"), "django-admin/autocomplete/ "
         "django-admin/accounts/user/<path:object_id>/delete/"),
    rule(DJANGO_ADMIN.replace("200", "400"), "django-admin/accounts/department/move/"),
    # The outbox is written by Aware only; social accounts have no row here (Django's admin sends
    # its staff back to the list, "doesn't exist").
    rule(DJANGO_ADMIN.replace("200", "403"), "django-admin/accounts/queuedemail/add/"),
    rule(DJANGO_ADMIN.replace("200", "302"), "django-admin/socialaccount/socialaccount/*/*/ "
         "django-admin/socialaccount/socialtoken/*/*/ "
         "django-admin/accounts/queuedemail/<path:object_id>/*/"),
    rule(DJANGO_ADMIN, "django-admin/*"),
]
# fmt: on


# ASKING ---------------------------------------------------------------------------------------
SIGN_IN = {"/accounts/login/", "/cms/login/", "/django-admin/login/"}


def answer(response) -> str:
    if response.status_code in (301, 302):
        path = urlsplit(response["Location"]).path
        if path in SIGN_IN:
            return "login"
        return "dash" if path == "/cms/" else "302"
    return str(response.status_code)


def rules_for(route: str) -> list[Rule]:
    """The first rule whose globs fit the route, then every also=True rule that fits it."""
    fitting = [r for r in RULES if any(fnmatchcase(route, glob) for glob in r.routes)]
    first = next((r for r in fitting if not r.also), None)
    return ([first] if first else []) + [r for r in fitting if r.also]


def url_of(rule: Rule, route: str, council: dict) -> str:
    if rule.url:
        return rule.url.format(**council)
    return fill(route, council, rule.objects)


def ask(council: dict, role: str, url: str, method: str = "get", data=None):
    """One request as `role`. Wagtail's admin sign-out deletes the session cookie on any request,
    even a refused GET: each request goes with the role's own session."""
    client = council["clients"][role]
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = council["sessions"][role]
    return getattr(client, method)(url, data or {})


def requests_to_make(patterns: dict[str, set]) -> list[tuple[str, Rule]]:
    """(route, rule) for every pattern and each of its rules, but a twin asked through its page."""
    return [
        (route, each)
        for route in patterns
        if twin_of(route, patterns) is None
        for each in rules_for(route)
    ]


# Roles that must never be shown another officer's name or email (the line manager may: it is
# their team; HR and the administrator may: they hold everyone's records).
NOT_THEIRS = {"anonymous", "officer", "councillor", "member_services", "editor", "approver"}


def names_the_colleague(response, council: dict) -> bool:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    colleague = council["colleague"]
    return colleague.full_name.encode() in body or colleague.email.encode() in body


# THE TESTS ------------------------------------------------------------------------------------


def test_every_pattern_has_a_rule_and_every_rule_a_pattern():
    patterns = all_patterns()

    without = [route for route in patterns if not rules_for(route)]
    unused = [
        r.routes for r in RULES if not any(fnmatchcase(p, g) for p in patterns for g in r.routes)
    ]
    twins_apart = [
        route
        for route in patterns
        if (twin := twin_of(route, patterns)) and rules_for(route) != rules_for(twin)
    ]

    assert not without, f"URL patterns with no rule in RULES: {without}"
    assert not unused, f"rules that fit no URL pattern: {unused}"
    assert not twins_apart, f"results views under another rule than their page: {twins_apart}"


@pytest.mark.parametrize("role", ROLES)
def test_every_pattern_answers_each_role_as_its_rule_says(council, role):
    """One request per (pattern, rule instance) as this role; every wrong answer is listed."""
    wrong = []
    for route, each in requests_to_make(all_patterns()):
        url = url_of(each, route, council)
        response = ask(council, role, url)
        got, expected = answer(response), each.answers[role]
        if got != expected:
            wrong.append(f"{url} [{route}]: {got}, the rule says {expected}")
        elif (
            got == "200"
            and role in NOT_THEIRS
            and not each.shows_people
            and names_the_colleague(response, council)
        ):
            wrong.append(f"{url} [{route}]: shows another officer's name or email")

    assert not wrong, f"{role}:\n" + "\n".join(wrong)


# STATE-CHANGING VIEWS OF OUR OWN APPS: POSTed by each role that must be refused -------------
# "-" is a role that may do it (not asked here). Each entry counts the rows the view would
# change; after every refused POST they are the same.


def attempt_rows(c):
    from quizzes.models import Attempt, AttemptQuestion

    attempt = Attempt.objects.filter(pk=c["attempt"].pk).values_list(
        "status", "score", "finished_at"
    )
    answered = AttemptQuestion.objects.filter(attempt=c["attempt"]).values_list(
        "selected", flat=True
    )
    return Attempt.objects.count(), list(attempt), list(answered)


def people_rows(c):
    from accounts.models import PeopleImport, User

    colleague = User.objects.filter(pk=c["colleague"].pk).values_list(
        "full_name", "email", "job_title", "is_active", "person_type"
    )
    imports = PeopleImport.objects.values_list("pk", "imported_at")
    return User.objects.count(), list(colleague), sorted(imports)


def kiosk_rows(c):
    from wagtail.models import ModelLogEntry

    from cms.audit import ACTION_KIOSK

    return ModelLogEntry.objects.filter(action=ACTION_KIOSK).count()


def completion_rows(c):
    from training.models import CompletionImport, ModuleCompletion

    imports = CompletionImport.objects.values_list("pk", "imported_at", "imported")
    return ModuleCompletion.objects.count(), sorted(imports)


def retake_rows(c):
    from training.models import RetakeRequest

    return list(RetakeRequest.objects.values_list("pk", "withdrawn_at", "withdrawn_by"))


def bank_rows(c):
    from quizzes.models import Choice, Question

    return Question.objects.count(), Choice.objects.count()


def mailbox_rows(c):
    from training.models import ReminderSettings

    return list(
        ReminderSettings.objects.values_list("member_services_email", "monitoring_officer_email")
    )


def assignment_rows(c):
    from training.models import Assignment

    return list(Assignment.objects.order_by("pk").values_list("due_on", "exempt_reason"))


def team_rows(c):
    """What a line manager's actions change: the colleague's assignment, the reminder log, the
    exemption requests, extra quiz attempts and the audit trail."""
    from quizzes.models import AttemptGrant
    from training.models import Assignment, ExemptionRequest, SentMessage

    assignment = Assignment.objects.filter(pk=c["assignment"].pk).values_list(
        "due_on", "exempt_reason"
    )
    return (
        list(assignment),
        SentMessage.objects.count(),
        sorted(ExemptionRequest.objects.values_list("pk", "state")),
        AttemptGrant.objects.count(),
        log_entry_count(),
    )


def log_entry_count():
    from wagtail.models import ModelLogEntry

    return ModelLogEntry.objects.count()


def progress_rows(c):
    from training.models import LessonProgress

    return list(LessonProgress.objects.values_list("user_id", "lesson_id", "completed_at"))


# What the uploads' previews show their owner (and a confirmation sends back).
PEOPLE_CONFIRM = {
    "create": 1,
    "update": 0,
    "deactivate": 0,
    "unchanged": 0,
    "invite": 1,
    "errors": 0,
}
COMPLETIONS_CONFIRM = {"to_import": 1, "already_recorded": 0, "errors": 0}


def csv_file(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def toolbox_rows(c):
    from training.models import ModuleCompletion, ToolboxAttendance, ToolboxPresence, ToolboxSession

    return [
        list(ToolboxSession.objects.values_list("pk", "closed_at")),
        ToolboxPresence.objects.count(),
        ToolboxAttendance.objects.count(),
        ModuleCompletion.objects.count(),
    ]


TOOLBOX_ANSWERS = {"q1": "0", "q2": "0", "q3": "0"}

# fmt: off
POSTS = [
    #     anon  offcr manag cllr  hr    membr editr apprv admin
    ("login -     -     -     -     -     -     -     -", "/quizzes/{quiz.pk}/start/",
     lambda c: {}, attempt_rows),
    ("login 404   404   404   404   404   404   404   404", "/quizzes/attempts/{attempt.pk}/",
     lambda c: {"action": "submit"}, attempt_rows),
    ("login -     -     -     -     -     -     -     -", "{lesson.url}",
     lambda c: {}, progress_rows),
    # A public lesson has no "Complete" form; a POST to it serves it and records nothing.
    ("200   200   200   200   200   200   200   200   200", "{public_lesson.url}",
     lambda c: {}, progress_rows),
    ("login login login login -     403   403   403   -", "/cms/people/import/",
     lambda c: {"file": csv_file("people.csv", PEOPLE_CSV)}, people_rows),
    ("login login login login 302   403   403   403   302",
     "/cms/people/import/{people_import.token}/",
     lambda c: PEOPLE_CONFIRM, people_rows),
    ("login login login login -     403   403   403   -", "/cms/people/invite/",
     lambda c: {"people": "Sam Patel, sam@cleanstreets.example, Clean Streets Ltd"}, people_rows),
    ("login 403   403   403   -     403   403   403   -", "/kiosk/",
     lambda c: {"kiosk": "on"}, kiosk_rows),
    ("login login login login -     403   403   403   -", "/cms/completions/import/",
     lambda c: {"file": csv_file("records.csv", COMPLETIONS_CSV)}, completion_rows),
    ("login login login login 302   403   403   403   302",
     "/cms/completions/import/{completion_import.token}/",
     lambda c: COMPLETIONS_CONFIRM, completion_rows),
    ("login login login login dash  dash  -     -     -",
     "/cms/modules/{module.pk}/retake-request/withdraw/", lambda c: {}, retake_rows),
    ("login login login login dash  dash  dash  dash  -", "/cms/quizzes/bank/",
     lambda c: {"file": csv_file("bank.csv", "module,text\nmatrix-module,Which?\n")}, bank_rows),
    ("login login login login -     404   404   404   -", "/cms/users/edit/{colleague.pk}/",
     lambda c: {"email": c["colleague"].email, "full_name": "Renamed", "is_active": ""},
     people_rows),
    ("login login login login dash  404   404   404   -", "/cms/users/delete/{colleague.pk}/",
     lambda c: {}, people_rows),
    ("login login login login -     403   403   403   -", "/cms/people/{colleague.pk}/erase/",
     lambda c: {}, people_rows),
    ("login login login login 403   -     403   403   -", "/cms/escalation-mailboxes/",
     lambda c: {"member_services_email": "x@example.gov.uk", "monitoring_officer_email": ""},
     mailbox_rows),
    ("login login login login -     dash  dash  dash  -",
     "/cms/bulk/training/assignment/exempt/?id={assignment.pk}",
     lambda c: {"reason": "Matrix"}, assignment_rows),
    ("login login login login -     dash  dash  dash  -",
     "/cms/bulk/training/assignment/extend/?id={assignment.pk}",
     lambda c: {"new_due_on": "2099-01-01", "reason": "Matrix"}, assignment_rows),
    # The colleague's line manager may; nobody else, HR and the administrator included.
    ("login 404   -     404   404   404   404   404   404", "/my-team/{assignment.pk}/nudge/",
     lambda c: {}, team_rows),
    ("login 404   -     404   404   404   404   404   404", "/my-team/{assignment.pk}/extend/",
     lambda c: {"days": "7", "reason": "Matrix", "due_on_was": c["assignment"].due_on},
     team_rows),
    ("login 404   -     404   404   404   404   404   404",
     "/my-team/{assignment.pk}/exemption/", lambda c: {"reason": "Matrix"}, team_rows),
    ("login 404   -     404   404   404   404   404   404",
     "/quizzes/team/{assignment.pk}/another-attempt/", lambda c: {}, team_rows),
    # Toolbox talks: only their supervisor ticks, closes and hands the device round; only
    # those ticked present answer on their own phone.
    ("login 403   -     403   -     403   403   403   -", "/toolbox/",
     lambda c: {"module": c["module"].pk}, toolbox_rows),
    ("login 403   -     403   404   403   403   403   404",
     "/toolbox/{toolbox_session.token}/present/",
     lambda c: {"present": [c["colleague"].pk, c["officer"].pk]}, toolbox_rows),
    ("login 403   -     403   404   403   403   403   404",
     "/toolbox/{toolbox_session.token}/close/", lambda c: {}, toolbox_rows),
    ("login 404   -     404   404   404   404   404   404",
     "/toolbox/{toolbox_session.token}/check/{colleague.pk}/", lambda c: TOOLBOX_ANSWERS,
     toolbox_rows),
    ("login -     403   403   403   403   403   403   403",
     "/toolbox/{toolbox_session.token}/check/", lambda c: TOOLBOX_ANSWERS, toolbox_rows),
    # HR answers a request; nobody else may.
    ("login login login login -     dash  dash  dash  -",
     "/cms/snippets/training/exemptionrequest/edit/{exemption_request.pk}/",
     lambda c: {"state": "approved", "decision_note": ""}, team_rows),
]
# fmt: on

CSRF_SECRET = "matrixmatrixmatrixmatrixmatrixmx"  # a test's CSRF cookie: 32 characters


def post_as(council: dict, role: str, url: str, data: dict):
    """A POST with a valid CSRF token: the cookie and the form field carry the same secret."""
    council["clients"][role].cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    return ask(council, role, url, "post", {**data, "csrfmiddlewaretoken": CSRF_SECRET})


@pytest.mark.parametrize(("expect", "url", "data", "rows"), POSTS, ids=[p[1] for p in POSTS])
def test_refused_posts_change_nothing(council, expect, url, data, rows):
    wrong = []
    for role, expected in zip(ROLES, expect.split(), strict=True):
        if expected == "-":
            continue
        before = rows(council)
        got = answer(post_as(council, role, url.format(**council), data(council)))
        if got != expected:
            wrong.append(f"{role}: {got}, expected {expected}")
        if rows(council) != before:
            wrong.append(f"{role}: the POST changed rows")

    assert not wrong, f"POST {url}:\n" + "\n".join(wrong)


def test_the_csrf_token_is_a_valid_one(council):
    """The refusals above are the views' own, not CSRF's: the same token completes a lesson."""
    from training.models import LessonProgress

    response = post_as(council, "officer", council["lesson"].url, {})

    assert answer(response) == "302"
    done = LessonProgress.objects.get(user=council["officer"], lesson=council["lesson"])
    assert done.completed_at is not None


@pytest.mark.parametrize(
    ("url", "data", "rows"),
    [
        ("/cms/people/import/{people_import.token}/", PEOPLE_CONFIRM, people_rows),
        (
            "/cms/completions/import/{completion_import.token}/",
            COMPLETIONS_CONFIRM,
            completion_rows,
        ),
    ],
)
def test_the_refused_confirmations_would_import_for_their_owner(council, url, data, rows):
    """The same POST from the HR adviser who uploaded the file imports it: the refusals above
    are for whose upload it is, not for a payload that could never work."""
    owner = Client(raise_request_exception=False, enforce_csrf_checks=True)
    owner.force_login(council["other_hr"])
    owner.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    before = rows(council)

    response = owner.post(url.format(**council), {**data, "csrfmiddlewaretoken": CSRF_SECRET})

    assert answer(response) == "302"
    assert rows(council) != before


def test_wagtails_front_end_sign_in_cannot_skip_the_second_factor(council):
    """Wagtail's /_util/login/ was Django's password form: HR's password alone opened the people
    admin, without the authenticator code allauth asks for and outside its rate limits."""
    client = Client(raise_request_exception=False)
    hr = council["hr"]

    response = client.post(
        "/_util/login/",
        {"username": hr.email, "password": "correct-horse-battery", "next": "/cms/users/"},
    )

    assert answer(response) == "login"
    assert "_auth_user_id" not in client.session
    assert answer(client.get("/cms/users/")) == "login"
