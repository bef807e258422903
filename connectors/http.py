"""The HTTP layer every connector shares: sessions, retries, rate limits, error classes, paginators, masking.

Public API (stable: the social and the commerce connectors import these names)
-------------------------------------------------------------------------------
Sessions and requests
    ``make_session(connector, *, user_agent=None, headers=None, timeout=DEFAULT_TIMEOUT)``
        A ``requests.Session`` with a default timeout, a Triad User-Agent and ``Accept: application/json``.
        One session per connector run (connection pooling; one place for auth headers).
    ``RetryPolicy(max_tries=5, backoff_base=1.0, backoff_max=60.0, max_wait_per_request=120.0,
    max_total_wait=600.0, jitter=0.5)`` and ``RetryPolicy.from_env()`` (``TRIAD_HTTP_MAX_TRIES``,
    ``TRIAD_HTTP_BACKOFF_BASE``, ``TRIAD_HTTP_BACKOFF_MAX``, ``TRIAD_HTTP_MAX_WAIT``,
    ``TRIAD_HTTP_MAX_TOTAL_WAIT``).
    ``APIClient(base_url, *, connector, label=None, session=None, retry=None, auth_settings=(),
    classify_error=None, check_body=None, default_params=None)``
        ``.request(method, path, ...) -> requests.Response`` (retried, classified, masked),
        ``.request_json(method, path, ...) -> Any`` (the parsed body; a non-JSON body is a
        :class:`MalformedResponseError`), ``.get_json(path, ...)``, ``.paginate(path, paginator=...)``
        (yields each page's parsed body), ``.quota_used`` (sum of ``cost=`` of the requests sent) and
        ``.requests_sent``.
    ``request_json(method, url, *, connector, ...)``: one request without keeping a client around.
    Retries apply to every method (the connectors only read); give a write ``RetryPolicy(max_tries=1)``.

Errors (each message is a sentence for the user; tokens are masked)
    ``APIError`` (base; ``.connector``, ``.status``, ``.code``, ``.url`` masked, ``.stops_connector``)
    ├── ``RetriableAPIError``: can succeed later (429, 5xx, connection errors, timeouts); raised once the
    │   tries or the wait budget are spent.
    │   └── ``RateLimitError``: the platform asked us to slow down (429 or its own throttling codes).
    └── ``FatalAPIError``: retrying will not help (4xx other than 429).
        ├── ``AuthenticationError``: token/key invalid or expired; names the setting to fix.
        ├── ``QuotaExhaustedError``: a daily quota is spent (YouTube ``quotaExceeded``); never retried.
        ├── ``NotFoundError``: the account or object does not exist (or is not visible to us).
        ├── ``MalformedResponseError``: the body is not JSON or lacks what the API reference promises.
        └── ``PaginationError``: a paginator saw a page token twice (the API would loop forever).
    ``AuthenticationError`` and ``QuotaExhaustedError`` have ``stops_connector = True``: every other
    account would fail the same way, so the sync stops at once.

Paginators (small objects, one per listing; they raise ``PaginationError`` on a repeated token)
    ``PageTokenPaginator(token_path="nextPageToken", param="pageToken")``: YouTube, X (``meta.next_token``
    → ``pagination_token``).
    ``CursorPaginator(cursor_path, param, has_more_path=None, in_body=False)``: Twitch
    (``pagination.cursor`` → ``after``; ``pagination: {}`` ends), TikTok (``data.cursor`` +
    ``data.has_more``, cursor sent in the JSON body), Instagram (``paging.cursors.after``, ends when
    ``paging.next`` is absent: ``has_more_path="paging.next"``).
    ``LinkHeaderPaginator(rel="next")``: RFC 8288 ``Link`` headers (Shopify, GitHub-style APIs).
    ``NextURLPaginator(next_url_path)``: a full next-page URL inside the body.
    ``PageNumberPaginator(param="page", total_pages_header=None, start=1)``: numbered pages that end at
    ``X-WP-TotalPages`` or on the first empty page (WooCommerce).
    ``SinglePagePaginator``: no paging.

Redaction
    ``register_secret(value)`` (credentials.get_credential calls it), ``mask_url(url)``,
    ``mask_text(text)``: every log line and error message of this module goes through them, and a
    ``RedactingFilter`` on urllib3's logger masks the URLs it logs at DEBUG.

Rate limits
    ``wait_hint(response)`` reads ``Retry-After`` (seconds or HTTP date), X's ``x-rate-limit-reset`` (epoch
    seconds, used when ``x-rate-limit-remaining`` is 0 or on a 429), Twitch's ``Ratelimit-Reset``, Meta's
    ``X-Business-Use-Case-Usage`` (``estimated_time_to_regain_access``, minutes) and ``X-App-Usage``
    (percentages; 100 = throttled). After a successful response whose headers say the window is spent, the
    client pauses before its next request instead of provoking a 429.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # (connect, read) seconds
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # plus any other 5xx


def _triad_version() -> str:
    try:
        from importlib.metadata import version

        return version("triad")
    except Exception:  # not installed (running from a checkout)
        return "0.1.0"


USER_AGENT = f"Triad/{_triad_version()} (local-first influencer relationship management; python-requests)"

# ---------------------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------------------
MASK = "***"
SENSITIVE_PARAMS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "access_token",
        "token",
        "client_secret",
        "refresh_token",
        "password",
        "secret",
        "signature",
        "sig",
        "appsecret_proof",
        "consumer_key",
        "consumer_secret",
        "oauth_token",
        "oauth_signature",
    }
)
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_INLINE_SECRET = re.compile(
    r"(?i)\b(" + "|".join(sorted(SENSITIVE_PARAMS, key=len, reverse=True)) + r")=([^&\s\"'#]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/=-]{6,}")


def register_secret(value: str | None) -> None:
    """Remember a secret so :func:`mask_text` and :func:`mask_url` hide it wherever it appears."""
    if value and len(value) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def _mask_known(text: str) -> str:
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_text(text: object) -> str:
    """``text`` with registered secrets, ``token=…``-style parameters and bearer tokens replaced by ***."""
    out = _mask_known(str(text))
    out = _INLINE_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", out)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", out)


def mask_url(url: str) -> str:
    """The URL with sensitive query parameters, user info and registered secrets masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in SENSITIVE_PARAMS else v) for k, v in pairs], safe="*,:/")
    return mask_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


class RedactingFilter(logging.Filter):
    """Masks secrets in records of loggers we do not control (urllib3 logs full URLs at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = mask_text(record.getMessage())
            record.args = None
        else:
            record.msg = mask_text(record.msg)
        return True


for _name in ("urllib3.connectionpool", "requests"):
    logging.getLogger(_name).addFilter(RedactingFilter())


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------
class APIError(RuntimeError):
    """A platform request that did not give us what we asked for; ``str()`` is a sentence for the user."""

    stops_connector = False

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        status: int | None = None,
        code: str | int | None = None,
        url: str | None = None,
    ):
        super().__init__(mask_text(message))
        self.connector = connector
        self.status = status
        self.code = code
        self.url = None if url is None else mask_url(url)


class RetriableAPIError(APIError):
    """The request may succeed later (rate limit, server error, network); raised when retrying gave up."""


class RateLimitError(RetriableAPIError):
    """The platform asked us to slow down."""


class FatalAPIError(APIError):
    """Retrying will not help: the request itself is wrong for the platform."""


class AuthenticationError(FatalAPIError):
    """The credential is missing, invalid, expired or lacks a permission; the message names the setting."""

    stops_connector = True


class QuotaExhaustedError(FatalAPIError):
    """A quota that resets later (often daily) is spent; retrying now only burns more of it."""

    stops_connector = True


class NotFoundError(FatalAPIError):
    """The account or object does not exist, or the credential may not see it."""


class MalformedResponseError(FatalAPIError):
    """The response is not what the platform's API reference promises (not JSON, missing fields)."""


class PaginationError(FatalAPIError):
    """A paginator was handed a page token it had already followed."""


# ---------------------------------------------------------------------------------------------------------
# Retry policy and rate-limit headers
# ---------------------------------------------------------------------------------------------------------
def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        log.warning("ignoring %s=%r: not a number", name, raw)
        return default


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a retriable failure.

    Delays grow as ``backoff_base * 2**(try-1)`` capped at ``backoff_max``, each multiplied by a random
    factor in ``[1 - jitter, 1 + jitter]``; a wait the platform asks for (``Retry-After`` and friends) is
    used as is (never shortened). One request waits at most ``max_wait_per_request`` seconds in all, one
    client (one connector run) at most ``max_total_wait``.
    """

    max_tries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_wait_per_request: float = 120.0
    max_total_wait: float = 600.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    @classmethod
    def from_env(cls, **overrides: Any) -> RetryPolicy:
        """Defaults, overridden by ``TRIAD_HTTP_*`` environment variables, then by ``overrides``."""
        values: dict[str, Any] = {
            "max_tries": max(1, int(_env_float("TRIAD_HTTP_MAX_TRIES", cls.max_tries))),
            "backoff_base": _env_float("TRIAD_HTTP_BACKOFF_BASE", cls.backoff_base),
            "backoff_max": _env_float("TRIAD_HTTP_BACKOFF_MAX", cls.backoff_max),
            "max_wait_per_request": _env_float("TRIAD_HTTP_MAX_WAIT", cls.max_wait_per_request),
            "max_total_wait": _env_float("TRIAD_HTTP_MAX_TOTAL_WAIT", cls.max_total_wait),
        }
        values.update(overrides)
        return cls(**values)

    def backoff(self, attempt: int) -> float:
        """The delay before try ``attempt + 1`` when the platform gave no hint."""
        base = min(self.backoff_max, self.backoff_base * (2 ** max(0, attempt - 1)))
        return max(0.0, base * (1 + self.jitter * (2 * random.random() - 1)))


def _header_float(response: requests.Response, name: str) -> float | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def _retry_after(response: requests.Response, now: float) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


def _reset_epoch(response: requests.Response, now: float, *, spent_only: bool) -> float | None:
    """X (x-rate-limit-*) and Twitch (Ratelimit-*): seconds until the window resets, when it is spent."""
    for prefix in ("x-rate-limit-", "ratelimit-"):
        reset = _header_float(response, prefix + "reset")
        if reset is None:
            continue
        remaining = _header_float(response, prefix + "remaining")
        if spent_only and (remaining is None or remaining > 0):
            continue
        # an epoch timestamp (X, Twitch); a small number would be "seconds from now" (IETF draft)
        return max(0.0, reset - now) if reset > 1e9 else max(0.0, reset)
    return None


def _meta_usage(response: requests.Response) -> tuple[float | None, float]:
    """Meta's usage headers: (seconds until access returns or None, highest usage percentage)."""
    regain: float | None = None
    highest = 0.0
    raw_buc = response.headers.get("X-Business-Use-Case-Usage")
    if raw_buc:
        try:
            buc = json.loads(raw_buc)
        except ValueError:
            buc = {}
        for entries in buc.values() if isinstance(buc, dict) else ():
            for entry in entries if isinstance(entries, list) else ():
                if not isinstance(entry, dict):
                    continue
                for key in ("call_count", "total_cputime", "total_time"):
                    with contextlib.suppress(TypeError, ValueError):
                        highest = max(highest, float(entry.get(key) or 0))
                minutes = entry.get("estimated_time_to_regain_access")
                with contextlib.suppress(TypeError, ValueError):
                    if minutes and float(minutes) > 0:
                        regain = max(regain or 0.0, float(minutes) * 60)
    for name in ("X-App-Usage", "X-Ad-Account-Usage"):
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        if isinstance(usage, dict):
            for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
                with contextlib.suppress(TypeError, ValueError):
                    highest = max(highest, float(usage.get(key) or 0))
    return regain, highest


def wait_hint(response: requests.Response, *, now: float | None = None) -> float | None:
    """Seconds the platform asks us to wait before the next request, from its headers (None: no hint)."""
    now = time.time() if now is None else now
    after = _retry_after(response, now)
    if after is not None:
        return after
    reset = _reset_epoch(response, now, spent_only=response.status_code != 429)
    if reset is not None:
        return reset
    regain, _ = _meta_usage(response)
    return regain


def _pause_hint(response: requests.Response, policy: RetryPolicy) -> float | None:
    """After a success: how long to pause so the next request does not hit a spent window."""
    now = time.time()
    reset = _reset_epoch(response, now, spent_only=True)
    if reset is not None:
        return reset
    regain, highest = _meta_usage(response)
    if regain:
        return regain
    if highest >= 100:
        return policy.backoff_max
    if highest >= 80:
        log.info("Meta usage at %.0f %% of the limit", highest)
    return None


# ---------------------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------------------
class TimeoutSession(requests.Session):
    """A ``requests.Session`` whose requests get ``timeout`` unless the call passes one."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT):
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def make_session(
    connector: str,
    *,
    user_agent: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> requests.Session:
    """One session per connector run: default timeout, Triad User-Agent, JSON accepted."""
    session = TimeoutSession(timeout)
    session.headers["User-Agent"] = user_agent or f"{USER_AGENT} connector/{connector}"
    session.headers["Accept"] = "application/json"
    if headers:
        session.headers.update(headers)
    return session


# ---------------------------------------------------------------------------------------------------------
# Paginators
# ---------------------------------------------------------------------------------------------------------
def dig(data: Any, path: str | Sequence[str], default: Any = None) -> Any:
    """``data["a"]["b"]`` for ``path="a.b"``; ``default`` when any step is missing or not a mapping."""
    keys = path.split(".") if isinstance(path, str) else list(path)
    current = data
    for key in keys:
        if isinstance(current, Mapping) and key in current:
            current = current[key]
        else:
            return default
    return current


@dataclass
class PageRequest:
    """What the next page's request looks like: a paginator edits it in place."""

    url: str
    params: dict[str, Any]
    json: dict[str, Any] | None = None


class BasePaginator:
    """Reads each response to decide whether there is a next page and how to ask for it."""

    def __init__(self, *, max_pages: int | None = None):
        self.has_next_page = True
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[str] = set()

    def init_request(self, request: PageRequest) -> None:
        """Adjust the first request (e.g. the page size or first page number)."""

    def update_state(self, response: requests.Response, data: Any) -> None:
        raise NotImplementedError

    def update_request(self, request: PageRequest) -> None:
        raise NotImplementedError

    def _follow(self, token: Any) -> None:
        """Accept ``token`` as the next page's, or stop the listing when it is absent or seen before."""
        if token is None or token == "":
            self.has_next_page = False
            return
        key = str(token)
        if key in self._seen:
            raise PaginationError(
                f"The platform sent the same page token twice ({mask_text(key)[:40]}); stopped reading "
                "pages to avoid an endless loop. Run the sync again later; if it persists the API is "
                "misbehaving."
            )
        self._seen.add(key)
        self.has_next_page = True

    def after_page(self, response: requests.Response, data: Any) -> None:
        self.pages += 1
        self.update_state(response, data)
        if self.max_pages is not None and self.pages >= self.max_pages:
            self.has_next_page = False


class SinglePagePaginator(BasePaginator):
    def update_state(self, response: requests.Response, data: Any) -> None:
        self.has_next_page = False

    def update_request(self, request: PageRequest) -> None:  # pragma: no cover - never called
        return None


class PageTokenPaginator(BasePaginator):
    """A token in the body names the next page (YouTube ``nextPageToken``, X ``meta.next_token``)."""

    def __init__(
        self, token_path: str = "nextPageToken", param: str = "pageToken", *, max_pages: int | None = None
    ):
        super().__init__(max_pages=max_pages)
        self.token_path = token_path
        self.param = param
        self.token: str | None = None

    def update_state(self, response: requests.Response, data: Any) -> None:
        token = dig(data, self.token_path)
        self._follow(token)
        self.token = token if self.has_next_page else None

    def update_request(self, request: PageRequest) -> None:
        request.params[self.param] = self.token


class CursorPaginator(BasePaginator):
    """A cursor in the body, sent back as a query parameter or in the JSON body.

    With ``has_more_path`` the listing ends when that value is falsy or absent (TikTok ``has_more``;
    Instagram's ``paging.next`` is present only when there is a next page), whatever the cursor says.
    """

    def __init__(
        self,
        cursor_path: str,
        param: str,
        *,
        has_more_path: str | None = None,
        in_body: bool = False,
        max_pages: int | None = None,
    ):
        super().__init__(max_pages=max_pages)
        self.cursor_path = cursor_path
        self.param = param
        self.has_more_path = has_more_path
        self.in_body = in_body
        self.cursor: Any = None

    def update_state(self, response: requests.Response, data: Any) -> None:
        if self.has_more_path is not None and not dig(data, self.has_more_path):
            self.has_next_page = False
            self.cursor = None
            return
        cursor = dig(data, self.cursor_path)
        self._follow(cursor)
        self.cursor = cursor if self.has_next_page else None

    def update_request(self, request: PageRequest) -> None:
        if self.in_body:
            request.json = {**(request.json or {}), self.param: self.cursor}
        else:
            request.params[self.param] = self.cursor


class LinkHeaderPaginator(BasePaginator):
    """RFC 8288 ``Link: <url>; rel="next"`` headers; the next URL carries every parameter itself."""

    def __init__(self, rel: str = "next", *, max_pages: int | None = None):
        super().__init__(max_pages=max_pages)
        self.rel = rel
        self.next_url: str | None = None

    def update_state(self, response: requests.Response, data: Any) -> None:
        url = (response.links.get(self.rel) or {}).get("url")
        self._follow(url)
        self.next_url = urljoin(response.url, url) if self.has_next_page and url else None

    def update_request(self, request: PageRequest) -> None:
        assert self.next_url is not None
        request.url = self.next_url
        request.params = {}


class NextURLPaginator(BasePaginator):
    """A full next-page URL inside the body (e.g. Graph API ``paging.next``)."""

    def __init__(self, next_url_path: str = "paging.next", *, max_pages: int | None = None):
        super().__init__(max_pages=max_pages)
        self.next_url_path = next_url_path
        self.next_url: str | None = None

    def update_state(self, response: requests.Response, data: Any) -> None:
        url = dig(data, self.next_url_path)
        self._follow(url)
        self.next_url = urljoin(response.url, url) if self.has_next_page and url else None

    def update_request(self, request: PageRequest) -> None:
        assert self.next_url is not None
        request.url = self.next_url
        request.params = {}


class PageNumberPaginator(BasePaginator):
    """Numbered pages: stop after ``total_pages_header`` pages (if sent) or at the first empty page."""

    def __init__(
        self,
        param: str = "page",
        *,
        start: int = 1,
        total_pages_header: str | None = None,
        items_path: str | None = None,
        max_pages: int | None = None,
    ):
        super().__init__(max_pages=max_pages)
        self.param = param
        self.page = start
        self.total_pages_header = total_pages_header
        self.items_path = items_path

    def init_request(self, request: PageRequest) -> None:
        request.params.setdefault(self.param, self.page)

    def update_state(self, response: requests.Response, data: Any) -> None:
        items = dig(data, self.items_path) if self.items_path else data
        if not items:
            self.has_next_page = False
            return
        if self.total_pages_header:
            total = _header_float(response, self.total_pages_header)
            if total is not None and self.page >= total:
                self.has_next_page = False
                return
        self.page += 1
        self.has_next_page = True

    def update_request(self, request: PageRequest) -> None:
        request.params[self.param] = self.page


# ---------------------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------------------
ErrorClassifier = Callable[[requests.Response, Any], "APIError | None"]
BodyCheck = Callable[[requests.Response, Any], "APIError | None"]


def platform_message(body: Any) -> str | None:
    """The human part of a platform's error body, whatever its shape (first 300 characters, masked)."""
    candidates: list[Any] = [
        dig(body, "error.error_user_msg"),
        dig(body, "error.message"),
        dig(body, "message"),
    ]
    errors = dig(body, "errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        candidates.append(errors[0].get("message") or errors[0].get("detail"))
    candidates += [
        dig(body, "detail"),
        dig(body, "error_description"),
        dig(body, "title"),
        dig(body, "error"),
    ]
    for text in candidates:
        if isinstance(text, str) and text.strip():
            text = " ".join(text.split())
            return mask_text(text[:300] + ("…" if len(text) > 300 else ""))
    return None


def _safe_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class APIClient:
    """Requests to one platform API: base URL, retries, rate limits, error classes, paging, quota count.

    ``classify_error(response, body)`` lets a platform turn its own error bodies into the right class
    (return None to fall back to the status-code rules). ``check_body(response, body)`` inspects successful
    JSON bodies (TikTok reports errors inside a 200). ``auth_settings`` names the setting(s) a user fixes
    when the credential is refused.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connector: str,
        label: str | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        auth_settings: Sequence[str] = (),
        classify_error: ErrorClassifier | None = None,
        check_body: BodyCheck | None = None,
        default_params: Mapping[str, Any] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.connector = connector
        self.label = label or connector
        self.session = session or make_session(connector)
        self.retry = retry or RetryPolicy.from_env()
        self.auth_settings = tuple(auth_settings)
        self.classify_error = classify_error
        self.check_body = check_body
        self.default_params = dict(default_params or {})
        self.timeout = timeout
        self.quota_used = 0
        self.requests_sent = 0
        self.total_waited = 0.0
        self._not_before = 0.0

    # -- plumbing ------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """``path`` under the base URL (a full URL is kept as is)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def settings_hint(self) -> str:
        if not self.auth_settings:
            return "Check the connector's credentials."
        names = " and ".join(self.auth_settings)
        return (
            f"Check {names} (environment variable, or the same key in .streamlit/secrets.toml): it is "
            "invalid, has expired or lacks a permission."
        )

    def _sleep(self, seconds: float, *, why: str, request_waited: float) -> float:
        """Sleep within the budgets; raise RateLimitError when the wait would exceed them."""
        policy = self.retry
        if seconds > policy.max_wait_per_request - request_waited or (
            seconds > policy.max_total_wait - self.total_waited
        ):
            budget = min(policy.max_wait_per_request, policy.max_total_wait)
            resume = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
            error = RateLimitError(
                f"{self.label} asks us to wait {seconds:.0f} s ({why}), longer than this sync waits at most "
                f"({budget:.0f} s). Run the sync again after {resume:%H:%M} UTC.",
                connector=self.connector,
            )
            error.stops_connector = True  # every later request would meet the same wait
            raise error
        if seconds > 0:
            policy.sleep(seconds)
            self.total_waited += seconds
        return seconds

    def _classify(self, response: requests.Response, body: Any) -> APIError:
        status = response.status_code
        masked = mask_url(response.url or "")
        if self.classify_error is not None:
            custom = self.classify_error(response, body)
            if custom is not None:
                custom.connector = custom.connector or self.connector
                custom.status = custom.status or status
                custom.url = custom.url or masked
                return custom
        detail = platform_message(body) or response.reason or "no details"
        kwargs = {"connector": self.connector, "status": status, "url": masked}
        if status == 401:
            return AuthenticationError(
                f"{self.label} refused the credentials (HTTP 401: {detail}). {self.settings_hint()}", **kwargs
            )
        if status == 429:
            return RateLimitError(f"{self.label} rate limit reached (HTTP 429: {detail}).", **kwargs)
        if status in RETRY_STATUSES or status >= 500:
            return RetriableAPIError(f"{self.label} had a server error (HTTP {status}: {detail}).", **kwargs)
        if status == 403:
            return FatalAPIError(
                f"{self.label} refused the request (HTTP 403: {detail}). {self.settings_hint()}", **kwargs
            )
        if status == 404:
            return NotFoundError(f"{self.label} found nothing there (HTTP 404: {detail}).", **kwargs)
        return FatalAPIError(f"{self.label} rejected the request (HTTP {status}: {detail}).", **kwargs)

    def _parse(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            sample = mask_text(" ".join(response.text[:80].split())) if response.text else "an empty body"
            raise MalformedResponseError(
                f"{self.label} answered with something that is not JSON (HTTP {response.status_code}, "
                f"{kind}: {sample!r}). If you set --base-url, check that it points at the API root; "
                "otherwise try again later.",
                connector=self.connector,
                status=response.status_code,
                url=response.url,
            ) from None

    # -- public --------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        cost: int = 0,
    ) -> requests.Response:
        """Send one request, retrying what can succeed later; return the successful response.

        ``cost`` is added to :attr:`quota_used` for every request sent (YouTube counts failed calls too).
        """
        url = self.url(path)
        merged = {**self.default_params, **(params or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        policy = self.retry
        waited = 0.0
        for attempt in range(1, policy.max_tries + 1):
            pause = self._not_before - time.monotonic()
            if pause > 0:
                waited += self._sleep(pause, why="its rate-limit window is spent", request_waited=waited)
            self._not_before = 0.0
            started = time.monotonic()
            self.requests_sent += 1
            self.quota_used += cost
            try:
                response = self.session.request(
                    method, url, params=merged, json=json_body, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                error: APIError = RetriableAPIError(
                    f"{self.label}: the request {kind} ({type(exc).__name__}). Check the network connection"
                    " (and --base-url if you set it), then run the sync again.",
                    connector=self.connector,
                    url=url,
                )
                hint = None
                log.debug("%s %s failed: %s", method, mask_url(url), mask_text(exc))
            else:
                log.debug(
                    "%s %s -> %s in %.2f s",
                    method,
                    mask_url(response.url or url),
                    response.status_code,
                    time.monotonic() - started,
                )
                if response.ok:
                    pause_for = _pause_hint(response, policy)
                    if pause_for:
                        self._not_before = time.monotonic() + pause_for
                    return response
                body = _safe_json(response)
                error = self._classify(response, body)
                hint = wait_hint(response)
            if not isinstance(error, RetriableAPIError):
                raise error
            if attempt >= policy.max_tries:
                raise type(error)(
                    f"{error} Gave up after {policy.max_tries} tries; the store was left as it was for this "
                    "account. Run the sync again later.",
                    connector=error.connector,
                    status=error.status,
                    code=error.code,
                    url=error.url,
                )
            delay = hint if hint is not None else policy.backoff(attempt)
            log.warning(
                "%s: %s on %s %s; retrying in %.1f s (try %d of %d)",
                self.label,
                f"HTTP {error.status}" if error.status else "connection error",
                method,
                urlsplit(mask_url(url)).path,
                delay,
                attempt + 1,
                policy.max_tries,
            )
            waited += self._sleep(delay, why=str(error), request_waited=waited)
        raise AssertionError("unreachable")  # pragma: no cover

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        cost: int = 0,
    ) -> Any:
        """:meth:`request`, then the parsed JSON body (checked by ``check_body``)."""
        response = self.request(method, path, params=params, json_body=json_body, headers=headers, cost=cost)
        return self._checked(response)

    def _checked(self, response: requests.Response) -> Any:
        body = self._parse(response)
        if self.check_body is not None:
            error = self.check_body(response, body)
            if error is not None:
                error.connector = error.connector or self.connector
                error.url = error.url or mask_url(response.url or "")
                raise error
        return body

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, cost: int = 0) -> Any:
        return self.request_json("GET", path, params=params, cost=cost)

    def paginate(
        self,
        path: str,
        *,
        paginator: BasePaginator,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: int = 0,
    ) -> Iterator[Any]:
        """Yield each page's parsed body until the paginator says it was the last one.

        The caller may stop early (e.g. once it reaches posts it already has): no further page is asked for.
        Retrying a GET page resends the same token, so a retried page never repeats rows.
        """
        request = PageRequest(
            self.url(path), dict(params or {}), None if json_body is None else dict(json_body)
        )
        paginator.init_request(request)
        while True:
            response = self.request(
                method, request.url, params=request.params, json_body=request.json, headers=headers, cost=cost
            )
            body = self._checked(response)
            paginator.after_page(response, body)
            yield body
            if not paginator.has_next_page:
                return
            paginator.update_request(request)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request_json(
    method: str,
    url: str,
    *,
    connector: str,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    auth_settings: Sequence[str] = (),
) -> Any:
    """One retried, classified JSON request without keeping a client (prefer :class:`APIClient` in loops)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
    client = APIClient(base, connector=connector, session=session, retry=retry, auth_settings=auth_settings)
    try:
        return client.request_json(method, url, params=params, json_body=json_body, headers=headers)
    finally:
        if session is None:
            client.close()


__all__ = [
    "DEFAULT_TIMEOUT",
    "MASK",
    "USER_AGENT",
    "APIClient",
    "APIError",
    "AuthenticationError",
    "BasePaginator",
    "CursorPaginator",
    "FatalAPIError",
    "LinkHeaderPaginator",
    "MalformedResponseError",
    "NextURLPaginator",
    "NotFoundError",
    "PageNumberPaginator",
    "PageRequest",
    "PageTokenPaginator",
    "PaginationError",
    "QuotaExhaustedError",
    "RateLimitError",
    "RetriableAPIError",
    "RetryPolicy",
    "SinglePagePaginator",
    "TimeoutSession",
    "dig",
    "make_session",
    "mask_text",
    "mask_url",
    "platform_message",
    "register_secret",
    "request_json",
    "wait_hint",
]
