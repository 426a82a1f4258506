"""Label configs: safe parsing of Label Studio's XML, and checking task data and results against it.

Modules: `safe_xml` (hostile-input reading), `parse` (tags to `LabelConfig`), `values` and `results`
(result checks), `predictions` (short prediction forms), `usage` (config changes versus stored
results), `project_fields` (derived LS project fields), `tags` (the tag catalogue), `messages`
(quoting user text in errors).
"""

from app.domain.label_config.model import ControlTag, LabelConfig, ObjectTag
from app.domain.label_config.parse import parse_label_config
from app.domain.label_config.predictions import normalize_prediction_result
from app.domain.label_config.project_fields import default_control_weights, parsed_label_config
from app.domain.label_config.results import MAX_REGIONS, validate_result, validate_task_data
from app.domain.label_config.usage import breaking_changes, result_usage

__all__ = [
    "MAX_REGIONS",
    "ControlTag",
    "LabelConfig",
    "ObjectTag",
    "breaking_changes",
    "default_control_weights",
    "normalize_prediction_result",
    "parse_label_config",
    "parsed_label_config",
    "result_usage",
    "validate_result",
    "validate_task_data",
]
