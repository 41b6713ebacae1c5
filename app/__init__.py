"""IMS Reco Sync: the Streamlit app (app/main.py is the frame, app/pages/ the pages)."""
