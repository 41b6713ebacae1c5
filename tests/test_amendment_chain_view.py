"""IMS Invoices' record view (AppTest, real DuckDB file): an original served beside its
amendment shows its status in words and the chain, original first, in words."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.fixtures import BUSINESSES, ROOT, rows, seed_demo

G = BUSINESSES[0][0]


def test_the_record_view_shows_the_amendment_chain_in_words(db_file):
    seed_demo()
    (oid, doc_no), = rows(f"SELECT record_id, doc_no FROM ims_records WHERE rtin = '{G}' "
                                "AND section = 'b2bcn' ORDER BY record_id LIMIT 1")
    rows("UPDATE ims_records SET match_status = 'amended', reasons = 'SUPERSEDED', rtnprd = '092025', "
         "portal_action = 'N', upload_state = NULL "
         "WHERE record_id = ?", [oid])
    rows("""INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key, doc_date, fy,
                orig_doc_no, orig_doc_date, rtnprd, val, txval, igst, cgst, sgst, cess, srcform,
                srcfilstatus, portal_action, ispendactblocked, match_status, reasons,
                recommended_action, first_seen, last_seen)
            SELECT rtin, 'b2bcna', stin, doc_type, doc_no, doc_no_key, doc_date, fy, doc_no,
                doc_date, '102025', val, txval * 0.8, igst * 0.8, cgst * 0.8, sgst * 0.8, cess,
                srcform, srcfilstatus, 'N', ispendactblocked, 'missing_in_pr', '', 'P',
                current_timestamp, current_timestamp
            FROM ims_records WHERE record_id = ?""", [oid])
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/ims_invoices.py")
    at.session_state["f_doc"] = doc_no
    at.query_params["record"] = str(oid)   # the record opened, as the address keeps it
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(m.value for m in at.markdown)
    assert "Amended (older version)" in shown
    assert f"**Amendments of this document** · Original {doc_no}, amended 1 time" in shown
    chain = next(d.value for d in at.dataframe if "version" in d.value.columns)
    assert list(chain["version"]) == ["Original · this record", "Amendment (same number)"]
    assert list(chain["status"]) == ["Amended (older version)", "Missing in books"]
    assert list(chain["return period"]) == ["Sep 2025", "Oct 2025"]
