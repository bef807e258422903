"""TikTok connector (TikTok API v2, Display API): user info → account + snapshot, video list → posts.

Endpoints: ``GET /v2/user/info/`` and ``POST /v2/video/list/`` (``cursor`` + ``has_more``, 20 a page,
newest first). The Display API only returns the data of the creator who granted the access token, so each
creator needs their own token: ``TRIAD_TIKTOK_ACCESS_TOKEN`` for one, or a ``[tiktok.access_tokens]`` table
in .streamlit/secrets.toml (``handle = "token"``) for several. A token that belongs to another creator than
the account asked for is refused rather than filed under the wrong account.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.credentials import MissingCredentialError, find_credential, read_secrets
from connectors.http import FatalAPIError, RetryPolicy, register_secret
from connectors.social import AccountRef, FetchResult, FetchWindow, Target
from connectors.tiktok import settings
from connectors.tiktok.helpers import TikTokClient, parse_account, user_profile


def creator_tokens() -> dict[str, str]:
    """Per-creator tokens from ``[tiktok.access_tokens]`` in secrets.toml, by lower-case handle."""
    table = (read_secrets().get("tiktok") or {}).get(settings.TOKENS_TABLE) or {}
    tokens = (
        {str(k).lstrip("@").lower(): str(v) for k, v in table.items() if v} if isinstance(table, dict) else {}
    )
    for token in tokens.values():
        register_secret(token)
    return tokens


class TikTokSource:
    name = "tiktok"
    label = "TikTok"

    def __init__(
        self,
        access_token: str | None,
        *,
        tokens: dict[str, str] | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ):
        self.default_token = access_token
        self.tokens = tokens or {}
        self.base_url = base_url
        self.retry = retry
        self._clients: dict[str, TikTokClient] = {}

    def _client(self, handle: str | None) -> TikTokClient:
        token = self.tokens.get((handle or "").lower()) or self.default_token
        if token is None:
            raise FatalAPIError(
                f'No TikTok token for @{handle}: set {settings.TOKEN}, or add {handle} = "…" under '
                f"[tiktok.{settings.TOKENS_TABLE}] in .streamlit/secrets.toml.",
                connector="tiktok",
            )
        if token not in self._clients:
            self._clients[token] = TikTokClient(token, base_url=self.base_url, retry=self.retry)
        return self._clients[token]

    def parse_account(self, text: str) -> AccountRef:
        return parse_account(text)

    def fetch(self, target: Target, window: FetchWindow, step: Callable[[str], None]) -> FetchResult:
        wanted = target.handle or (target.ref.value if target.ref.kind == "handle" else None)
        client = self._client(wanted)
        user = client.user()
        profile = user_profile(user, wanted)
        owner = (user.get("username") or "").lower()
        if (
            target.external_id
            and target.external_id != profile.external_id
            or wanted
            and owner
            and owner != wanted.lower()
        ):
            raise FatalAPIError(
                f"The TikTok token belongs to @{owner or profile.external_id}, not @{wanted}: TikTok's API v2 only "
                "returns a creator's data with a token that creator granted. Add their token under "
                f'[tiktok.{settings.TOKENS_TABLE}] in .streamlit/secrets.toml ({wanted} = "…").',
                connector="tiktok",
            )
        posts = client.videos(window, step)
        return FetchResult(profile=profile, posts=posts)

    def usage(self) -> dict[str, int]:
        return {"requests": sum(c.requests_sent for c in self._clients.values())}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def make_source(*, base_url: str | None = None, retry: RetryPolicy | None = None) -> TikTokSource:
    """The connector with TRIAD_TIKTOK_ACCESS_TOKEN and/or the per-creator tokens of secrets.toml."""
    tokens = creator_tokens()
    default = find_credential(settings.TOKEN)
    if default is None and not tokens:
        raise MissingCredentialError(settings.TOKEN, "The TikTok sync")
    return TikTokSource(default, tokens=tokens, base_url=base_url, retry=retry)


__all__ = ["TikTokSource", "creator_tokens", "make_source", "parse_account"]
