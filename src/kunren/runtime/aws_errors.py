"""The one seam where botocore exceptions become kunren errors.

A facilitator in the middle of a game day needs one line that says what failed, on which
resource, and the AWS error code to search for (``StopInstances on i-0abc (ap-northeast-1)
failed: UnauthorizedOperation: ...``), not a botocore traceback. Every AWS call in this package
goes through ``kunren.runtime.aws_session.AwsSessions.call``, which uses ``translate`` here.
"""

from __future__ import annotations

from kunren.errors import KunrenError

# Codes that mean "you may not do this" rather than "this failed": the guardrails refuse on them.
DENIED_CODES: frozenset[str] = frozenset(
    {"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess"}
)


def one_line(text: str) -> str:
    return " ".join(text.split())


def client_error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``; None for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error")
    if not isinstance(error, dict):
        return None
    code = error.get("Code")
    return str(code) if code else None


def _client_error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", {})
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    return str(error.get("Message", "")) if isinstance(error, dict) else ""


def describe_failure(exc: BaseException) -> str:
    """``Code: message`` for AWS errors, a plain sentence for local botocore failures."""
    from botocore import exceptions as bx  # boto is an optional extra: import late

    code = client_error_code(exc)
    if code is not None:
        message = _client_error_message(exc)
        return one_line(f"{code}: {message}" if message else code)
    if isinstance(exc, bx.NoCredentialsError):
        return (
            "no AWS credentials found (use --profile, a target's profile:, AWS_PROFILE, "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    if isinstance(exc, bx.ProfileNotFound):
        return one_line(f"ProfileNotFound: {exc}")
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region (set region: on the target, or AWS_REGION)"
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return one_line(f"cannot reach the AWS endpoint: {exc}")
    return one_line(f"{type(exc).__name__}: {exc}")


def translate(
    exc: BaseException,
    *,
    operation: str,
    resource: str,
    region: str | None,
    error: type[KunrenError],
) -> KunrenError:
    """One readable line: ``Operation on resource (region) failed: Code: message``."""
    where = f" ({region})" if region else ""
    return error(f"{operation} on {resource}{where} failed: {describe_failure(exc)}")


def is_botocore_error(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.BotoCoreError | bx.ClientError)
