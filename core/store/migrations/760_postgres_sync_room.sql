-- postgres only
-- Room in each page of ims_records for a new version of every row on it (docs/store.md, "The
-- sync's write on PostgreSQL"). A first sync writes every record once (its status, reasons
-- and recommendation: each row grows); with fillfactor 80 the new versions of four rows in
-- five found no room on their page, so each went to another page with a new entry in every
-- index of the table (not a HOT update). With 60 % of each page free every one of them is
-- HOT (at 200,000 records; 82 % with half free), and the table ends no larger than with 80:
-- the rows moved off their pages needed as many new pages. Pages written from now on (a
-- store's existing pages keep theirs).
ALTER TABLE ims_records SET (fillfactor = 40);
