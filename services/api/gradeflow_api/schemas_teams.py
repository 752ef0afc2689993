"""Request and response schemas of the teams API: settings, teams with their members, invitations."""
from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class TeamSettingsBody(BaseModel):
    """How a course's teams are formed (PUT replaces all of it)."""

    model_config = ConfigDict(extra="forbid")
    students_form: bool = Field(False, description="students may form their own teams by invitation")
    max_size: int = Field(4, ge=1, le=50, description="the most members a team may have when students form it")
    form_until: AwareDatetime | None = Field(None, description="students may form teams until then (None: no end)")


class TeamName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., max_length=200, description="1-80 characters, unique in the course")


class Username(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., max_length=64, description="a student of the course")


class MemberPublic(BaseModel):
    username: str
    name: str


class TeamPublic(BaseModel):
    id: int
    name: str
    members: list[MemberPublic] = Field(..., description="the current members, by username")


class InvitationPublic(BaseModel):
    id: int
    team_id: int
    team: str
    invitee: str
    invited_by: str
    created_at: datetime
    answered_at: datetime | None
    accepted: bool | None = Field(None, description="None until answered")
