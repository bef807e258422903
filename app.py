"""Triad's dashboard entry point: page navigation, and the workspace and filters in the sidebar.

Run it with ``triad app`` (or ``streamlit run app.py``). Every screen is a file in pages/ listed below;
the sidebar's brand and date filters apply to all of them (see pages/_shared.py).

Streamlit, st.navigation and the pages/ folder (checked against Streamlit 1.67.0)
--------------------------------------------------------------------------------
* ``PagesManager.uses_pages_directory`` is a class-level flag, ``None`` at import. The first
  ``PagesManager`` built in the process (one per browser session; AppTest builds one per run) sets it to
  ``True`` if a ``pages/`` folder sits next to the main script (runtime/pages_manager.py).
* While it is True, ScriptRunner does not exec app.py: it calls ``_mpa_v1`` (runtime/scriptrunner/
  script_runner.py), which turns every ``pages/*.py`` (including helpers such as ``_shared.py`` and
  ``theme.py``, but not ``__init__.py``) into a page next to app.py, registers them with ``_navigation``
  and runs the one the URL asks for. So a request for ``/overview`` would run pages/overview.py alone,
  without this file's sidebar and filters, and an unknown path would flash "page not found".
* ``st.navigation`` sets the flag to False for the rest of the process (commands/navigation.py); no
  warning is printed at any point, the only symptom is the wrong page running on that first run.
  ``streamlit run`` therefore goes through ``_mpa_v1`` exactly once, on the first run of the first
  session; AppTest goes through it on every ``run()``, because it resets the flag to None each time
  (testing/v1/app_test.py).
* What Triad does: ``triad app`` sets the flag to False before starting the server, so ``_mpa_v1`` never
  runs there. This file sets it too (for ``streamlit run app.py``) and, if this run was started by
  ``_mpa_v1``, reruns at once so the normal st.navigation path draws the page. Each page calls
  ``_shared.leave_legacy_pages_mode()`` first, which does the same when ``_mpa_v1`` ran the page file by
  itself; the helper modules do it when run as ``__main__``. Net effect: no page ever renders outside
  app.py, and nothing is logged.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from pages import _auth
from pages import _shared as shared

LEGACY_RUN = PagesManager.uses_pages_directory is True  # this run was started by _mpa_v1 (see above)
PagesManager.uses_pages_directory = False

st.set_page_config(layout="wide", page_title="Triad", page_icon=":material/hub:")
if LEGACY_RUN:
    st.rerun()

# Sections of the navigation: (file, title, icon, roles). A screen is listed once its file exists (so one
# being built on a branch never shows as a broken entry) and only to the roles that may open it: st.navigation
# refuses any page it was not given, whatever the URL says.
EVERYONE = ("admin", "manager", "brand_viewer")
AGENCY = ("admin", "manager")
ADMIN = ("admin",)
SECTIONS: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {
    "Dashboard": [("pages/overview.py", "Overview", ":material/space_dashboard:", EVERYONE)],
    "Influencers": [
        ("pages/roster.py", "Roster", ":material/groups:", EVERYONE),
        ("pages/profiles.py", "Profiles", ":material/person_search:", EVERYONE),
    ],
    "Campaigns": [
        ("pages/campaigns.py", "Campaigns", ":material/campaign:", EVERYONE),
        ("pages/relationships.py", "Relationships", ":material/hub:", EVERYONE),
    ],
    "Data": [
        ("pages/data_sync.py", "Data & sync", ":material/sync:", AGENCY),
        ("pages/import_data.py", "Import & export", ":material/upload_file:", AGENCY),
        ("pages/settings.py", "Settings", ":material/settings:", ADMIN),
    ],
    "Admin": [
        ("pages/users.py", "Users & audit", ":material/admin_panel_settings:", ADMIN),
        ("pages/people.py", "People's data", ":material/shield_person:", ADMIN),
    ],
}
HERE = Path(__file__).resolve().parent


def pages_for(role: str | None) -> dict[str, list[st.Page]]:
    """The navigation of a role (None: every page, for the hidden navigation of the sign-in page)."""
    found: dict[str, list[st.Page]] = {}
    for section, entries in SECTIONS.items():
        pages = [
            st.Page(path, title=title, icon=icon, default=path == "pages/overview.py")
            for path, title, icon, roles in entries
            if (role is None or role in roles) and (HERE / path).exists()
        ]
        if pages:
            found[section] = pages
    return found


# Sign-in first: nothing below runs for someone who is not signed in (pages/_auth.py). While the sign-in form
# shows, a hidden navigation keeps the URL's page (opened after sign-in) and Streamlit lists no page files.
scope = _auth.require_sign_in(lambda: st.navigation(pages_for(None), position="hidden"))
PAGES = pages_for(scope.role)

page = st.navigation(PAGES, position="sidebar")
_auth.open_requested_page(
    [p for pages in PAGES.values() for p in pages], page
)  # the URL's page, after sign-in
_auth.sidebar_user(scope)

filters_ready = False
with shared.store_errors():
    shared.sidebar_filters()
    filters_ready = True

if filters_ready:
    with shared.store_errors():
        page.run()
