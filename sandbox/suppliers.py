"""Synthetic suppliers: realistic names, valid GSTINs, each with its own numbering style."""
from __future__ import annotations

import random
from dataclasses import dataclass

from core.gstin import make_gstin

FIRST = ("Sahyadri", "Kaveri", "Ganga", "Shree Balaji", "Apex", "Deccan", "Narmada", "Vindhya",
         "Konkan", "Malabar", "Coromandel", "Godavari", "Krishna", "Tapi", "Nilgiri", "Aravali",
         "Sai Krupa", "Lakshmi", "Annapurna", "Bharat", "Hindustan", "Jai Hind", "Om Sai", "Surya",
         "Chola", "Pallava", "Maratha", "Vijaya", "Mysore", "Poona", "Rann", "Kutch", "Satpura",
         "Omkar", "Siddhi", "Mahalaxmi", "Trimurti", "Navbharat", "Prakash", "Sunrise",
         "Greenfield",
         "Harvest", "Kisan", "Agrotech", "Sharda", "Venkatesh", "Murugan", "Tirupati", "Ambika")
TRADE = ("Steel", "Polymers", "Chemicals", "Packaging", "Agro Inputs", "Fertilisers", "Seeds",
         "Irrigation Systems", "Pumps", "Logistics", "Transport", "Engineering Works", "Plastics",
         "Bearings", "Electricals", "Tractor Parts", "Agri Equipments", "Pesticides", "Gunny Bags",
         "Cartons", "Warehousing", "Castings", "Tools", "Fabricators", "Lubricants", "Cables",
         "Motors", "Drip Systems", "Bio Products", "Feeds")
SUFFIX = ("Pvt Ltd", "Private Limited", "Ltd", "Traders", "Industries", "& Co", "LLP",
          "Enterprises", "Corporation", "Agencies")
# Holder type (PAN 4th letter) by suffix: companies C, firms F, proprietors P.
HOLDER = {"Pvt Ltd": "C", "Private Limited": "C", "Ltd": "C", "Corporation": "C", "LLP": "F",
          "& Co": "F", "Traders": "P", "Enterprises": "P", "Agencies": "F", "Industries": "C"}
OTHER_STATES = ("24", "27", "29", "33", "07", "09", "06", "36", "37", "32", "19", "08", "23", "03")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STYLES = ("INV/{fy}/{n:04d}", "{p}-{n}", "{p}/{n:05d}/{fy2}", "{n:06d}", "SI/{fy}/{n:04d}",
          "{p}{n:05d}", "TI-{fy2}-{n:04d}")
NOTE_STYLES = {"CRN": ("CN/{fy2}/{n:03d}", "CRN-{n}", "CN{n:05d}"),
               "DBN": ("DN/{fy2}/{n:03d}", "DBN-{n}", "DN{n:05d}")}


@dataclass
class Supplier:
    gstin: str
    name: str
    state: str
    style: str
    note_style: int
    prefix: str
    branch_gstin: str  # same PAN, another state (books noise, or a second registration)
    not_filed_rate: float
    counters: dict


def _pan(rng: random.Random, name: str, suffix: str) -> str:
    holder = HOLDER.get(suffix, "C")
    first = name[0].upper() if name[0].isalpha() else "X"
    return ("".join(rng.choice(LETTERS) for _ in range(3)) + holder + first
            + f"{rng.randrange(1000, 10000)}" + rng.choice(LETTERS))


def _state(rng: random.Random, home: str) -> str:
    return home if rng.random() < 0.45 else rng.choice(OTHER_STATES)


def make_suppliers(rng: random.Random, home_state: str, count: int) -> list[Supplier]:
    """`count` suppliers of a business in `home_state`; about 45 % in the same state, and a
    few share a PAN with another supplier (two registrations of one company)."""
    out, seen = [], set()
    while len(out) < count:
        base, trade, suffix = rng.choice(FIRST), rng.choice(TRADE), rng.choice(SUFFIX)
        name = f"{base} {trade} {suffix}"
        if name in seen:
            name = f"{base} {trade} {rng.choice(('India', 'Global', 'Agro', 'Udyog'))} {suffix}"
        seen.add(name)
        state = _state(rng, home_state)
        pan = _pan(rng, base, suffix)
        if out and rng.random() < 0.04:  # a second registration of an existing supplier
            twin = rng.choice(out)
            pan, name = twin.gstin[2:12], twin.name
            state = next(s for s in OTHER_STATES if s != twin.state and s != state)
        branch_state = next(s for s in rng.sample(OTHER_STATES, 4) if s != state)
        prefix = "".join(w[0] for w in base.split())[:2].upper() + rng.choice(LETTERS)
        out.append(Supplier(
            gstin=make_gstin(state, pan), name=name, state=state, style=rng.choice(STYLES),
            note_style=rng.randrange(3), prefix=prefix, branch_gstin=make_gstin(branch_state, pan),
            not_filed_rate=0.02 if rng.random() < 0.85 else 0.35,
            counters={"INV": rng.randrange(1, 3000), "CRN": rng.randrange(1, 200),
                      "DBN": rng.randrange(1, 100)}))
    return out


def next_number(sup: Supplier, doc_type: str) -> str:
    """The supplier's next document number of that type in FY 2025-26 (<= 16 characters)."""
    sup.counters[doc_type] += 1
    n = sup.counters[doc_type]
    style = sup.style if doc_type == "INV" else NOTE_STYLES[doc_type][sup.note_style]
    return style.format(n=n, p=sup.prefix, fy="2025-26", fy2="25-26")[:16]
