"""Twitch Helix API: endpoints, page sizes and the two credentials it needs."""

from __future__ import annotations

BASE_URL = "https://api.twitch.tv/helix"
CLIENT_ID = "TRIAD_TWITCH_CLIENT_ID"
TOKEN = "TRIAD_TWITCH_ACCESS_TOKEN"

PAGE_SIZE = 100  # GET /videos first= maximum
VIDEO_TYPES = {"archive": "stream", "highlight": "highlight", "upload": "video"}
