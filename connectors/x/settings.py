"""X API v2 (app-only bearer token): endpoints, fields and paging."""

from __future__ import annotations

BASE_URL = "https://api.x.com/2"
TOKEN = "TRIAD_X_BEARER_TOKEN"

USER_FIELDS = "created_at,description,public_metrics,verified,profile_image_url"
TWEET_FIELDS = "created_at,public_metrics,attachments,referenced_tweets,entities"
EXCLUDE = "retweets,replies"  # the creator's own posts
PAGE_SIZE = 100  # max_results of GET /2/users/:id/tweets (5-100)
