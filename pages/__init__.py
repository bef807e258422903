"""Triad's screens: one file per page, listed by st.navigation in app.py (helpers start with _)."""
