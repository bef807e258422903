"""Comments for the demo workspace, and a few organic brand mentions in its captions (issue 10).

Realistic enough to exercise every part of the Voice tab and the brand-affinity view: mostly warm comments,
some negative ones (more under sponsored posts: ad fatigue), questions, emoji-only reactions, spam, comments
in the influencers' local languages (Spanish, Portuguese, French, German, Italian, Dutch, Japanese), a few
creators in an *engagement pod* (the same handful of accounts leaving the same "Great post!! 🔥" on every
post), and organic mentions of the brands. Only posts of the last :data:`DAYS_BACK` days get comments, as
a sync reads comments of recent posts only.

Vectorised over numpy arrays; each distinct text is scored once (there are a few hundred), so scale 1 adds a
fraction of a second to ``triad demo``. Author keys are random-looking hex strings, as a real sync's keyed
hashes would be. Its own random stream (seeded from the demo's seed) leaves the rest of the demo unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import polars as pl

from models.sentiment import METHOD, score_texts

DAYS_BACK = 100
POD_SHARE = 0.08  # of influencers, at least one
SPAMMY_SHARE = 0.06

CATEGORIES = ("positive", "neutral", "negative", "emoji", "spam", "ad_fatigue", "pod")
_BANK: dict[str, dict[str, list[str]]] = {
    "en": {
        "positive": [
            "I love this so much!",
            "This is amazing, thank you for sharing",
            "Best video you've made this year",
            "You always make my day 😊",
            "So helpful, saved it for later!",
            "Wow, the colors are gorgeous",
            "Honestly the most useful tutorial on here",
            "Great tips, tried it and it works!",
            "Love your honesty in these reviews",
            "This made me smile, thank you ❤️",
            "Absolutely stunning 😍",
            "Super clear explanation, thanks!",
            "You deserve way more followers, love it",
            "Such a good vibe in this one 🔥",
            "Perfect timing, I needed this today",
            "Not bad at all, really enjoyed it",
            "Brilliant as always 👏",
            "The editing is so good",
        ],
        "neutral": [
            "Where did you get that jacket?",
            "What camera do you use?",
            "Is there a part two?",
            "Which song is this?",
            "How long did this take?",
            "First!",
            "Watching from London",
            "What time zone are you in?",
            "Can you do one on budget options?",
            "Posted 2 hours ago",
        ],
        "negative": [
            "This is not good, sorry",
            "So boring, skipped half of it",
            "The audio is terrible in this one",
            "I don't trust these reviews anymore",
            "Worst advice I've seen, please don't do this",
            "Clickbait title, disappointed",
            "This didn't work for me at all 👎",
            "Way too long and boring, get to the point",
            "Unfollowing, this content got so bad",
        ],
        "emoji": ["😍😍😍", "🔥🔥", "❤️", "👏👏👏", "😂😂", "🙌", "💯", "😍🔥", "👎", "🤮", "😡"],
        "spam": [
            "Check my profile for free followers 💰💰",
            "DM us for a collab!! 📩 link in bio",
            "Earn $500 a day from home, link in my bio",
            "Promote it on @growfast_official 🚀",
            "Want 10k followers? Visit my page!!",
        ],
        "ad_fatigue": [
            "Another ad... miss the old content",
            "#ad again? Not interested",
            "Everything is sponsored now, hard to trust this",
            "Sellout 🙄",
            "Skipped the ad part, sorry",
        ],
        "pod": [
            "Great post, love it!! 🔥🔥",
            "great post love it 🔥",
            "Great post!!! Love it 🔥🔥🔥",
            "Amazing content as always 👏",
            "amazing content as always!! 👏👏",
            "Love this so much!! ❤️",
            "love this so much ❤️❤️",
        ],
    },
    "es": {
        "positive": ["Me encanta, gracias por compartir", "Qué bonito 😍", "Increíble como siempre"],
        "neutral": ["¿Dónde compraste la chaqueta?", "¿Qué cámara usas?"],
        "negative": ["Esto es horrible, no me gusta", "Muy aburrido este video"],
    },
    "pt": {
        "positive": ["Amei demais, obrigado!", "Que lindo, amei 😍", "Você é incrível"],
        "neutral": ["Qual câmera você usa?", "Onde comprou essa jaqueta?"],
        "negative": ["Não gostei, muito chato", "Isso é horrível"],
    },
    "fr": {
        "positive": ["J'adore, merci pour la vidéo", "Trop belle cette photo 😍", "C'est vraiment génial"],
        "neutral": ["C'est quelle caméra ?", "Tu as acheté ça où ?"],
        "negative": ["C'est nul, je suis déçu", "Pas terrible cette fois"],
    },
    "de": {
        "positive": ["Mega schön, danke!", "Echt toll gemacht 😍", "Super Video wie immer"],
        "neutral": ["Welche Kamera ist das?", "Wo hast du die Jacke her?"],
        "negative": ["Echt schlecht, sorry", "Das ist nicht gut gemacht"],
    },
    "it": {
        "positive": ["Bellissimo, grazie!", "Troppo bella questa foto 😍", "Sei davvero brava"],
        "neutral": ["Che fotocamera usi?", "Dove hai preso la giacca?"],
        "negative": ["Non mi piace per niente", "Davvero noioso questo video"],
    },
    "nl": {
        "positive": ["Heel mooi, bedankt!", "Echt leuk gemaakt 😍", "Prachtig weer"],
        "neutral": ["Welke camera is dit?", "Waar heb je die jas gekocht?"],
        "negative": ["Niet leuk, echt saai", "Dit is niet mooi"],
    },
    "ja": {
        "positive": ["すごく可愛い！😍", "ありがとうございます、参考になりました"],
        "neutral": ["どこで買いましたか？", "カメラは何ですか？"],
        "negative": ["ちょっと残念です", "つまらない"],
    },
}
# Real audiences word the same thought in many ways: comments of these categories get an opener (English only)
# and an ending drawn independently, so repeats are as rare as they are in life (bots and pods still repeat).
_OPENERS = ("", "", "Honestly, ", "Wow ", "Omg ", "Haha ", "Ngl ")
_ENDINGS = ("", "", "!", " 😊", " lol", " ✨", " 🙏")
_LOCAL_ENDINGS = ("", "", "!", " 😍", " ❤️", " 🙏", " ✨", " 👏")
_LOCAL_OPENERS = {
    "es": ("", "", "Wow ", "Jajaja ", "Oye ", "Ay "),
    "pt": ("", "", "Nossa ", "Gente ", "Uau ", "Kkkk "),
    "fr": ("", "", "Ohh ", "Franchement ", "Wow ", "Haha "),
    "de": ("", "", "Boah ", "Wow ", "Ehrlich ", "Haha "),
    "it": ("", "", "Wow ", "Dai ", "Mamma mia ", "Ahah "),
    "nl": ("", "", "Wow ", "Oh ", "Haha ", "Zeg "),
    "ja": ("", "", "わあ ", "本当に ", "えー "),
}
_VARIED = frozenset({"positive", "neutral", "negative", "ad_fatigue"})
# Organic mentions of a brand in comments: (template, sentiment intended) — the scorer decides the label.
_BRAND_COMMENTS = [
    "Is that the {brand} one? I love it!",
    "{brand} is the best, been using it for a year",
    "Been wanting to try {brand}, looks great",
    "Where do you buy {brand}? Can't find it",
    "{brand} broke after a week, would not recommend",
    "Not a fan of {brand} tbh, overpriced",
    "{brand} again 😍",
]
_CAPTION_MENTIONS = [
    "Just love my {brand} lately (not sponsored)",
    "Back to my {brand} favourites this week",
    "Everyone keeps asking: yes, it's {brand}",
    "{brand} customer service was a letdown tbh",
]
_LOCAL_LANGUAGE = {
    "ES": "es",
    "MX": "es",
    "BR": "pt",
    "FR": "fr",
    "DE": "de",
    "IT": "it",
    "NL": "nl",
    "JP": "ja",
}


def _keys(labels: list[str], seed: int) -> list[str]:
    """Random-looking author keys (32 hex digits), one per distinct label."""
    return [hashlib.blake2b(f"{seed}:{x}".encode(), digest_size=16).hexdigest() for x in labels]


def _mention_brand_names(frames: dict[str, pl.DataFrame]) -> dict[int, str]:
    return dict(zip(frames["brands"]["brand_id"].to_list(), frames["brands"]["name"].to_list(), strict=True))


def _influencer_brands(frames: dict[str, pl.DataFrame]) -> dict[int, list[int]]:
    """The brands each influencer has deals with (the likeliest to be mentioned organically)."""
    pairs = (
        frames["deals"]
        .select("influencer_id", "campaign_id")
        .join(frames["campaigns"].select("campaign_id", "brand_id"), on="campaign_id")
        .select("influencer_id", "brand_id")
        .unique()
        .sort("influencer_id", "brand_id")
    )
    out: dict[int, list[int]] = {}
    for inf, brand in pairs.iter_rows():
        out.setdefault(inf, []).append(brand)
    return out


def add_demo_comments(frames: dict[str, pl.DataFrame], *, seed: int, end: dt.date) -> None:
    """Add ``frames["comments"]`` and a few organic brand mentions to the posts' captions, in place."""
    rng = np.random.default_rng([seed, 1010])
    brands = _mention_brand_names(frames)
    brand_ids = np.array(sorted(brands))
    by_influencer = _influencer_brands(frames)
    inf_of_account = dict(
        zip(
            frames["accounts"]["account_id"].to_list(),
            frames["accounts"]["influencer_id"].to_list(),
            strict=True,
        )
    )
    posts = frames["posts"]
    n_posts = posts.height
    if n_posts == 0 or brand_ids.size == 0:
        frames["comments"] = _empty()
        return
    account = posts["account_id"].to_numpy()
    influencer = np.array([inf_of_account[a] for a in account.tolist()])
    organic = ~posts["is_sponsored"].to_numpy() & posts["campaign_id"].is_null().to_numpy()

    def pick_brand(inf: int) -> int:
        own = by_influencer.get(inf)
        if own and rng.random() < 0.7:
            return int(own[int(rng.integers(len(own)))])
        return int(brand_ids[int(rng.integers(brand_ids.size))])

    # -- organic mentions in captions: ~3 % of organic posts ------------------------------------------------
    captions = posts["caption"].to_list()
    for i in np.flatnonzero(organic & (rng.random(n_posts) < 0.03)).tolist():
        phrase = _CAPTION_MENTIONS[int(rng.integers(len(_CAPTION_MENTIONS)))]
        captions[i] = f"{captions[i]} · {phrase.format(brand=brands[pick_brand(int(influencer[i]))])}"
    frames["posts"] = posts.with_columns(pl.Series("caption", captions, dtype=pl.String))

    # -- which posts get comments, and how many -------------------------------------------------------------
    end_ts = np.datetime64(end, "s") + np.timedelta64(86399, "s")
    posted = posts["posted_at"].cast(pl.Datetime("us")).to_numpy().astype("datetime64[s]")
    recent = posted >= end_ts - np.timedelta64(DAYS_BACK, "D")
    shown = posts["comments"].fill_null(6).to_numpy()
    sponsored = ~organic
    n_c = np.where(recent, np.minimum(shown, rng.poisson(np.where(sponsored, 6, 3))), 0)
    post_idx = np.repeat(np.arange(n_posts), n_c)
    n = post_idx.size

    infl_frame = frames["influencers"].select("influencer_id", "country")
    countries = dict(zip(infl_frame["influencer_id"].to_list(), infl_frame["country"].to_list(), strict=True))
    inf_ids = np.array(sorted(countries))
    k_pod = max(1, round(POD_SHARE * inf_ids.size))
    pod_members = set(rng.choice(inf_ids, k_pod, replace=False).tolist())
    spammy = set(rng.choice(inf_ids, max(1, round(SPAMMY_SHARE * inf_ids.size)), replace=False).tolist())
    grumpy = rng.lognormal(0, 0.5, int(inf_ids.max()) + 1)  # how critical each audience is

    c_inf = influencer[post_idx]
    c_sponsored = sponsored[post_idx]
    # language: the influencer's local one for about half of the comments, else English
    local = np.array([_LOCAL_LANGUAGE.get(countries[i], "en") for i in c_inf.tolist()], dtype=object)
    language = np.where((local != "en") & (rng.random(n) < 0.5), local, "en")
    # category
    neg = 0.09 * grumpy[c_inf]
    spam = np.where(np.isin(c_inf, list(spammy)), 0.22, 0.03)
    probs = np.stack(
        [
            np.full(n, 0.52),  # positive
            np.full(n, 0.17),  # neutral / questions
            neg,  # negative
            np.full(n, 0.12),  # emoji-only
            spam,
            np.where(c_sponsored, 0.10, 0.0),  # ad fatigue
        ],
        axis=1,
    )
    probs /= probs.sum(axis=1, keepdims=True)
    category = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    cat_names = np.array(CATEGORIES[:6], dtype=object)[np.minimum(category, 5)]
    # only some categories exist in each language: the others are written in English
    has = {(lang, cat) for lang, bank in _BANK.items() for cat in bank}
    language = np.array(
        [lang if (lang, cat) in has else "en" for lang, cat in zip(language, cat_names, strict=True)],
        dtype=object,
    )
    texts = np.empty(n, dtype=object)
    draw = rng.random(n)
    for lang, cat in has:
        m = (language == lang) & (cat_names == cat)
        if m.any():
            bank = _BANK[lang][cat]
            texts[m] = np.array(bank, dtype=object)[(draw[m] * len(bank)).astype(int)]
    # organic brand mentions in comments: 15 % of English comments under sponsored posts, 2 % elsewhere
    mention = (language == "en") & (cat_names != "spam") & (rng.random(n) < np.where(c_sponsored, 0.15, 0.02))
    camp_brand = dict(
        zip(
            frames["campaigns"]["campaign_id"].to_list(),
            frames["campaigns"]["brand_id"].to_list(),
            strict=True,
        )
    )
    post_campaign = posts["campaign_id"].to_list()
    for j in np.flatnonzero(mention).tolist():
        campaign = post_campaign[post_idx[j]]
        brand = camp_brand.get(campaign) if campaign is not None else None
        brand = brand if brand is not None else pick_brand(int(c_inf[j]))
        template = _BRAND_COMMENTS[int(rng.integers(len(_BRAND_COMMENTS)))]
        texts[j] = template.format(brand=brands[brand])
    # vary the wording (not of spam, pods or emoji: those repeat in life too)
    varied = np.flatnonzero(np.isin(cat_names, list(_VARIED)) | mention)
    openers = rng.integers(len(_OPENERS), size=varied.size)
    endings = rng.integers(len(_ENDINGS), size=varied.size)
    for j, o, e in zip(varied.tolist(), openers.tolist(), endings.tolist(), strict=True):
        core = texts[j]
        if language[j] != "en":
            local_openers = _LOCAL_OPENERS[language[j]]
            texts[j] = local_openers[o % len(local_openers)] + core + _LOCAL_ENDINGS[e % len(_LOCAL_ENDINGS)]
        elif _OPENERS[o]:
            first = core[0].lower() if core[1:2].islower() else core[0]  # "Where…" → "where…", "I love" stays
            texts[j] = _OPENERS[o] + first + core[1:] + _ENDINGS[e]
        else:
            texts[j] = core + _ENDINGS[e]

    # authors: each audience has a few regulars (a skewed draw from the influencer's pool)
    pool = 40 + 3 * np.bincount(c_inf, minlength=int(inf_ids.max()) + 1)
    author_idx = np.floor(pool[c_inf] * rng.random(n) ** 2).astype(int)
    author_label = [f"a{i}-{k}" for i, k in zip(c_inf.tolist(), author_idx.tolist(), strict=True)]

    # -- engagement pods: the same six accounts comment on most posts of every pod member ------------------
    pod_posts = np.flatnonzero(recent & np.isin(influencer, list(pod_members)))
    pod_rows = [(p, m) for p in pod_posts.tolist() for m in range(6) if rng.random() < 0.8]
    pod_bank = _BANK["en"]["pod"]
    pod_post_idx = np.array([p for p, _ in pod_rows], dtype=int)
    pod_texts = [pod_bank[int(rng.integers(len(pod_bank)))] for _ in pod_rows]
    pod_label = [f"pod-{m}" for _, m in pod_rows]

    all_post_idx = np.concatenate([post_idx, pod_post_idx]).astype(int)
    all_texts = list(texts) + pod_texts
    labels = author_label + pod_label
    total = all_post_idx.size
    if total == 0:
        frames["comments"] = _empty()
        return
    distinct = sorted(set(labels))
    key_of = dict(zip(distinct, _keys(distinct, seed), strict=True))
    delay = rng.exponential(14 * 3600, total).astype("timedelta64[s]")
    published = np.minimum(posted[all_post_idx] + np.timedelta64(60, "s") + delay, end_ts)
    scored = score_texts(all_texts)
    post_ids = posts["post_id"].to_numpy()[all_post_idx]
    comments = pl.DataFrame(
        {
            "post_id": post_ids.astype(np.int64),
            "parent_id": pl.Series([None] * total, dtype=pl.Int64),
            "author_key": [key_of[x] for x in labels],
            "text": all_texts,
            "like_count": (rng.geometric(0.35, total) - 1).astype(np.int64),
            "reply_count": np.where(rng.random(total) < 0.08, rng.integers(1, 6, total), 0).astype(np.int64),
            "published_at": published.astype("datetime64[us]"),
            "updated_at": published.astype("datetime64[us]"),
            "language": scored["language"],
            "sentiment": scored["sentiment"],
            "sentiment_method": METHOD,
            "fetched_at": np.full(total, np.datetime64(end, "us") + np.timedelta64(6, "h")),
        }
    )
    frames["comments"] = (
        comments.sort("published_at", "post_id", maintain_order=True)
        .with_columns(comment_id=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        .with_columns(platform_comment_id=pl.format("demo-c{}", "comment_id"))
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "comment_id": pl.Int64,
            "post_id": pl.Int64,
            "platform_comment_id": pl.String,
            "author_key": pl.String,
            "text": pl.String,
            "published_at": pl.Datetime("us"),
        }
    )
