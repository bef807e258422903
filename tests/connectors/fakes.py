"""Fake platform APIs on pytest-httpserver: they answer like the real ones, from the fixture payloads.

Each fake serves its routes under a prefix (``/youtube/v3`` …) so one server can host all five. Tests edit
the payload attributes to change what the "platform" says, and queue error responses for a path with
:meth:`Fake.fail_next` (they are served first, then the normal answer again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.connectors.conftest import json_response, load


class Fake:
    prefix = ""
    platform = ""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.queued: dict[str, list[Response | Callable[[Request], Response]]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self.install()

    @property
    def base_url(self) -> str:
        return self.server.url_for(self.prefix)

    def install(self) -> None:
        raise NotImplementedError

    def fail_next(self, path: str, *responses: Response | Callable[[Request], Response]) -> None:
        self.queued[path].extend(responses)

    def route(self, path: str, handler: Callable[[Request], Response], method: str = "GET") -> None:
        def wrapped(request: Request) -> Response:
            self.calls[path] += 1
            if self.queued[path]:
                item = self.queued[path].pop(0)
                return item if isinstance(item, Response) else item(request)
            return handler(request)

        self.server.expect_request(self.prefix + path, method=method).respond_with_handler(wrapped)

    def requests(self, path: str) -> list[Request]:
        return [r for r, _ in self.server.log if r.path == self.prefix + path]


class YouTubeFake(Fake):
    prefix = "/youtube/v3"
    platform = "youtube"

    def install(self) -> None:
        self.channels = {"UC_x5XG1OV2P6uZZ5FSM9Ttw": load("youtube", "channels")["items"][0]}
        self.handles = {"@googledevelopers": "UC_x5XG1OV2P6uZZ5FSM9Ttw"}
        # the uploads playlist, newest first, and the video resources by id
        self.playlist = (
            load("youtube", "playlist_items_page1")["items"]
            + load("youtube", "playlist_items_page2")["items"]
        )
        self.playlists = {"UU_x5XG1OV2P6uZZ5FSM9Ttw": self.playlist}
        self.page_size = 2
        self.videos = {v["id"]: v for v in load("youtube", "videos")["items"]}
        self.route("/channels", self._channels)
        self.route("/playlistItems", self._playlist_items)
        self.route("/videos", self._videos)

    def _channels(self, request: Request) -> Response:
        body = load("youtube", "channels_empty")
        channel_id = request.args.get("id") or self.handles.get((request.args.get("forHandle") or "").lower())
        if channel_id in self.channels:
            body["items"] = [self.channels[channel_id]]
            body["pageInfo"]["totalResults"] = 1
        return json_response(body)

    def _playlist_items(self, request: Request) -> Response:
        playlist = request.args["playlistId"]
        if playlist not in self.playlists:
            error = {
                "code": 404,
                "message": "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
                "errors": [
                    {
                        "message": "Playlist not found.",
                        "domain": "youtube.playlistItem",
                        "reason": "playlistNotFound",
                        "location": "playlistId",
                        "locationType": "parameter",
                    }
                ],
            }
            return json_response({"error": error}, 404)
        start = int((request.args.get("pageToken") or "p0")[1:])
        size = min(int(request.args.get("maxResults", 5)), self.page_size)
        body: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "etag": f"etag-{start}",
            "items": self.playlists[playlist][start : start + size],
            "pageInfo": {"totalResults": len(self.playlists[playlist]), "resultsPerPage": size},
        }
        if start + size < len(self.playlists[playlist]):
            body["nextPageToken"] = f"p{start + size}"
        if start:
            body["prevPageToken"] = f"p{max(0, start - size)}"
        return json_response(body)

    def _videos(self, request: Request) -> Response:
        ids = request.args["id"].split(",")
        assert len(ids) <= 50, "videos.list takes at most 50 ids"
        items = [self.videos[i] for i in ids if i in self.videos]
        return json_response(
            {
                "kind": "youtube#videoListResponse",
                "etag": "sDAlsG9NGKfr6v5AlPZKSEZdtqA",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    def add_channel(self, channel_id: str, handle: str, title: str) -> None:
        """Another channel with an empty uploads playlist (add_video(..., playlist=) fills it)."""
        channel = load("youtube", "channels")["items"][0]
        channel["id"] = channel_id
        channel["snippet"]["title"] = title
        channel["snippet"]["customUrl"] = f"@{handle}"
        channel["contentDetails"]["relatedPlaylists"]["uploads"] = "UU" + channel_id[2:]
        self.channels[channel_id] = channel
        self.handles[f"@{handle}".lower()] = channel_id
        self.playlists["UU" + channel_id[2:]] = []

    def add_video(
        self,
        video_id: str,
        published: str,
        *,
        views: str = "10",
        likes: str | None = "1",
        playlist: str | None = None,
    ) -> None:
        """A new upload at the top of a playlist (the main channel's by default)."""
        self.playlists[playlist or "UU_x5XG1OV2P6uZZ5FSM9Ttw"].insert(
            0,
            {
                "kind": "youtube#playlistItem",
                "etag": f"etag-{video_id}",
                "id": f"item-{video_id}",
                "contentDetails": {"videoId": video_id, "videoPublishedAt": published},
            },
        )
        stats = {"viewCount": views, "favoriteCount": "0", "commentCount": "0"}
        if likes is not None:
            stats["likeCount"] = likes
        self.videos[video_id] = {
            "kind": "youtube#video",
            "etag": f"etag-{video_id}",
            "id": video_id,
            "snippet": {
                "publishedAt": published,
                "channelId": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
                "title": f"Video {video_id}",
                "description": "",
                "liveBroadcastContent": "none",
            },
            "contentDetails": {"duration": "PT4M13S"},
            "statistics": stats,
        }


class InstagramFake(Fake):
    prefix = "/instagram/v21.0"
    platform = "instagram"
    AGENCY = "17841405309211844"
    OWN = "17841405822304914"

    def install(self) -> None:
        self.user = load("instagram", "user")
        self.media_pages = [load("instagram", "media_page1"), load("instagram", "media_page2")]
        self.discovery_pages = [load("instagram", "discovery_page1"), load("instagram", "discovery_page2")]
        self.insights: dict[str, Any] = {
            "17918195224117851": load("instagram", "insights_values"),
            "17895695668004550": load("instagram", "insights_total_value"),
        }
        self.route(f"/{self.OWN}", self._own_user)
        self.route(f"/{self.AGENCY}", self._agency)
        self.route(f"/{self.OWN}/media", self._media)
        for media in ("17918195224117851", "17895695668004550", "17887498072083520"):
            self.route(f"/{media}/insights", lambda request, media=media: self._insights(media))

    def _own_user(self, request: Request) -> Response:
        return json_response({k: v for k, v in self.user.items()})

    def _media(self, request: Request) -> Response:
        after = request.args.get("after")
        if after is None:
            return json_response(self.media_pages[0])
        assert after == self.media_pages[0]["paging"]["cursors"]["after"]
        return json_response(self.media_pages[1])

    def _insights(self, media: str) -> Response:
        if media not in self.insights:
            return json_response(load("instagram", "error_not_enough_viewers"), 400)
        return json_response(self.insights[media])

    def _agency(self, request: Request) -> Response:
        fields = request.args.get("fields", "")
        if not fields.startswith("business_discovery.username("):
            return json_response({"id": self.AGENCY, "username": "agency"})
        username = fields[len("business_discovery.username(") : fields.index(")")]
        if username != "bluebottle":
            body = load("instagram", "error_user_not_found")
            body["error"]["error_user_msg"] = f"The user with username: {username} cannot be found."
            return json_response(body, 400)
        page = 1 if ".after(QVFIUkx1X1hWMXpHUmZA)" in fields else 0
        return json_response(self.discovery_pages[page])


class TikTokFake(Fake):
    prefix = "/tiktok/v2"
    platform = "tiktok"

    def install(self) -> None:
        self.user = load("tiktok", "user_info")
        self.pages = [load("tiktok", "video_list_page1"), load("tiktok", "video_list_page2")]
        self.route("/user/info/", self._user)
        self.route("/video/list/", self._videos, method="POST")

    def _user(self, request: Request) -> Response:
        assert request.headers.get("Authorization", "").startswith("Bearer ")
        return json_response(self.user)

    def _videos(self, request: Request) -> Response:
        body = request.get_json()
        assert body["max_count"] <= 20
        cursor = body.get("cursor")
        return json_response(self.pages[0] if cursor is None else self.pages[1])


class XFake(Fake):
    prefix = "/x/2"
    platform = "x"

    def install(self) -> None:
        self.user = load("x", "user")
        self.pages = [load("x", "tweets_page1"), load("x", "tweets_page2")]
        self.route("/users/by/username/XDevelopers", self._user)
        self.route("/users/2244994945", self._user)
        self.route("/users/by/username/nosuchuser1234", lambda r: json_response(load("x", "user_not_found")))
        self.route("/users/2244994945/tweets", self._tweets)

    def _user(self, request: Request) -> Response:
        return json_response(self.user)

    def _tweets(self, request: Request) -> Response:
        token = request.args.get("pagination_token")
        if token is None:
            return json_response(self.pages[0])
        assert token == self.pages[0]["meta"]["next_token"]
        return json_response(self.pages[1])


class TwitchFake(Fake):
    prefix = "/twitch/helix"
    platform = "twitch"

    def install(self) -> None:
        self.users = load("twitch", "users")
        self.followers = load("twitch", "followers")
        self.pages = [load("twitch", "videos_page1"), load("twitch", "videos_page2")]
        self.route("/users", self._users)
        self.route("/channels/followers", lambda r: json_response(self.followers))
        self.route("/videos", self._videos)

    def _users(self, request: Request) -> Response:
        assert request.headers.get("Client-Id") and request.headers.get("Authorization", "").startswith(
            "Bearer "
        )
        login, user_id = request.args.get("login"), request.args.get("id")
        user = self.users["data"][0]
        if login == user["login"] or user_id == user["id"]:
            return json_response(self.users)
        return json_response(load("twitch", "users_empty"))

    def _videos(self, request: Request) -> Response:
        after = request.args.get("after")
        if after is None:
            return json_response(self.pages[0])
        assert after == self.pages[0]["pagination"]["cursor"]
        return json_response(self.pages[1])


FAKES = {
    "youtube": YouTubeFake,
    "instagram": InstagramFake,
    "tiktok": TikTokFake,
    "x": XFake,
    "twitch": TwitchFake,
}
