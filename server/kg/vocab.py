"""Namespaces and IRI minting; the one place where IRIs are spelled."""
from __future__ import annotations

import pyoxigraph as ox

BASE = "https://w3id.org/econplan/"
DEF = BASE + "def#"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
REPORT_BASE = ID + "hangzhou/2023-plan"
WD = "http://www.wikidata.org/entity/"


class _NS:
    def __init__(self, base: str):
        self._base = base

    def __getattr__(self, name: str) -> ox.NamedNode:
        return ox.NamedNode(self._base + name)

    def __getitem__(self, name: str) -> ox.NamedNode:
        return ox.NamedNode(self._base + name)

    def __str__(self) -> str:
        return self._base


EP = _NS(DEF)
RDF = _NS("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = _NS("http://www.w3.org/2000/01/rdf-schema#")
OWL = _NS("http://www.w3.org/2002/07/owl#")
XSD = _NS("http://www.w3.org/2001/XMLSchema#")
SKOS = _NS("http://www.w3.org/2004/02/skos/core#")
QB = _NS("http://purl.org/linked-data/cube#")
PROV = _NS("http://www.w3.org/ns/prov#")
OA = _NS("http://www.w3.org/ns/oa#")
SCHEMA = _NS("https://schema.org/")
DCTERMS = _NS("http://purl.org/dc/terms/")
SH = _NS("http://www.w3.org/ns/shacl#")

RDF_TYPE = RDF.type
RDFS_LABEL = RDFS.label
RDFS_COMMENT = RDFS.comment
OWL_SAMEAS = OWL.sameAs
XSD_INTEGER = XSD.integer
XSD_DECIMAL = XSD.decimal
XSD_GYEAR = XSD.gYear
XSD_BOOLEAN = XSD.boolean

PREFIXES = {
    "ep": DEF, "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD),
    "skos": str(SKOS), "qb": str(QB), "prov": str(PROV), "oa": str(OA), "schema": str(SCHEMA),
    "dcterms": str(DCTERMS), "sh": str(SH), "wd": WD,
    "fact": REPORT_BASE + "/fact/", "passage": REPORT_BASE + "/passage/",
    "indicator": ID + "indicator/", "unit": ID + "unit/", "district": ID + "district/", "areatype": ID + "area-type/",
    "project": ID + "hangzhou/project/", "policy": ID + "hangzhou/policy/",
    "programme": ID + "hangzhou/programme/", "pilot": ID + "hangzhou/pilot/",
    "platform": ID + "hangzhou/platform/", "organization": ID + "hangzhou/organization/",
    "event": ID + "hangzhou/event/", "zone": ID + "hangzhou/zone/",
    "domain": REPORT_BASE + "/domain/", "workarea": REPORT_BASE + "/workarea/",
}

REPORT = ox.NamedNode(REPORT_BASE)
DATASET = ox.NamedNode(REPORT_BASE + "/dataset")
INDICATOR_SCHEME = ox.NamedNode(ID + "indicator")
UNIT_SCHEME = ox.NamedNode(ID + "unit")
AREA_TYPE_SCHEME = ox.NamedNode(ID + "area-type")
DOMAIN_SCHEME = ox.NamedNode(REPORT_BASE + "/domain")
WORKAREA_SCHEME = ox.NamedNode(REPORT_BASE + "/workarea")


def passage(pid: str) -> ox.NamedNode:
    return ox.NamedNode(f"{REPORT_BASE}/passage/{pid}")


def fact(fid: str) -> ox.NamedNode:
    return ox.NamedNode(f"{REPORT_BASE}/fact/{fid}")


def indicator(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}indicator/{slug}")


def unit(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}unit/{slug}")


def district(code: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}district/{code}")


def plan_assessment(area: str, year: str, indicator_slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{REPORT_BASE}/plan-assessment/{area}-{year}-{indicator_slug}")


def area_type(name: str) -> ox.NamedNode:
    """An area type ("prefecture-level city") -> …/id/area-type/prefecture-level-city."""
    return ox.NamedNode(f"{ID}area-type/{name.replace(' ', '-')}")


def project(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}hangzhou/project/{slug}")


def policy(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}hangzhou/policy/{slug}")


def named(kind: str, slug: str) -> ox.NamedNode:
    """A named thing of the report: programme, pilot, platform, organization, event or zone."""
    return ox.NamedNode(f"{ID}hangzhou/{kind}/{slug}")


def domain(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{REPORT_BASE}/domain/{slug}")


def workarea(slug: str) -> ox.NamedNode:
    return ox.NamedNode(f"{REPORT_BASE}/workarea/{slug}")


EP_KIND = {k: EP[k] for k in ("level", "growth", "decline", "share", "count", "ratio-to-plan",
                              "rank", "difference")}
EP_QUALIFIER = {"exact": EP.exact, "at-least": EP["at-least"], "over": EP.over,
                "more-than": EP["more-than"], "about": EP["about-value"], "nearly": EP.nearly,
                "at-most": EP["at-most"]}
EP_STATUS = {"actual": EP.actual, "target": EP.target, "expected": EP.expected, "design": EP.design}
EP_SCOPE = {"province": EP.province, "nation": EP.nation, "capitals": EP.capitals}


def fact_classes(status: str) -> tuple:
    """The classes of a fact of ``status``: every fact is an ep:Fact and a qb:Observation; a
    target is an ep:Target, an actual or expected value an ep:Observation, and a design figure
    (a capacity, a speed) neither, since it is neither measured nor planned."""
    own = {"target": (EP.Target,), "design": ()}.get(status, (EP.Observation,))
    return own + (EP.Fact, QB.Observation)


KIND_LABELS = {"level": ("总量", "level"), "growth": ("增速", "growth"),
               "decline": ("降幅", "decline"), "share": ("占比", "share"),
               "count": ("数量", "count"), "ratio-to-plan": ("完成计划比例", "ratio to plan"),
               "rank": ("位次", "rank"), "difference": ("差值", "difference")}

#: Prefixes every query may use without declaring them (a query's own PREFIX wins).
PREFIXES_FOR_QUERIES = {k: v for k, v in PREFIXES.items()}
