"""IMS Reco Sync core: plain Python, no Streamlit."""
