"""Strict form parsing: UTF-8 or 400, no repeated fields, a bounded number of fields."""

from urllib.parse import parse_qsl

from starlette.requests import Request

from gatepass.web.errors import BadRequest

MAX_FIELDS = 32
FORM_TYPE = "application/x-www-form-urlencoded"


async def parse_form(request: Request) -> dict[str, str]:
    """The urlencoded body as a dict; BadRequest for anything malformed or hostile."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise BadRequest("Send the form as application/x-www-form-urlencoded.", status_code=415)
    body = await request.body()
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form is not valid UTF-8 or has too many fields.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise BadRequest(f"The field {name!r} appears more than once."[:120])
        if "\x00" in name or "\x00" in value:
            raise BadRequest("The form contains a NUL character.")
        form[name] = value
    return form
