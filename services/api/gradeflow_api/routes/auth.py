from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from gradeflow_api.deps import SessionDep, SettingsDep
from gradeflow_api.schemas import Token
from gradeflow_core.models import User
from gradeflow_core.security import make_user_token, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token, summary="Exchange username and password for a bearer token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    user = session.scalar(select(User).where(User.username == form.username))
    if user is None or not verify_password(form.password, user.password_hash):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong username or password.",
                            headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token=make_user_token(user_id=user.id, secret=settings.secret_key, minutes=settings.token_minutes))
