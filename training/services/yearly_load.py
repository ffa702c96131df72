"""How much training the default rules ask of each audience and each kind of person, a year.

The yearly load of a module is its estimated minutes x 12 / its rule's valid months (a module
renewed every two years counts half its minutes a year; one that never expires counts nothing
after the first year). A person's first-year load is the minutes of every module assigned to
them, all taken once. A person's load is over every module any of their audiences has a rule
for, each counted once: mandatory if any of those rules is mandatory, recommended otherwise.
"""

from dataclasses import dataclass, field

from accounts.models import PersonType, ServiceArea
from training.models import AssignmentRule, Audience

# The most mandatory training a person may be given by the default rules, in minutes, in any
# year (the first year or a later one). The one place these limits live (issue 19).
LOAD_LIMIT_MINUTES = {
    PersonType.OFFICER: 90,
    PersonType.OTHER: 90,
    PersonType.COUNCILLOR: 60,
}


@dataclass
class Load:
    """Minutes of training: in a person's first year, and in each later year."""

    first_year: int = 0
    yearly: int = 0
    modules: list[str] = field(default_factory=list)

    @property
    def heaviest_year(self) -> int:
        return max(self.first_year, self.yearly)


@dataclass
class AudienceLoad:
    audience: Audience
    mandatory: Load
    recommended: Load


@dataclass
class PersonLoad:
    """The heaviest load the rules give one kind of person (person type, service area and a
    job title that puts them in a job-title audience, such as senior leaders)."""

    person_type: str
    service_area: str
    audiences: list[Audience]
    mandatory: Load
    limit: int

    @property
    def over(self) -> bool:
        return self.mandatory.heaviest_year > self.limit

    @property
    def label(self) -> str:
        area = ServiceArea(self.service_area).label if self.service_area else "no service area"
        return f"{PersonType(self.person_type).label}, {area}"


@dataclass
class YearlyLoad:
    audiences: list[AudienceLoad]
    heaviest: list[PersonLoad]  # one per person type, the heaviest kind of person of that type

    @property
    def over(self) -> list[PersonLoad]:
        return [person for person in self.heaviest if person.over]


def _load(rules: list[AssignmentRule]) -> Load:
    """Each module once (the shortest validity among its rules)."""
    by_module: dict[int, AssignmentRule] = {}
    for rule in rules:
        current = by_module.get(rule.module_id)
        if current is None or (rule.valid_months or 10**6) < (current.valid_months or 10**6):
            by_module[rule.module_id] = rule
    load = Load()
    for rule in sorted(by_module.values(), key=lambda r: r.module.path):
        minutes = rule.module.estimated_minutes or 0
        load.first_year += minutes
        if rule.valid_months:
            load.yearly += minutes * 12 / rule.valid_months
        load.modules.append(rule.module.title)
    load.yearly = round(load.yearly)
    return load


def _split(rules: list[AssignmentRule]) -> tuple[Load, Load]:
    mandatory_ids = {rule.module_id for rule in rules if rule.mandatory}
    return (
        _load([rule for rule in rules if rule.mandatory]),
        _load([rule for rule in rules if rule.module_id not in mandatory_ids]),
    )


def _matches(audience: Audience, *, person_type: str, service_area: str, titled: int | None):
    """Whether a person of this type, area and job-title audience (its pk, or None) is in the
    audience by its attributes (departments and people added by hand are not modelled)."""
    if audience.person_types and person_type not in audience.person_types:
        return False
    if audience.service_areas and service_area not in audience.service_areas:
        return False
    if audience.job_title_keywords.strip():
        return titled == audience.pk
    return True


def yearly_load() -> YearlyLoad:
    """Per audience, the mandatory and recommended minutes its active rules give (first year and
    each later year); and per person type, the heaviest load any kind of person of that type
    gets from all the audiences they fall in, against LOAD_LIMIT_MINUTES. Two queries."""
    rules = list(
        AssignmentRule.objects.filter(active=True, module__live=True).select_related("module")
    )
    audiences = list(Audience.objects.order_by("name"))
    rules_of: dict[int, list[AssignmentRule]] = {a.pk: [] for a in audiences}
    for rule in rules:
        rules_of.setdefault(rule.audience_id, []).append(rule)
    per_audience = [
        AudienceLoad(audience, *_split(rules_of[audience.pk]))
        for audience in audiences
        if rules_of[audience.pk]
    ]
    titled_audiences = [None] + [a.pk for a in audiences if a.job_title_keywords.strip()]
    heaviest = []
    for person_type, limit in LOAD_LIMIT_MINUTES.items():
        worst = None
        for service_area in ["", *ServiceArea.values]:
            for titled in titled_audiences:
                members = [
                    a
                    for a in audiences
                    if _matches(
                        a, person_type=person_type, service_area=service_area, titled=titled
                    )
                ]
                mandatory, _ = _split([r for a in members for r in rules_of[a.pk]])
                key = (mandatory.heaviest_year, mandatory.first_year)
                if worst is None or key > (
                    worst.mandatory.heaviest_year,
                    worst.mandatory.first_year,
                ):
                    worst = PersonLoad(person_type, service_area, members, mandatory, limit)
        heaviest.append(worst)
    return YearlyLoad(audiences=per_audience, heaviest=heaviest)
