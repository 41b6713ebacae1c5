"""The demo company the sandbox serves, and the sandbox's login."""
from __future__ import annotations

COMPANY_NAME = "Western Agro Industries Ltd"
COMPANY_PAN = "AAACW1234K"

DEMO_BUSINESSES = [
    {"gstin": "27AAACW1234K1ZD", "name": "Western Agro Industries Ltd (Maharashtra)",
     "state_code": "27"},
    {"gstin": "29AAACW1234K1Z9", "name": "Western Agro Industries Ltd (Karnataka)",
     "state_code": "29"},
    {"gstin": "33AAACW1234K1ZK", "name": "Western Agro Industries Ltd (Tamil Nadu)",
     "state_code": "33"},
]
DEMO_GSTINS = [b["gstin"] for b in DEMO_BUSINESSES]

DEMO_USERNAME = "demo"
DEMO_OTP = "575757"

# Each demo GSTIN's GST portal username: the per-GSTIN OTP flow (OTPREQUEST / AUTHTOKEN /
# REFRESHTOKEN) asks for it; the demo login above works for every GSTIN.
DEMO_PORTAL_USERS = {
    "27AAACW1234K1ZD": "westagro.mh",
    "29AAACW1234K1Z9": "westagro.ka",
    "33AAACW1234K1ZK": "westagro.tn",
}
