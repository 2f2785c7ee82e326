// The scalar fields of coverage.v1.Settlement as protojson names them, with
// the type a value must have. The form, the CSV reader and the JSON checks are
// all driven by this list; web_test.go holds it against the proto, so a field
// added there fails the build until it is added here.

export const SETTLEMENT_FIELDS = [
  ["id", "string"],
  ["name", "string"],
  ["kind", "enum:SettlementKind"],
  ["regionalCentralCity", "bool"],
  ["countySeat", "bool"],
  ["urbanPopulation", "int64"],
  ["residentPopulation", "int64"],
  ["elderlyPopulation", "int64"],
  ["preschoolAgePopulation", "int64"],
  ["urbanisedPopulation", "int64"],
  ["facilities.level2GeneralHospitals", "int64"],
  ["facilities.tcmHospitals", "int64"],
  ["facilities.maternalChildHealthHospitals", "int64"],
  ["facilities.communityHealthCentres", "int64"],
  ["facilities.communityHealthStations", "int64"],
  ["facilities.townshipHealthCentres", "int64"],
  ["facilities.standardKindergartens", "int64"],
  ["facilities.libraries", "int64"],
  ["facilities.culturalCentres", "int64"],
  ["facilities.museums", "int64"],
  ["elderlyCareBeds", "int64"],
  ["preschoolEnrolment", "int64"],
  ["vocationalSchoolIntake", "int64"],
  ["generalHighSchoolIntake", "int64"],
  ["registeredVehicles", "int64"],
  ["publicParkingSpaces", "int64"],
  ["busFleet.standardUnits", "double"],
  ["busFleet.vehicles", "vehicles"],
  ["averageBusSpeedKmh", "double"],
  ["busDepotAreaM2", "double"],
  ["urbanConstructionLandKm2", "double"],
  ["roadHierarchyMeetsStandard", "bool"],
  ["intelligentTrafficSystem", "bool"],
  ["compulsoryEducationBalanced", "bool"],
  ["centralAreaCrs", "enum:CoordinateSystem"],
  ["busStopsCrs", "enum:CoordinateSystem"],
  ["populationPointsCrs", "enum:CoordinateSystem"],
];

// Fields that hold geometry: carried through as they are, checked for shape
// only, since the server measures them.
export const GEOMETRY_FIELDS = [
  ["centralArea", "geojson"],
  ["busStops", "geojson"],
  ["centralAreaPolygons", "multipolygon"],
  ["busStopPositions", "positions"],
  ["populationPoints", "population"],
];

export const ENUMS = {
  SettlementKind: [
    "SETTLEMENT_KIND_UNSPECIFIED",
    "SETTLEMENT_KIND_CITY",
    "SETTLEMENT_KIND_COUNTY",
    "SETTLEMENT_KIND_COUNTY_LEVEL_CITY",
    "SETTLEMENT_KIND_TOWN",
    "SETTLEMENT_KIND_DISTRICT",
  ],
  CoordinateSystem: [
    "COORDINATE_SYSTEM_UNSPECIFIED",
    "COORDINATE_SYSTEM_WGS84",
    "COORDINATE_SYSTEM_CGCS2000",
    "COORDINATE_SYSTEM_GCJ02",
    "COORDINATE_SYSTEM_BD09",
  ],
};

export const FIELD_TYPES = new Map(SETTLEMENT_FIELDS);

// snake_case spellings are what proto files and some exports use; protojson
// accepts both, so the readers do too.
export function camelName(name) {
  return name.split(".").map((part) => part.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())).join(".");
}

// The form shows the fields in groups, in this order.
export const FORM_GROUPS = [
  ["identity", ["id", "name", "kind", "regionalCentralCity", "countySeat"]],
  ["population", ["urbanPopulation", "residentPopulation", "elderlyPopulation", "preschoolAgePopulation", "urbanisedPopulation"]],
  ["services", ["elderlyCareBeds", "preschoolEnrolment", "vocationalSchoolIntake", "generalHighSchoolIntake"]],
  ["facilities", SETTLEMENT_FIELDS.map(([n]) => n).filter((n) => n.startsWith("facilities."))],
  ["transport", ["registeredVehicles", "publicParkingSpaces", "busFleet.standardUnits", "busFleet.vehicles", "averageBusSpeedKmh", "busDepotAreaM2"]],
  ["development", ["urbanConstructionLandKm2", "roadHierarchyMeetsStandard", "intelligentTrafficSystem", "compulsoryEducationBalanced"]],
  ["geometry", ["centralAreaCrs", "busStopsCrs"]],
];
