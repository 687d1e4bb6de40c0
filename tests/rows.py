"""A valid in-scope attendance in contract form, for tests to copy and break one field at a time.

Every value is synthetic: a test-range NHS number, a fictional postcode area and venue.
"""

VALID_ASSAULT = {
    "site_code": "RNB01",
    "attendance_id": "A0001",
    "nhs_number": "9990000018",
    "patient_name": "Ann Example",
    "date_of_birth": "1990-05-17",
    "sex": "2",
    "home_postcode": "NB1 4QT",
    "arrival_datetime": "2026-10-24 22:00",
    "injury_datetime": "2026-10-24 21:30",
    "injury_intent": "52684005",
    "injury_mechanism": "1000001",
    "place_of_injury": "1000101",
    "assault_location_description": "Copper Kettle pub on High Street",
    "alcohol_involved": "Y",
    "diagnosis_codes": "S01.8;X99",
}
