"""Import & export: upload a CSV, Excel or Parquet file, check the column mapping, dry-run, import; download
the rejected rows; export any table (or the whole workspace) as CSV or Parquet.

All the work is in connectors/files (the same engine as ``triad import`` and ``triad export``); this page
only draws widgets and the report. Writes name the signed-in user.
"""

from __future__ import annotations

import hashlib

import polars as pl
import streamlit as st

from connectors import files
from connectors.files.targets import TARGETS, suggest_mapping
from models.formatting import fmt_number
from models.privacy import WorkspaceSecretError
from models.schema import TABLES
from pages import _shared as shared

shared.leave_legacy_pages_mode()

RESULT_KEY = "import_result"
ACTION_KEY = "import_action"
IGNORE = "— not imported —"
CUSTOM = "custom field"
DATE_ORDERS = {"auto": "Work it out from the file", "dmy": "Day/month/year (01/02 = 1 Feb)",
               "mdy": "Month/day/year (01/02 = 2 Jan)"}  # fmt: skip
FROM_FILE = "From the file's brand column"


user = shared.user  # who the audit log names: the signed-in user


def request(action: str) -> None:
    """A button's callback: remember what was asked for (survives the legacy-mode rerun, see app.py)."""
    st.session_state[ACTION_KEY] = action


def requested() -> str | None:
    return st.session_state.pop(ACTION_KEY, None)


@st.cache_data(ttl=600, max_entries=4, show_spinner=False)
def read_upload(name: str, digest: str, _data: bytes) -> files.RawTable | str:
    """The uploaded file read once per content (or the sentence saying why it cannot be read)."""
    try:
        return files.read_file(_data, name)
    except files.UnreadableFileError as exc:
        return str(exc)


def mapping_form(raw: files.RawTable, target: str) -> tuple[dict[str, str | None], str, str | None]:
    """One choice per column of the file (suggested from its header); returns the field overrides."""
    spec = TARGETS[target]
    suggested = {header: name for name, header in suggest_mapping(spec, raw.headers).items()}
    fields = [f.name for f in spec.fields if f.kind != "ignored"]
    labels = {f.name: f"{f.label}{' *' if f.required else ''}" for f in spec.fields}
    extra = CUSTOM if spec.keeps_extra_columns else IGNORE
    options = [IGNORE, *fields] if not spec.keeps_extra_columns else [CUSTOM, IGNORE, *fields]
    st.markdown("**Columns** — what each column of the file holds (suggested from its name; * = required)")
    chosen: dict[str, str] = {}
    columns = st.columns(3)
    for index, header in enumerate(raw.headers):
        default = suggested.get(header, extra)
        with columns[index % 3]:
            choice = st.selectbox(
                header,
                options,
                index=options.index(default),
                format_func=lambda v: labels.get(v, v),
                key=f"map_{target}_{index}_{header}",
            )
        if choice not in (IGNORE, CUSTOM):
            chosen[choice] = header
    overrides: dict[str, str | None] = {name: None for name in fields}
    overrides.update(chosen)
    left, right = st.columns(2)
    with left:
        order = st.selectbox(
            "Dates like 01/02/2024", list(DATE_ORDERS), format_func=DATE_ORDERS.get, key="date_order"
        )
    brand = None
    if target == "orders":
        path, version = shared.cache_key()
        names = [b.name for b in shared.load_brands(path, version)]
        with right:
            picked = st.selectbox("Brand of these orders", [FROM_FILE, *names], key="import_brand",
                                  help="A brand column in the file can name a new brand; it is created.")  # fmt: skip
        brand = None if picked == FROM_FILE else picked
    return overrides, order, brand


def show_result(result: files.ImportResult) -> None:
    verb = "Dry run — nothing was written" if result.dry_run else "Imported"
    st.subheader(f"{verb}: {result.file_name}")
    cols = st.columns(3)
    cols[0].metric("Rows read", fmt_number(result.rows_read), border=True)
    cols[1].metric("Valid", fmt_number(result.rows_valid), border=True)
    cols[2].metric("Rejected", fmt_number(result.rows_rejected), border=True)
    if result.counts:
        st.dataframe(
            result.counts_frame().rename(
                {"table": "Table", "inserted": "New", "updated": "Updated", "unchanged": "Unchanged"}
            ),  # fmt: skip
            hide_index=True,
            key="import_counts",
        )
    for warning in result.warnings:
        st.warning(warning, icon=":material/info:")
    if not result.problems:
        st.success("Every row is valid.", icon=":material/check_circle:")
        return
    st.markdown("**Rejected rows** — line in the file, column, value and why")
    st.dataframe(
        result.problems_frame().rename(
            {"line": "Line", "column": "Column", "value": "Value", "reason": "Reason"}
        ),
        hide_index=True,
        width="stretch",
        key="import_problems",
    )
    stem = result.file_name.rsplit(".", 1)[0]
    st.download_button(
        "Download the rejected rows (CSV)",
        data=result.rejected_csv(),
        file_name=f"{stem}.rejected.csv",
        mime="text/csv",
        icon=":material/download:",
        key="download_rejected",
        help="The rejected rows with a triad_errors column: fix them in your spreadsheet and import that file.",
    )


def import_section() -> None:
    target = st.selectbox("What does the file hold?", list(TARGETS), key="import_target",
                          format_func=str.capitalize)  # fmt: skip
    st.caption(TARGETS[target].description)
    upload = st.file_uploader("File", type=["csv", "tsv", "txt", "xlsx", "parquet"], key="import_upload",
                              help="CSV (any common separator or encoding), Excel .xlsx (first sheet) or Parquet.")  # fmt: skip
    if upload is None:
        st.info("Choose a file to see a preview and the column mapping.", icon=":material/upload_file:")
        return
    data = upload.getvalue()
    raw = read_upload(upload.name, hashlib.sha256(data).hexdigest(), data)
    if isinstance(raw, str):
        st.error(raw, icon=":material/error:")
        return
    st.caption(f"{fmt_number(raw.height)} rows · {len(raw.headers)} columns · {raw.format.upper()}"
               + (f" · {raw.encoding}" if raw.encoding else ""))  # fmt: skip
    st.dataframe(pl.DataFrame(raw.preview(10), schema=list(raw.headers), orient="row"), hide_index=True,
                 key="import_preview")  # fmt: skip
    with st.form("mapping_form", border=False):
        overrides, order, brand = mapping_form(raw, target)
        left, right, _ = st.columns([1, 1, 4])
        left.form_submit_button(
            "Check (dry run)", on_click=request, args=("dry_run",), icon=":material/rule:"
        )
        right.form_submit_button("Import", type="primary", on_click=request, args=("import",),
                                 icon=":material/upload:")  # fmt: skip
    action = requested()
    if action:
        try:
            with st.spinner("Checking every row…" if action == "dry_run" else "Importing…"):
                st.session_state[RESULT_KEY] = files.import_file(
                    shared.store(), target, raw, overrides=overrides, options=files.ReadOptions(date_order=order),
                    dry_run=action == "dry_run", brand=brand, username=user(),
                )  # fmt: skip
        except (files.FileImportError, WorkspaceSecretError) as exc:
            st.session_state.pop(RESULT_KEY, None)
            st.error(f"Nothing was imported. {exc}", icon=":material/error:")
            return
    result = st.session_state.get(RESULT_KEY)
    if result is not None and result.file_name == raw.name and result.target == target:
        show_result(result)


def export_section() -> None:
    st.caption("Your data is yours: every table as a file you can open anywhere (Parquet keeps exact types).")
    left, right = st.columns([2, 1])
    table = left.selectbox("Table", list(TABLES), index=list(TABLES).index("orders"), key="export_table")
    fmt = right.radio("Format", ["csv", "parquet"], horizontal=True, key="export_format")
    store = shared.store()
    st.download_button(
        f"Download {table}.{fmt}",
        data=lambda: files.table_bytes(store, table, fmt),
        file_name=f"{table}.{fmt}",
        mime="text/csv" if fmt == "csv" else "application/octet-stream",
        icon=":material/download:",
        key="download_table",
    )
    st.markdown(
        "**The whole workspace**: `triad export --all DIR` writes every table as Parquet (with a manifest); "
        "`triad import --all DIR --db NEW_FILE` restores it into an empty store."
    )


def render() -> None:
    st.title("Import & export")
    importing, exporting = st.tabs(["Import a file", "Export"])
    with importing:
        import_section()
    with exporting:
        export_section()


with shared.store_errors():
    render()
