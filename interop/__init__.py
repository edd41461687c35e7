"""The clinic's records exchanged with other systems, as FHIR R4: a patient's Bundle and the
bulk export of the whole clinic (named interop: the FHIR library owns the name `fhir`); imports
questionnaires, treatments, patients and recordkeeping."""
