"""Businesses (GSTINs), their settings, and the names of their suppliers."""
from __future__ import annotations

from core.business.registry import (
    ADD_HINT,
    SYNC_SOURCES,
    URL_SETTING,
    SettingsError,
    business_exists,
    checked_gstin,
    choose_businesses,
    companies_by_batch,
    describe_gstin,
    list_businesses,
    load_businesses,
    read_reco_settings,
    save_business,
)
from core.business.supplier_names import NAMES_SQL, import_name_sql, supplier_labels, supplier_names

__all__ = ["ADD_HINT", "NAMES_SQL", "SYNC_SOURCES", "URL_SETTING", "SettingsError", "business_exists", "checked_gstin", "choose_businesses", "companies_by_batch", "describe_gstin", "import_name_sql", "list_businesses", "load_businesses", "read_reco_settings", "save_business", "supplier_labels", "supplier_names"]
