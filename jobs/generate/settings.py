"""What the synthetic Dali looks like: census figures, programme rates, volumes, dirt.

All counts are "at scale 1.0" and scale linearly (README s.7); planted cases never drop
below 3 positives and 3 near misses per rule (RULES.md).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

# 2020 census (seventh national census), Dali prefecture
RESIDENTS = 3_337_559
FAMILY_HOUSEHOLDS = 1_048_985
PERSONS_PER_FAMILY_HOUSEHOLD = 3.01
# residents in collective households (集体户: colleges, barracks, factories, temples)
COLLECTIVE_SIZE = 40
MALE_SHARE = 0.5074
AGE_BANDS = {"0-14": 0.1671, "15-59": 0.6628, "60+": 0.1701}

# county populations (2020 census, rounded); Dali city + Xiangyun + Binchuan ≈ 45.5%
COUNTY_POPULATION = {
    "532901": 790_000,   # 大理市
    "532922": 95_000,    # 漾濞彝族自治县
    "532923": 440_000,   # 祥云县
    "532924": 288_000,   # 宾川县
    "532925": 275_000,   # 弥渡县
    "532926": 190_000,   # 南涧彝族自治县
    "532927": 282_000,   # 巍山彝族回族自治县
    "532928": 160_000,   # 永平县
    "532929": 180_000,   # 云龙县
    "532930": 250_000,   # 洱源县
    "532931": 150_000,   # 剑川县
    "532932": 237_559,   # 鹤庆县
}
# township weight by kind of division: sub-district (街道) > town (镇) > township (乡)
TOWNSHIP_WEIGHT = {"街道": 4.0, "镇": 1.6, "乡": 1.0}

# household sizes (family households): mean 3.01
HOUSEHOLD_SIZES = {1: 0.19, 2: 0.25, 3: 0.21, 4: 0.17, 5: 0.10, 6: 0.05, 7: 0.03}

# volumes at scale 1.0 (README s.7)
DEATHS = 180_000            # deaths register (since 2017)
MOVED_OUT_SHARE = 0.01      # household rows of people who moved out, per resident


@dataclass(frozen=True)
class GenerateSettings:
    """Knobs of `hedui generate` (defaults reproduce README s.7)."""

    dirt_rate: float = 0.01             # share of rows given each kind of dirt
    date_format_rate: float = 0.05      # share of dates written as YYYY/MM/DD or YYYYMMDD
    planted_per_million: float = 100.0  # planted positives per rule per million residents
    near_miss_share: float = 0.5        # near misses per positive (at least 3 per rule)
    rows_per_file: int = 4_000_000      # split large batches into files of about this many rows
    batch1_days_before: int = 10        # bulk delivery: D - 10 days
    landing_forms: bool = True          # section 1's forms in a few files (jobs/generate/forms.py)
    zero_byte_file: bool = False        # also a 0-byte .csv (FAILED by the contract: off by default)
    # programme rates (share of family households)
    dibao_rate: float = 0.048
    dibao_edge_rate: float = 0.006
    tekun_rate: float = 0.20            # of elderly (60+) people living alone
    history_rate: float = 0.47          # households with an ended DIBAO spell since 2007
    prisoner_rate: float = 0.025        # of people 18-60 living alone with no programme
    custody_rate: float = 0.006
    disability_rate: float = 0.026
    public_employee_rate: float = 0.035  # of adults 22-60 in uncovered households
    provident_rate: float = 0.018        # contributors among adults 22-60 in uncovered households
    taxpayer_rate: float = 0.025
    medical_max_claims: int = 40         # per person over three years; out_of_pocket <= 480 each
    # social insurance, 36 months (README s.7: ~420k contributors, ~160k pensioners, ~8k unemployed)
    head_contributor_rate: float = 0.24  # heads 22-59 of households of two or more, contributing every month
    contributor_rate: float = 0.135      # other people 18-59 (not pensioners, not unemployed)
    pensioner_rate: float = 0.21         # of people of pension age (men 60, women 55) outside TEKUN
    unemployed_rate: float = 0.0053      # people 20-59 with an unemployment benefit spell
    # rural monitoring (~45k people): whole households, by class of the household
    monitored_covered_rate: float = 0.085
    monitored_hist_rate: float = 0.024
    monitored_other_rate: float = 0.007
    # disasters (~25k records): household heads with one record, some with a second
    disaster_rate: float = 0.022
    disaster_repeat_rate: float = 0.0045
    disaster_relief_rate: float = 0.5    # uncovered heads hit hard in the last 90 days who got TEMP_AID

    def replace(self, **kw) -> "GenerateSettings":
        return dataclasses.replace(self, **kw)


def family_households(scale: float) -> int:
    return max(1, round(FAMILY_HOUSEHOLDS * scale))


def collective_households(scale: float) -> int:
    persons = RESIDENTS - FAMILY_HOUSEHOLDS * PERSONS_PER_FAMILY_HOUSEHOLD
    return max(1, round(persons * scale / COLLECTIVE_SIZE))


def batch_dates(as_of: dt.date, settings: GenerateSettings) -> tuple[dt.date, dt.date]:
    """(bulk delivery, correcting delivery): both on or before D."""
    return as_of - dt.timedelta(days=settings.batch1_days_before), as_of
