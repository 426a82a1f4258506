"""Project settings: one validated model, and Label Studio's flat field names for it."""

from app.domain.project_settings.ls_fields import (
    LS_FIELDS,
    apply_ls_fields,
    ls_name,
    to_ls_fields,
    validate_settings,
)
from app.domain.project_settings.models import ProjectSettings

__all__ = ["LS_FIELDS", "ProjectSettings", "apply_ls_fields", "ls_name", "to_ls_fields", "validate_settings"]
