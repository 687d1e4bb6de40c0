"""ED attendance rows in the input contract's shape, vectorised so a million rows take seconds.

Shapes that downstream products must be able to find: assaults peak on Friday and Saturday
nights (22:00-03:00), other attendances follow a daytime ED curve; assault victims are mostly
young men; the weapon mix follows ICD-10 X85-Y09 proportions typical of UK EDs. Identifiers are
synthetic only: NHS numbers from the 999 test range, invented names, NB postcodes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from istv.synth import names
from istv.synth.nhs import test_range_numbers
from schemas import codes, load_contract

ASSAULT = "52684005"
ACCIDENT = "418019003"
SELF_HARM = "276853009"
NO_FIXED_ABODE = "ZZ99 3VZ"
SITES = np.array(["RNB01", "RNB02"])
SITE_P = np.array([0.85, 0.15])

# Relative arrivals per hour of the day.
ED_HOURS = np.array([0.9, 0.7, 0.55, 0.45, 0.4, 0.4, 0.55, 0.9, 1.5, 2.1, 2.4, 2.45, 2.35, 2.25,
                     2.2, 2.15, 2.1, 2.05, 2.0, 1.9, 1.75, 1.55, 1.3, 1.1])
ASSAULT_HOURS = np.array([3.0, 3.2, 2.6, 1.7, 0.9, 0.5, 0.3, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                          0.55, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 1.9, 2.4, 2.8])
# How busy the night starting on each weekday is (Monday = 0): Friday and Saturday nights peak.
NIGHT_INTENSITY = np.array([0.8, 0.8, 0.9, 1.1, 2.6, 3.0, 1.2])
DAY_VOLUME = np.array([1.06, 1.0, 0.99, 0.98, 1.0, 0.98, 1.0])

NON_ASSAULT_KINDS = np.array(["illness", "accident", "self_harm", "legal"])
NON_ASSAULT_P = np.array([0.62, 0.354, 0.02, 0.006])

# method -> (share, ICD-10 cause codes); the injury codes that may precede them.
WEAPONS: dict[str, tuple[float, tuple[str, ...]]] = {
    "bodily_force": (0.55, ("Y04",)),
    "sharp": (0.15, ("X99",)),
    "blunt": (0.15, ("Y00",)),
    "sexual": (0.03, ("Y05",)),
    "firearm": (0.007, ("X93", "X94", "X95")),
    "unknown": (0.08, ("Y09",)),
    "other": (0.033, ("X85", "X91", "Y08", "Y07.0", "X97", "Y01")),
}
INJURY_CODES = {
    "bodily_force": ("S00.3", "S01.8", "S02.2", "S02.6", "S06.0", "S60.2", "S09.9", "S20.2",
                     "T14.0"),
    "sharp": ("S21.1", "S31.1", "S41.1", "S51.9", "S61.9", "S71.1", "T14.1"),
    "blunt": ("S01.0", "S06.0", "S02.0", "S52.5", "S09.9"),
    "sexual": ("T74.2",),
    "firearm": ("T14.1", "S31.8"),
    "unknown": ("T14.0", "S09.9"),
    "other": ("T14.9", "T65.9", "T71"),
}
ACCIDENT_DIAGNOSES = np.array(["S52.5;W19", "S06.0;W01", "S93.4;W10", "S61.0;W25", "S01.8;W22",
                               "T14.0;W19", "S42.0;W18", "S82.6;W02", "S61.9;W26", "W19",
                               "S13.4;V43", "T20.2;X19"])
SELF_HARM_DIAGNOSES = np.array(["S51.8;X78", "S61.9;X78", "X78", "T39.1;X60"])
LEGAL_DIAGNOSES = np.array(["S00.8;Y35.3", "S60.2;Y35.6", "Y35.7"])
ILLNESS_DIAGNOSES = np.array(["R07.4", "R10.4", "J18.9", "N39.0", "R55", "I48", "J45.9", "R51"])
SEX_CODES = np.array(["1", "2", "9", "X"])


def assault_hour_weights(weekday: int) -> np.ndarray:
    """Assault arrivals per hour on a calendar date: early hours belong to the previous night."""
    w = ASSAULT_HOURS.copy()
    w[:6] *= NIGHT_INTENSITY[(weekday - 1) % 7]
    w[18:] *= NIGHT_INTENSITY[weekday]
    return w / w.sum()


def assault_share(weekday: int) -> float:
    """Share of a date's attendances that are assaults, 2.1%-3.9%, highest on weekend dates."""
    mass = np.array([(ASSAULT_HOURS * _raw(d)).sum() for d in range(7)])
    today = mass[weekday]
    return float(0.021 + 0.018 * (today - mass.min()) / (mass.max() - mass.min()))


def _raw(weekday: int) -> np.ndarray:
    w = np.ones(24)
    w[:6] = NIGHT_INTENSITY[(weekday - 1) % 7]
    w[18:] = NIGHT_INTENSITY[weekday]
    return w


def sample_times(rng: np.random.Generator, days: np.ndarray, hour_p: np.ndarray) -> np.ndarray:
    """Arrival datetimes (datetime64[m]) on the given days, hours drawn from hour_p."""
    hours = rng.choice(24, size=len(days), p=hour_p / hour_p.sum())
    minutes = hours * 60 + rng.integers(0, 60, len(days))
    return days.astype("datetime64[m]") + minutes.astype("timedelta64[m]")


def fmt_datetime(values: np.ndarray) -> pd.Series:
    """'YYYY-MM-DD HH:MM', empty for NaT."""
    text = pd.Series(np.datetime_as_string(values.astype("datetime64[m]"), unit="m"))
    return text.str.replace("NaT", "", regex=False).str.replace("T", " ", regex=False)


def _choice(rng: np.random.Generator, pool, n: int, p=None) -> np.ndarray:
    pool = np.asarray(pool)
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return pool[rng.choice(len(pool), size=n, p=p)]


def people(rng: np.random.Generator, arrival: np.ndarray, assault: np.ndarray,
           postcodes: pd.DataFrame, unknown_postcodes: tuple[str, ...]) -> dict[str, pd.Series]:
    """Patient identifiers for each row; also 'home_lsoa' (not a contract column) for truth."""
    n = len(arrival)
    sex = np.where(assault, _choice(rng, SEX_CODES, n, [0.70, 0.28, 0.01, 0.01]),
                   _choice(rng, SEX_CODES, n, [0.48, 0.50, 0.01, 0.01]))
    male = _choice(rng, names.FIRST_NAMES_MALE, n)
    female = _choice(rng, names.FIRST_NAMES_FEMALE, n)
    either = np.where(rng.random(n) < 0.5, male, female)
    first = pd.Series(np.where(sex == "1", male, np.where(sex == "2", female, either)))
    surname = pd.Series(_choice(rng, names.SURNAMES, n))
    patient_name = (first + " " + surname).where(rng.random(n) < 0.85,
                                                 surname.str.upper() + ", " + first)

    number = pd.Series(test_range_numbers(rng, n)).astype(str)
    spaced = number.str[:3] + " " + number.str[3:6] + " " + number.str[6:]
    nhs = spaced.where(rng.random(n) < 0.5, number).where(rng.random(n) >= 0.05, "")

    young = 16 + rng.beta(1.6, 2.6, n) * 24
    older = rng.uniform(41, 76, n)
    teen = rng.uniform(10, 16, n)
    u = rng.random(n)
    assault_age = np.where(u < 0.80, young, np.where(u < 0.94, older, teen))
    v = rng.random(n)
    other_age = np.where(v < 0.12, rng.uniform(0, 5, n),
                         np.where(v < 0.22, rng.uniform(5, 16, n),
                                  np.where(v < 0.62, rng.uniform(16, 65, n),
                                           65 + rng.triangular(0, 10, 36, n))))
    age_days = np.floor(np.clip(np.where(assault, assault_age, other_age), 0, 100.99) * 365.25)
    dob = arrival.astype("datetime64[D]") - age_days.astype("timedelta64[D]")

    idx = rng.integers(0, len(postcodes), n)
    pcds = pd.Series(postcodes["pcds"].to_numpy()[idx])
    lsoa = pd.Series(postcodes["lsoa21cd"].to_numpy()[idx])
    shape = rng.random(n)
    home = pcds.where(shape < 0.88, pcds.str.replace(" ", "", regex=False))
    home = home.where(shape < 0.96, pcds.str.lower())
    kind = rng.random(n)
    unknown = pd.Series(_choice(rng, unknown_postcodes, n))
    home = home.where(kind >= 0.04, "").where((kind < 0.04) | (kind >= 0.05), NO_FIXED_ABODE)
    home = home.where((kind < 0.05) | (kind >= 0.055), unknown)
    lsoa = lsoa.where(kind >= 0.055, "")
    return {
        "nhs_number": nhs, "patient_name": patient_name,
        "date_of_birth": pd.Series(np.datetime_as_string(dob, unit="D")),
        "sex": pd.Series(sex), "home_postcode": home, "home_lsoa": lsoa,
    }


def weapons(rng: np.random.Generator, n: int) -> np.ndarray:
    """Assault method categories with the X85-Y09 mix."""
    methods = list(WEAPONS)
    return _choice(rng, methods, n, [WEAPONS[m][0] for m in methods])


def clinical(rng: np.random.Generator, arrival: np.ndarray, kind: np.ndarray,
             place_class: np.ndarray) -> dict[str, pd.Series]:
    """Injury fields for each row; kind is assault/illness/accident/self_harm/legal."""
    n = len(arrival)
    assault = kind == "assault"
    hour = (arrival.astype("datetime64[m]") - arrival.astype("datetime64[D]")).astype(int) // 60
    night = (hour >= 20) | (hour < 6)

    delay = np.clip(rng.lognormal(np.log(45), 0.9, n), 3, 720).astype(int)
    injured = (kind != "illness") & (rng.random(n) >= np.where(assault, 0.04, 0.10))
    injury = np.where(injured, arrival - delay.astype("timedelta64[m]"),
                      np.datetime64("NaT", "m"))

    intent = np.select([assault, kind == "accident", kind == "self_harm"],
                       [ASSAULT, ACCIDENT, SELF_HARM], "")

    method = weapons(rng, n)
    cause = np.empty(n, dtype=object)
    injury_code = np.empty(n, dtype=object)
    for m, (_, pool) in WEAPONS.items():
        mask = method == m
        cause[mask] = _choice(rng, pool, int(mask.sum()))
        injury_code[mask] = _choice(rng, INJURY_CODES[m], int(mask.sum()))
    sep = np.where(rng.random(n) < 0.05, "; ", ";")
    assault_dx = pd.Series(cause).where(rng.random(n) < 0.45,
                                        pd.Series(injury_code) + sep + pd.Series(cause))
    illness_dx = pd.Series(_choice(rng, ILLNESS_DIAGNOSES, n)).where(rng.random(n) < 0.25, "")
    diagnosis = np.select(
        [assault, kind == "accident", kind == "self_harm", kind == "legal"],
        [assault_dx.to_numpy(dtype=object), _choice(rng, ACCIDENT_DIAGNOSES, n),
         _choice(rng, SELF_HARM_DIAGNOSES, n), _choice(rng, LEGAL_DIAGNOSES, n)],
        illness_dx.to_numpy(dtype=object))

    mechanism_of = {m: (codes("injury_mechanism", method=m) or [""])[0] for m in WEAPONS}
    mechanism_of["unknown"] = ""
    mech = pd.Series(method).map(mechanism_of).to_numpy(dtype=object)
    # ~70% of assaults carry a mechanism; unspecified means (Y09) never do
    mech = np.where(assault & (mech != "") & (rng.random(n) < 0.76), mech, "")

    place_code = {}
    for row_class in ("licensed_premises", "street", "public_place", "transport", "retail",
                      "education", "healthcare", "private_dwelling", "other"):
        found = codes("place_of_injury", location_class=row_class)
        place_code[row_class] = found[0] if found else ""
    accident_class = _choice(rng, ["private_dwelling", "street", "retail", "education", "other"],
                             n, [0.5, 0.2, 0.1, 0.1, 0.1])
    true_class = np.where(assault, place_class, accident_class)
    place = pd.Series(true_class).map(place_code).fillna("").to_numpy(dtype=object)
    coded = np.where(assault, rng.random(n) < 0.60,
                     (kind == "accident") & (rng.random(n) < 0.40))
    place = np.where(coded, place, "")

    alcohol = np.select(
        [assault & night, assault, kind == "accident", kind == "self_harm", kind == "legal"],
        [_choice(rng, ["Y", "N", "U"], n, [0.6, 0.2, 0.2]),
         _choice(rng, ["Y", "N", "U"], n, [0.2, 0.5, 0.3]),
         _choice(rng, ["Y", "N", "U", ""], n, [0.1, 0.45, 0.3, 0.15]),
         _choice(rng, ["Y", "N", "U"], n, [0.4, 0.3, 0.3]),
         _choice(rng, ["Y", "U"], n, [0.6, 0.4])],
        _choice(rng, ["", "U", "N"], n, [0.85, 0.1, 0.05]))
    return {
        "injury_datetime": fmt_datetime(injury), "injury_intent": pd.Series(intent),
        "injury_mechanism": pd.Series(mech), "place_of_injury": pd.Series(place),
        "alcohol_involved": pd.Series(alcohol), "diagnosis_codes": pd.Series(diagnosis),
    }


def contract_frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """The given columns as a string frame in contract order (missing columns empty)."""
    order = load_contract().names
    n = len(next(iter(columns.values())))
    data = {}
    for name in order:
        col = columns.get(name)
        data[name] = pd.Series([""] * n, dtype="str") if col is None else (
            pd.Series(col).reset_index(drop=True).fillna("").astype("str"))
    return pd.DataFrame(data)
