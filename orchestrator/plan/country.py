"""Countries: ISO 3166 alpha-3 codes (what v2 and plans say) and phonenumbers' alpha-2 regions.

This module owns the alpha-3 <-> alpha-2 table for every region phonenumbers supports,
`region_for_a3` (a plan's or a user's country -> the region to parse numbers in) and the way a
calling code is named in a message.

Pure: no I/O, no clock, no environment. It imports only the standard library, phonenumbers'
calling-code table and `orchestrator.errors`; never httpx, anyio, sqlmodel, rich or click, and
nothing else of bwmigrate.
"""

from __future__ import annotations

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from orchestrator.errors import InputError

__all__ = ["A2_TO_A3", "A3_TO_A2", "DEFAULT_COUNTRY_A3", "country_label", "region_for_a3"]

DEFAULT_COUNTRY_A3 = "USA"

# ISO 3166-1 alpha-3 -> alpha-2 for every region phonenumbers supports. Three are not ISO
# 3166-1 countries: AC (Ascension) and TA (Tristan da Cunha) use their exceptionally reserved
# alpha-3 codes, XK (Kosovo) the user-assigned XKX.
_A3_TO_A2_TABLE = """
ABW:AW AFG:AF AGO:AO AIA:AI ALA:AX ALB:AL AND:AD ARE:AE ARG:AR ARM:AM ASC:AC ASM:AS ATG:AG
AUS:AU AUT:AT AZE:AZ BDI:BI BEL:BE BEN:BJ BES:BQ BFA:BF BGD:BD BGR:BG BHR:BH BHS:BS BIH:BA
BLM:BL BLR:BY BLZ:BZ BMU:BM BOL:BO BRA:BR BRB:BB BRN:BN BTN:BT BWA:BW CAF:CF CAN:CA CCK:CC
CHE:CH CHL:CL CHN:CN CIV:CI CMR:CM COD:CD COG:CG COK:CK COL:CO COM:KM CPV:CV CRI:CR CUB:CU
CUW:CW CXR:CX CYM:KY CYP:CY CZE:CZ DEU:DE DJI:DJ DMA:DM DNK:DK DOM:DO DZA:DZ ECU:EC EGY:EG
ERI:ER ESH:EH ESP:ES EST:EE ETH:ET FIN:FI FJI:FJ FLK:FK FRA:FR FRO:FO FSM:FM GAB:GA GBR:GB
GEO:GE GGY:GG GHA:GH GIB:GI GIN:GN GLP:GP GMB:GM GNB:GW GNQ:GQ GRC:GR GRD:GD GRL:GL GTM:GT
GUF:GF GUM:GU GUY:GY HKG:HK HND:HN HRV:HR HTI:HT HUN:HU IDN:ID IMN:IM IND:IN IOT:IO IRL:IE
IRN:IR IRQ:IQ ISL:IS ISR:IL ITA:IT JAM:JM JEY:JE JOR:JO JPN:JP KAZ:KZ KEN:KE KGZ:KG KHM:KH
KIR:KI KNA:KN KOR:KR KWT:KW LAO:LA LBN:LB LBR:LR LBY:LY LCA:LC LIE:LI LKA:LK LSO:LS LTU:LT
LUX:LU LVA:LV MAC:MO MAF:MF MAR:MA MCO:MC MDA:MD MDG:MG MDV:MV MEX:MX MHL:MH MKD:MK MLI:ML
MLT:MT MMR:MM MNE:ME MNG:MN MNP:MP MOZ:MZ MRT:MR MSR:MS MTQ:MQ MUS:MU MWI:MW MYS:MY MYT:YT
NAM:NA NCL:NC NER:NE NFK:NF NGA:NG NIC:NI NIU:NU NLD:NL NOR:NO NPL:NP NRU:NR NZL:NZ OMN:OM
PAK:PK PAN:PA PER:PE PHL:PH PLW:PW PNG:PG POL:PL PRI:PR PRK:KP PRT:PT PRY:PY PSE:PS PYF:PF
QAT:QA REU:RE ROU:RO RUS:RU RWA:RW SAU:SA SDN:SD SEN:SN SGP:SG SHN:SH SJM:SJ SLB:SB SLE:SL
SLV:SV SMR:SM SOM:SO SPM:PM SRB:RS SSD:SS STP:ST SUR:SR SVK:SK SVN:SI SWE:SE SWZ:SZ SXM:SX
SYC:SC SYR:SY TAA:TA TCA:TC TCD:TD TGO:TG THA:TH TJK:TJ TKL:TK TKM:TM TLS:TL TON:TO TTO:TT
TUN:TN TUR:TR TUV:TV TWN:TW TZA:TZ UGA:UG UKR:UA URY:UY USA:US UZB:UZ VAT:VA VCT:VC VEN:VE
VGB:VG VIR:VI VNM:VN VUT:VU WLF:WF WSM:WS XKX:XK YEM:YE ZAF:ZA ZMB:ZM ZWE:ZW
"""
A3_TO_A2: dict[str, str] = dict(
    (a3, a2) for a3, _, a2 in (pair.partition(":") for pair in _A3_TO_A2_TABLE.split())
)
A2_TO_A3: dict[str, str] = {a2: a3 for a3, a2 in A3_TO_A2.items()}


def region_for_a3(country_a3: str) -> str:
    """Return the phonenumbers region (ISO alpha-2) for an ISO 3166 alpha-3 code: "USA" -> "US"."""
    region = A3_TO_A2.get(country_a3.strip().upper())
    if region is None:
        raise InputError(
            f"unknown country code {country_a3!r}: give an ISO 3166 alpha-3 code"
            " (countryCodeA3) such as USA, CAN or GBR"
        )
    return region


def country_label(country_code: int) -> str:
    """Name a calling code for a message: "+44 (GBR, GGY, IMN, …)"."""
    a3s = [A2_TO_A3.get(region, region) for region in COUNTRY_CODE_TO_REGION_CODE[country_code]]
    more = ", …" if len(a3s) > 3 else ""
    return f"+{country_code} ({', '.join(a3s[:3])}{more})"
