"""Regenerate gazetteer-timezones.txt: the places the IANA time-zone database names (the city
or region of every Area/Location zone, as Python's `zoneinfo` lists them from the system's
tzdata), lowercase, underscores as spaces. The `time` rule set counts a mention of one as
evidence (a gazetteer match), below a keyword.

    python3 router-config/gazetteer_timezones.py
"""

import pathlib
import zoneinfo

AREAS = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
         "Indian", "Pacific"}
places = set()
for zone in zoneinfo.available_timezones():
    parts = zone.split("/")
    if len(parts) < 2 or parts[0] not in AREAS:
        continue
    name = parts[-1].replace("_", " ").lower()
    if len(name) >= 4 and all(c.isalpha() or c in " -'" for c in name):
        places.add(name)
out = pathlib.Path(__file__).with_name("gazetteer-timezones.txt")
out.write_text("\n".join(sorted(places)) + "\n")
print(f"{len(places)} places -> {out}")
