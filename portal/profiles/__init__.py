"""Jurisdiction rule profiles: one TOML file per jurisdiction, loaded into frozen dataclasses.

``load_profile("hunan")`` or ``load_profile("/path/to/custom.toml")``; see ``loader`` for the
file conventions (article citations, editable defaults) and ``model`` for the API.
"""
from .loader import PROFILE_DIR, ProfileError, available_profiles, load_profile
from .model import (
    ALL,
    Cited,
    Display,
    Grade,
    GradeOverride,
    Grading,
    Inspection,
    InspectionRatio,
    Match,
    Objection,
    ObjectionGround,
    Profile,
    Publication,
    PublicationWindow,
    Region,
    Repair,
    RepairItem,
    RepairMinPeriod,
    Role,
    Scoring,
    ScoringRule,
    SeriousListObjection,
    Step,
    StepMachine,
    Transition,
)

__all__ = [
    "ALL", "PROFILE_DIR", "Cited", "Display", "Grade", "GradeOverride", "Grading", "Inspection",
    "InspectionRatio", "Match", "Objection", "ObjectionGround", "Profile", "ProfileError",
    "Publication", "PublicationWindow", "Region", "Repair", "RepairItem", "RepairMinPeriod", "Role",
    "Scoring", "ScoringRule", "SeriousListObjection", "Step", "StepMachine", "Transition",
    "available_profiles", "load_profile",
]
