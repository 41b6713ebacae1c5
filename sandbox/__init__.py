"""GSTN-shaped local sandbox: HTTP server (server.py), synthetic data (synth.py, books.py),
portal state and rules (state.py), demo businesses (demo.py). See sandbox/README.md."""
