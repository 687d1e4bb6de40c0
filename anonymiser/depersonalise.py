"""Turn validated attendances into restricted records: identifiers out, derived fields in.

Kept: pseudonyms (HMAC), age band, outcode and LSOA of residence, method category, the time
features in Europe/London, the codes, and the location text (for geocoding, restricted/ only).
Dropped: NHS number, name, date of birth, full postcode, attendance id, diagnosis list.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from anonymiser.generalise import age_band, residence
from anonymiser.keys import PseudonymKey
from anonymiser.pseudonymise import pseudonyms
from schemas import restricted_schema
from transforms.classify import assault_method, first_assault_code
from transforms.identifiers import normalise_nhs_number
from transforms.parse import Parsed


def depersonalise(
    accepted: pd.DataFrame,
    parsed: Parsed,
    key: PseudonymKey,
    postcode_lookup: pd.DataFrame | None = None,
) -> pa.Table:
    """Restricted records (schemas/restricted.yaml, before geocoding), in a stable order."""
    site = accepted["site_code"].astype("string").str.strip().str.upper()
    attendance = site + "|" + accepted["attendance_id"].astype("string").str.strip()
    assault_time = parsed.injury.fillna(parsed.arrival)
    codes = {
        name: accepted[name].astype("string").str.strip()
        for name in ("sex", "injury_intent", "injury_mechanism", "place_of_injury")
    }
    records = pd.DataFrame(
        {
            "site_code": site,
            "attendance_key": pseudonyms(attendance, key),
            "patient_pseudonym": pseudonyms(normalise_nhs_number(accepted["nhs_number"]), key),
            "pseudonym_key_id": key.key_id,
            "arrival_datetime": parsed.arrival,
            "arrival_date": parsed.arrival.dt.date,
            "assault_date": assault_time.dt.date,
            "assault_hour": assault_time.dt.hour.astype("int8"),
            "assault_weekday": (assault_time.dt.weekday + 1).astype("int8"),
            "assault_time_source": pd.Series("injury", index=accepted.index).where(
                parsed.injury.notna(), "arrival"
            ),
            "age_band": age_band(parsed.date_of_birth, parsed.arrival),
            **residence(accepted["home_postcode"], postcode_lookup),
            "assault_method": assault_method(
                accepted["injury_mechanism"], accepted["diagnosis_codes"]
            ),
            "assault_icd10": first_assault_code(accepted["diagnosis_codes"]),
            **codes,
            "alcohol_involved": accepted["alcohol_involved"]
            .astype("string")
            .str.strip()
            .str.upper(),
            "assault_location_description": accepted["assault_location_description"],
        }
    )
    records = records.sort_values(["arrival_datetime", "attendance_key"], kind="stable")
    return pa.Table.from_pandas(
        records, schema=restricted_schema(geocoded=False), preserve_index=False
    )
