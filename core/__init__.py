"""IMS Reco Sync core: plain Python, no Streamlit.

Importing core first sets how Polars' memory allocator (jemalloc, `_RJEM_MALLOC_CONF`, read once
when Polars loads) gives freed memory back to the system: after 10 s unused, not at once. At
once, the engine faulted every page in again on each step: a third of its CPU time at
1,000,000 records (bench/reco.py: 2.3 s -> 1.75 s wall). An operator's own setting wins.
"""
import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")
