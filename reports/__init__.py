"""Reports over patients and their treatments (outcomes, safety, activity, recalls), as SQL, the
API's report endpoints and the admin's reports page; imports treatments, patients and
recordkeeping."""
