"""One small image, answered at once (``POST /v1/ocr``): its text, without a job; as many
at once as pages run at once, more refused with 429."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from ...errors import PdfocrError
from ...options import ConvertOptions
from ..deps import OcrSlots, Owner, RunnerDep, SettingsDep
from ..models import LANGUAGES_PATTERN, OcrText
from ..problems import PROBLEM_RESPONSES, Problem, from_error, problem
from ..uploads import client_name

router = APIRouter()


@router.post(
    "/v1/ocr",
    response_model=OcrText,
    responses=PROBLEM_RESPONSES,
    summary="The text of one small image, answered at once",
    operation_id="ocr_image",
)
async def ocr(
    who: Owner,
    file: Annotated[UploadFile, File(description="One image")],
    slots: OcrSlots,
    runner: RunnerDep,
    settings: SettingsDep,
    languages: Annotated[str, Form(pattern=LANGUAGES_PATTERN, max_length=200)] = "auto",
) -> OcrText:
    if slots.locked():
        raise Problem(
            problem(429, "busy", "As many images as can be read at once are being read"),
            {"Retry-After": "5"},
        )
    async with slots:
        data = await file.read()
        names = {"<input 1>": client_name(file.filename, 1)}
        try:
            chosen = ConvertOptions(
                languages=tuple(languages.split("+")),
                max_megapixels=settings.sync_max_megapixels,
                page_timeout=settings.page_timeout,
            )
            pages = await asyncio.to_thread(runner.converter.check, [data], chosen)
            if pages != 1:
                raise Problem(problem(422, "one-image", "One image, one page", detail=f"{pages} pages"))
            text = await runner.converter.ocr_image_async(data, chosen)
        except PdfocrError as error:
            raise Problem(from_error(error, names)) from None
    return OcrText(text=text)
