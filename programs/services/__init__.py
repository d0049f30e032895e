"""Writes of programs data, one transaction each. `plans`: the exercise library,
assessment lifts, blocks and logs; `adjustments`: nightly autoregulation, the coach's
review queue and reverts. Import from here."""

from programs.services.adjustments import (
    AdjustmentConflict,
    adjustment_approve,
    adjustment_edit_approve,
    adjustment_propose,
    adjustment_reject,
    adjustment_revert,
    adjustments_bulk_approve,
    autoregulate,
    waits_for_coach,
)
from programs.services.alerts import athlete_alerts_raise
from programs.services.learning import (
    anomaly_check,
    model_audit,
    prediction_mae,
    predictions_update,
)
from programs.services.night import NightResult, athlete_night
from programs.services.plans import (
    NoEnrolment,
    ProgramsError,
    adherence_by_week,
    assessment_lift_add,
    block_generate,
    exercise_library_install,
    session_log_create,
    tenant_library,
)

__all__ = [
    "AdjustmentConflict",
    "NightResult",
    "anomaly_check",
    "athlete_alerts_raise",
    "athlete_night",
    "model_audit",
    "prediction_mae",
    "predictions_update",
    "NoEnrolment",
    "ProgramsError",
    "adherence_by_week",
    "adjustment_approve",
    "adjustment_edit_approve",
    "adjustment_propose",
    "adjustment_reject",
    "adjustment_revert",
    "adjustments_bulk_approve",
    "assessment_lift_add",
    "autoregulate",
    "block_generate",
    "exercise_library_install",
    "session_log_create",
    "tenant_library",
    "waits_for_coach",
]
