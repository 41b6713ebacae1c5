-- duckdb only
-- The (gstin, rtnprd) index of gstr2b_documents is dropped on the DuckDB file (docs/month-close.md,
-- "Fifth pass"). DuckDB finds a period's documents by each row group's min/max (a 2B is
-- written whole, so its rows share row groups) and reads an index only for a few thousand rows
-- at most; the index cost every replacement of a 2B of 1,000,000 documents 0.6-0.7 s at its
-- commit (every row's entry merged into one key). PostgreSQL keeps it.
DROP INDEX IF EXISTS gstr2b_documents_period;
