"""The posted form as a dependency: read on the event loop, so the route that takes it can be a plain `def`
and do its database work on a worker thread (an `async def` route doing it would stall every request)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def read_form(request: Request) -> FormData:
    return await request.form()  # parsed once per request (CsrfChecked may have read it already)


PostedForm = Annotated[FormData, Depends(read_form)]
