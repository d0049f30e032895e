"""What programs exports and erases for an athlete (athletes/privacy.py registries).

Imported from `ProgramsConfig.ready()`. Adding a model that hangs off an athlete: register
it here; tests/test_privacy_export.py fails until you do. Children erase before their
parents (lower `order` first), so each count is that model's own rows.
"""

from __future__ import annotations

from athletes.privacy import register_athlete_model, register_not_personal
from programs.models import (
    Adjustment,
    AssessmentLift,
    AthleteModel,
    AutoregulationRun,
    CalendarFeed,
    Exercise,
    PlannedSession,
    PlannedSet,
    Prediction,
    ProgramBlock,
    SessionLog,
    SetLog,
)

register_athlete_model(SetLog, name="set_logs", path="session__athlete", tabular=True, order=10)
register_athlete_model(SessionLog, name="session_logs", tabular=True, order=20)
register_athlete_model(Adjustment, name="adjustments", tabular=True, order=20)
register_athlete_model(AutoregulationRun, name="autoregulation_runs", order=30)
register_athlete_model(
    PlannedSet, name="planned_sets", path="session__athlete", tabular=True, order=30
)
register_athlete_model(PlannedSession, name="planned_sessions", tabular=True, order=40)
register_athlete_model(ProgramBlock, name="program_blocks", order=45)
register_athlete_model(
    AssessmentLift, name="assessment_lifts", path="assessment__athlete", tabular=True, order=40
)
# Fitted models: exported with their bytes (base64 in JSON) for portability; erasure
# removes them, as withdrawing ml_personalisation does.
register_athlete_model(AthleteModel, name="fitted_models", order=10)
register_athlete_model(Prediction, name="predictions", tabular=True, order=10)
register_not_personal(Exercise, "The tenant's exercise library; no relation to a person.")
# The calendar link's fingerprint is a credential, not the person's data: not exported.
register_athlete_model(CalendarFeed, name="calendar_feeds", order=10, exclude=["token_hash"])
