"""Organization roles and what each may do, as the spec's role table gives them."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


RANK = {Role.ANNOTATOR: 0, Role.REVIEWER: 1, Role.MANAGER: 2, Role.ADMINISTRATOR: 3, Role.OWNER: 4}

# Label Studio's two-letter codes, as `org_membership[].role` carries them.
LS_CODES = {
    Role.OWNER: "OW",
    Role.ADMINISTRATOR: "AD",
    Role.MANAGER: "MA",
    Role.REVIEWER: "RE",
    Role.ANNOTATOR: "AN",
}

PROJECT_ROLES = frozenset({Role.ANNOTATOR, Role.REVIEWER})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user inside one organization with one role there."""

    user_id: int
    organization_id: int
    role: Role

    @property
    def manages(self) -> bool:
        """Managers and up create projects, change settings and see every project."""
        return RANK[self.role] >= RANK[Role.MANAGER]

    @property
    def administers(self) -> bool:
        """Administrators and owners manage people in the organization."""
        return RANK[self.role] >= RANK[Role.ADMINISTRATOR]


def project_role(org_role: Role, override: str | None) -> Role:
    """The role in one project: a project override applies only to annotators and reviewers."""
    if override and org_role in PROJECT_ROLES:
        return Role(override)
    return org_role
