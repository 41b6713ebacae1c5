"""Over real HTTP: the sandbox serves originals beside their amendments; a fetch and a sync put
each chain's statuses right (docs/reconciliation.md, "Amendments"), and the record view shows
the chain in words."""
from __future__ import annotations

from core.ims import view
from core.ims.fetch import fetch_business
from core.ims.sync import apply_sync
from core.purchase import import_purchase_file
from core.store.database import connect
from sandbox.generate import generate_files

G = "27AAACW1234K1ZD"
CHAINS_SQL = """
SELECT o.record_id, o.section, o.doc_type, o.match_status, o.recommended_action,
       o.counterpart_doc_id, o.reasons,
       a.record_id, a.section, a.doc_no, a.match_status, a.recommended_action,
       a.counterpart_doc_id
FROM ims_records a JOIN ims_records o
  ON o.rtin = a.rtin AND o.stin = a.stin AND o.doc_type = a.doc_type
 AND o.doc_no_key = upper(trim(a.orig_doc_no)) AND o.orig_doc_no IS NULL
 AND o.section = CASE a.section WHEN 'b2ba' THEN 'b2b' WHEN 'b2bcna' THEN 'b2bcn'
                 WHEN 'b2bdna' THEN 'b2bdn' WHEN 'ecoma' THEN 'ecom' WHEN 'impga' THEN 'impg'
                 WHEN 'impgseza' THEN 'impgsez' END
WHERE a.rtin = ? AND a.removed_at IS NULL AND o.removed_at IS NULL
ORDER BY a.record_id"""


def test_fetch_and_sync_put_amended_on_originals_and_match_the_amendment(db_file, sandbox,
                                                                           tmp_path):
    with connect() as con:
        con.execute("INSERT INTO businesses (gstin, name, state_code) "
                    "VALUES (?, 'Western Agro', '27')", [G])
    fetch_business(G)
    files = generate_files(tmp_path / "books", records=300, seed=7, gstin=G)
    assert import_purchase_file(files["purchase_register"], actor="test", company_gstin=G).ok
    apply_sync(G)
    with connect() as con:
        chains = con.execute(CHAINS_SQL, [G]).fetchall()
        duplicates = con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? AND "
                                 "match_status = 'duplicate' AND (orig_doc_no IS NOT NULL OR "
                                 "section IN ('b2bcn', 'b2bcna'))", [G]).fetchone()[0]
        rejected_notes = con.execute("SELECT count(*) FROM ims_records WHERE rtin = ? AND "
                                     "doc_type = 'CRN' AND recommended_action = 'R'",
                                     [G]).fetchone()[0]
    assert len(chains) >= 5, "the sandbox serves originals beside their amendments"
    same_number = 0
    for (oid, osec, dtype, ostatus, oaction, obooks, oreasons,
         aid, asec, ano, astatus, aaction, abooks) in chains:
        assert ostatus == "amended" and oreasons == "SUPERSEDED", (osec, ostatus)
        assert astatus not in ("amended", "duplicate"), (asec, ano, astatus)
        assert obooks == abooks   # the books document of the amendment, for reference
        assert oaction in ("A", "P")   # an original is never rejected because it was amended
        same_number += view.record_with_counterpart([G], aid)["portal"]["doc_no"].upper() == \
            view.record_with_counterpart([G], oid)["portal"]["doc_no"].upper()
    assert same_number >= 1
    assert duplicates == 0 and rejected_notes == 0
    # the record view tells the chain in words
    detail = view.record_with_counterpart([G], chains[0][0])
    chain = detail["chain"]
    assert [r["version"].split(" (")[0].split(" ·")[0] for r in chain["rows"]][:2] == \
        ["Original", "Amendment"]
    assert chain["rows"][0]["status"] == "Amended (older version)"
    assert chain["summary"].startswith("Original ") and "amended 1 time" in chain["summary"]
