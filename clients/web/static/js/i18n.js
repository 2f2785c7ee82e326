// Every string the page shows, in English and Chinese. The API's own texts
// (reasons, threshold reasons, English citations) come in English; the
// Chinese wording of the plan and of actions comes from the API too.

const STRINGS = {
  en: {
    title: "Public-service coverage audit",
    skip: "Skip to the results",
    ruleset: "Ruleset",
    langButton: "中文",
    langButtonLabel: "切换到中文 (switch to Chinese)",

    inputHeading: "Settlement",
    fromSample: "From the bundled samples",
    sampleSet: "Sample set",
    sampleSettlement: "Settlement",
    loadSample: "Load sample",
    fromFile: "From a file",
    fileLabel: "JSON, GeoJSON, JSONL or CSV file",
    fileHint: "A Settlement as JSON (or a request body), a GeoJSON Feature with the settlement as properties and its central area as a Polygon, or rows of settlements.csv.",
    fileRow: "Settlement in the file",
    chooseFile: "Choose a file…",
    noFile: "No file chosen",
    fromForm: "Figures",
    formSummary: "Edit the figures",
    formHint: "Empty means not given (never zero). Geometry stays as loaded.",
    optionsSummary: "Map and plan options",
    targetShare: "Target coverage for the plan (%)",
    targetShareHint: "Empty: the threshold of the settlement's tier.",
    maxStops: "Most stops to suggest",
    maxStopsHint: "Empty: until the target is reached, up to the server's limit.",
    gridSpacing: "Candidate grid spacing (m)",
    gridSpacingHint: "Empty: 100 m.",
    run: "Run audit",
    newSettlement: "Clear",
    unknown: "not given",
    yes: "yes",
    no: "no",
    loadedNone: "No settlement loaded: choose a sample, a file, or fill in the figures.",
    loaded: "{name} ({kind}) — {geometry}",
    loadedFrom: "Loaded from {source}.",
    geomBoth: "central area of {vertices} vertices and {stops} stops",
    geomArea: "central area of {vertices} vertices, no stops",
    geomStops: "{stops} stops, no central area",
    geomNone: "no geometry",
    sampleOption: "{name} · {kind}",
    sampleOptionStops: "{name} · {kind} · {stops} stops",
    fileRowOption: "{where}: {name}",
    fileRowBad: "{where}: has problems",
    sourceSample: "sample set {set}, {name}",
    sourceFile: "{file} {where}",
    unitKm: "km",
    unitM: "m",
    unitKm2: "km²",
    unitHa: "ha",

    groups: {
      identity: "Identity",
      population: "Population",
      services: "Elderly care and education",
      facilities: "Facilities (counts)",
      transport: "Transport",
      development: "Land and declared facts",
      geometry: "Coordinate systems of the geometry",
    },
    fields: {
      id: "ID",
      name: "Name",
      kind: "Kind",
      regionalCentralCity: "Regional central city",
      countySeat: "County seat",
      urbanPopulation: "Urban-district population",
      residentPopulation: "Resident population",
      elderlyPopulation: "Residents aged 60+",
      preschoolAgePopulation: "Children aged 3–5",
      urbanisedPopulation: "Urbanised population",
      "facilities.level2GeneralHospitals": "Level-2 general hospitals",
      "facilities.tcmHospitals": "TCM hospitals",
      "facilities.maternalChildHealthHospitals": "Maternal and child health hospitals",
      "facilities.communityHealthCentres": "Community health centres",
      "facilities.communityHealthStations": "Community health stations",
      "facilities.townshipHealthCentres": "Township health centres",
      "facilities.standardKindergartens": "Standard kindergartens",
      "facilities.libraries": "Libraries",
      "facilities.culturalCentres": "Cultural centres",
      "facilities.museums": "Museums",
      elderlyCareBeds: "Elderly-care beds",
      preschoolEnrolment: "Children in preschool",
      vocationalSchoolIntake: "Vocational school intake",
      generalHighSchoolIntake: "General high school intake",
      registeredVehicles: "Registered vehicles",
      publicParkingSpaces: "Public parking spaces",
      "busFleet.standardUnits": "Bus fleet (standard units)",
      "busFleet.vehicles": "Bus fleet by class (CLASS:count;…)",
      averageBusSpeedKmh: "Average bus speed (km/h)",
      busDepotAreaM2: "Bus depot area (m²)",
      urbanConstructionLandKm2: "Urban construction land (km²)",
      roadHierarchyMeetsStandard: "Road class mix meets the standard",
      intelligentTrafficSystem: "Intelligent traffic system",
      compulsoryEducationBalanced: "Compulsory education balanced",
      centralAreaCrs: "Central area coordinates",
      busStopsCrs: "Bus stop coordinates",
      populationPointsCrs: "Population point coordinates",
    },
    kinds: {
      SETTLEMENT_KIND_UNSPECIFIED: "not given",
      SETTLEMENT_KIND_CITY: "city",
      SETTLEMENT_KIND_COUNTY: "county",
      SETTLEMENT_KIND_COUNTY_LEVEL_CITY: "county-level city",
      SETTLEMENT_KIND_TOWN: "town",
      SETTLEMENT_KIND_DISTRICT: "district",
    },
    crs: {
      COORDINATE_SYSTEM_UNSPECIFIED: "not given (WGS-84)",
      COORDINATE_SYSTEM_WGS84: "WGS-84",
      COORDINATE_SYSTEM_CGCS2000: "CGCS2000",
      COORDINATE_SYSTEM_GCJ02: "GCJ-02 (Amap, Tencent)",
      COORDINATE_SYSTEM_BD09: "BD-09 (Baidu)",
    },
    status: {
      STATUS_COMPLIANT: "Compliant",
      STATUS_NON_COMPLIANT: "Non-compliant",
      STATUS_NOT_APPLICABLE: "Not applicable",
      STATUS_INSUFFICIENT_DATA: "Insufficient data",
      STATUS_INFORMATIONAL: "Informational",
      STATUS_NOT_COMPUTED: "Not computed",
      STATUS_UNSPECIFIED: "Unknown",
    },

    mapHeading: "Bus-stop coverage map",
    mapLabel: "Coverage map. Arrow keys pan, + and − zoom, 0 fits the area.",
    zoomIn: "Zoom in",
    zoomOut: "Zoom out",
    zoomFit: "Fit the area",
    mapEmpty: "Load a settlement with a central area or bus stops to see the map.",
    legendArea: "Central area",
    legendDisks: "Within {radius} m of a stop",
    legendStops: "Bus stop",
    legendGaps: "Gap (beyond {radius} m)",
    legendPlanned: "Suggested stop",
    mapSummary: "Central area of {area} km² with {stops} stops drawn ({used} reach the area); {share} of it lies within {radius} m of a stop, against a threshold of {threshold}.",
    mapSummaryNoAudit: "Central area and {stops} stops drawn; run the audit to measure the coverage.",
    mapSummaryGaps: "{count} gaps cover {area} km²; the largest is {largest} km² around {where}.",
    mapSummaryPlan: "{count} suggested stops would bring the coverage to {share}.",
    mapDrawn: "Map drawn in {ms} ms.",
    noThreshold: "no threshold",

    planHeading: "Suggested stops",
    showPlan: "Show suggested stops on the map",
    planNone: "Run the audit on a settlement with a central area and stops to get suggestions.",
    planSummary: "{count} stops: coverage {before} → {final}; target {target} {reached}.",
    planReached: "(reached)",
    planNotReached: "(not reached: {stopped})",
    planLowerBound: "At least {n} stops are needed among these candidates.",
    planAbout: "How good is this plan?",
    stopped: {
      "target reached": "target reached",
      "stop cap reached": "stop cap reached",
      "no candidate adds coverage": "no candidate adds coverage",
    },
    planItem: "Stop {n}: {share} after it (+{gain} ha), at {lon}, {lat}",
    planItemShort: "{share}",
    planColStop: "Stop",
    planColShare: "Coverage after",
    planColGain: "New area (ha)",
    planCaption: "Suggested stops in the order chosen",
    gapsHeading: "Largest gaps",
    gapCount: "{count} gaps, {area} km² uncovered",
    gapsNone: "No gap map yet.",
    gapsNoGaps: "No gaps: the whole central area is covered.",
    gapItem: "#{rank}: {area} km² ({share} of the area) around {where}",
    gapsMore: "… and {n} smaller gaps.",
    where: "{lat}°N {lon}°E",

    resultsHeading: "Verdicts",
    caption: "Verdicts for {name} under {ruleset}",
    captionEmpty: "Verdicts appear here after an audit.",
    colRule: "Rule",
    colStatus: "Status",
    colValue: "Value",
    colThreshold: "Threshold and why",
    colShortfall: "Shortfall",
    colActions: "Actions",
    colCitation: "Citation",
    missing: "Missing: {fields}",
    counts: "{compliant} compliant · {nonCompliant} non-compliant · {insufficientData} insufficient data · {informational} informational · {notApplicable} not applicable",
    band: "target band {low}–{high}",
    none: "—",
    declaredYes: "yes",
    declaredNo: "no",

    loading: "Loading…",
    loadingRulesets: "Loading rulesets…",
    loadingSamples: "Loading the sample list…",
    loadingSample: "Loading {name}…",
    loadedSample: "Loaded {name}.",
    readingFile: "Reading {file}…",
    readFile: "Read {file}: {count} settlements.",
    auditing: "Auditing {name}…",
    audited: "Audit done: {counts}.",
    mappingGaps: "Mapping the gaps…",
    gapsDone: "Gap map: {count} gaps.",
    planning: "Planning stops…",
    planDone: "Plan: {count} stops suggested.",
    langChanged: "Language: English.",

    errTitle: "Something went wrong",
    errStart: "The page could not start: {message}",
    errUnexpected: "Unexpected error in the page: {message}",
    errApi: "{route} answered {status} {code}: {message}",
    errNetwork: "{route} could not be reached: {message}",
    errNotJSONResponse: "{route} answered {status} with a body that is not JSON.",
    errInput: "The input has problems:",
    errForm: "Some figures are not valid; see the marked fields.",
    dismiss: "Dismiss",
    fieldLabel: "Field",
    atLine: "line {n}",
    err: {
      notInteger: "{value} is not a whole number",
      notNumber: "{value} is not a number",
      outOfRange: "{value} is out of range",
      notBool: "{value} is not a yes/no value (true/false, yes/no, 1/0)",
      wantBool: "{value} is not true or false",
      notEnum: "{value} is not one of {choices}",
      wantString: "must be a string, not {got}",
      wantObject: "must be a JSON object, not {got}",
      wantArray: "must be an array, not {got}",
      unknownField: "unknown field",
      vehicleGroup: "group {value} is not CLASS:count",
      vehicleCount: "group {value}: the count is not a whole number",
      vehicleLength: "group {value}: the length is not a number",
      fleetBoth: "give either busFleet.standardUnits or busFleet.vehicles, not both",
      csvQuote: "a quoted cell must end at a comma or the end of the line",
      csvBareQuote: "a quote in the middle of an unquoted cell",
      csvUnterminated: "a quoted cell is never closed",
      csvEmpty: "the file is empty; the first row must be a header naming the columns",
      csvHeaderEmpty: "column {n} of the header has no name",
      csvUnknownColumn: "unknown column {value}",
      csvUnknownColumnHint: "unknown column {value} (did you mean {hint}?)",
      csvDuplicateColumn: "the same field as column {value}",
      csvNoId: "the header has no id column",
      csvCells: "the row has {got} cells, but the header has {want} columns",
      csvNoRows: "the file has a header but no settlements",
      emptyFile: "the file is empty",
      notJSON: "not valid JSON: {reason}",
      geoType: "type {value} is not one of {want}",
      badCoordinate: "{value} is not a [longitude, latitude] position",
      badLonLat: "{value} is not a {\"lon\", \"lat\"} position",
      wantRings: "a polygon needs at least one ring",
      shortRing: "a ring needs at least 4 positions, has {got}",
      areaTwice: "the properties give a central area too (centralArea or centralAreaPolygons); give one",
      noPolygonFeature: "no Feature with a Polygon or MultiPolygon geometry (the settlement's central area)",
      unknownType: "cannot read a {value}",
      fileTooLarge: "the file is {size} MB, more than the {limit} MB this page reads",
      required: "required",
      percent: "{value} is not a percentage between 0 and 100",
      positive: "{value} must be a whole number above 0",
      positiveNumber: "{value} must be a number above 0",
    },
  },

  zh: {
    title: "公共服务覆盖评估",
    skip: "跳到评估结果",
    ruleset: "规则集",
    langButton: "English",
    langButtonLabel: "Switch to English (切换到英文)",

    inputHeading: "评估对象",
    fromSample: "内置样例",
    sampleSet: "样例集",
    sampleSettlement: "城镇",
    loadSample: "载入样例",
    fromFile: "从文件载入",
    fileLabel: "JSON、GeoJSON、JSONL 或 CSV 文件",
    fileHint: "JSON 格式的 Settlement（或请求体）、以城镇字段为属性且中心城区为 Polygon 的 GeoJSON Feature，或 settlements.csv 的行。",
    fileRow: "文件中的城镇",
    chooseFile: "选择文件……",
    noFile: "未选择文件",
    fromForm: "指标",
    formSummary: "编辑指标",
    formHint: "留空表示未提供（不是零）。几何数据保持载入时的内容。",
    optionsSummary: "地图与规划选项",
    targetShare: "规划目标覆盖率（%）",
    targetShareHint: "留空：按城市规模等级的标准。",
    maxStops: "最多建议站点数",
    maxStopsHint: "留空：直至达到目标，以服务器上限为限。",
    gridSpacing: "候选点网格间距（米）",
    gridSpacingHint: "留空：100 米。",
    run: "开始评估",
    newSettlement: "清空",
    unknown: "未提供",
    yes: "是",
    no: "否",
    loadedNone: "尚未载入城镇：请选择样例、上传文件或填写指标。",
    loaded: "{name}（{kind}）— {geometry}",
    loadedFrom: "来源：{source}。",
    geomBoth: "中心城区 {vertices} 个顶点，{stops} 个公交站点",
    geomArea: "中心城区 {vertices} 个顶点，无公交站点",
    geomStops: "{stops} 个公交站点，无中心城区",
    geomNone: "无几何数据",
    sampleOption: "{name} · {kind}",
    sampleOptionStops: "{name} · {kind} · {stops} 个站点",
    fileRowOption: "{where}：{name}",
    fileRowBad: "{where}：有问题",
    sourceSample: "样例集 {set}，{name}",
    sourceFile: "{file} {where}",
    unitKm: "公里",
    unitM: "米",
    unitKm2: "平方公里",
    unitHa: "公顷",

    groups: {
      identity: "基本信息",
      population: "人口",
      services: "养老与教育",
      facilities: "设施数量",
      transport: "交通",
      development: "用地与申报事项",
      geometry: "几何数据坐标系",
    },
    fields: {
      id: "编号",
      name: "名称",
      kind: "类型",
      regionalCentralCity: "区域中心城市",
      countySeat: "县城",
      urbanPopulation: "城区人口",
      residentPopulation: "常住人口",
      elderlyPopulation: "60 岁及以上人口",
      preschoolAgePopulation: "3–5 岁儿童",
      urbanisedPopulation: "城镇常住人口",
      "facilities.level2GeneralHospitals": "二级综合医院",
      "facilities.tcmHospitals": "中医医院",
      "facilities.maternalChildHealthHospitals": "妇幼保健院",
      "facilities.communityHealthCentres": "社区卫生服务中心",
      "facilities.communityHealthStations": "社区卫生服务站",
      "facilities.townshipHealthCentres": "公办卫生院",
      "facilities.standardKindergartens": "标准幼儿园",
      "facilities.libraries": "图书馆",
      "facilities.culturalCentres": "文化馆",
      "facilities.museums": "博物馆",
      elderlyCareBeds: "养老床位",
      preschoolEnrolment: "在园幼儿",
      vocationalSchoolIntake: "中等职业学校招生",
      generalHighSchoolIntake: "普通高中招生",
      registeredVehicles: "机动车保有量",
      publicParkingSpaces: "公共停车泊位",
      "busFleet.standardUnits": "公交车辆（标台）",
      "busFleet.vehicles": "公交车辆按车型（车型:数量;…）",
      averageBusSpeedKmh: "公交平均运营时速（公里/小时）",
      busDepotAreaM2: "公交停车场面积（平方米）",
      urbanConstructionLandKm2: "城市建设用地（平方公里）",
      roadHierarchyMeetsStandard: "道路等级结构达标",
      intelligentTrafficSystem: "智能交通管理系统",
      compulsoryEducationBalanced: "义务教育基本均衡",
      centralAreaCrs: "中心城区坐标系",
      busStopsCrs: "公交站点坐标系",
      populationPointsCrs: "人口点坐标系",
    },
    kinds: {
      SETTLEMENT_KIND_UNSPECIFIED: "未提供",
      SETTLEMENT_KIND_CITY: "地级及以上城市",
      SETTLEMENT_KIND_COUNTY: "县",
      SETTLEMENT_KIND_COUNTY_LEVEL_CITY: "县级市",
      SETTLEMENT_KIND_TOWN: "建制镇",
      SETTLEMENT_KIND_DISTRICT: "市辖区",
    },
    crs: {
      COORDINATE_SYSTEM_UNSPECIFIED: "未提供（WGS-84）",
      COORDINATE_SYSTEM_WGS84: "WGS-84",
      COORDINATE_SYSTEM_CGCS2000: "CGCS2000（国家 2000）",
      COORDINATE_SYSTEM_GCJ02: "GCJ-02（高德、腾讯）",
      COORDINATE_SYSTEM_BD09: "BD-09（百度）",
    },
    status: {
      STATUS_COMPLIANT: "达标",
      STATUS_NON_COMPLIANT: "未达标",
      STATUS_NOT_APPLICABLE: "不适用",
      STATUS_INSUFFICIENT_DATA: "数据不足",
      STATUS_INFORMATIONAL: "仅供参考",
      STATUS_NOT_COMPUTED: "未计算",
      STATUS_UNSPECIFIED: "未知",
    },

    mapHeading: "公交站点覆盖地图",
    mapLabel: "覆盖地图。方向键平移，+ 和 − 缩放，0 显示整个城区。",
    zoomIn: "放大",
    zoomOut: "缩小",
    zoomFit: "显示整个城区",
    mapEmpty: "载入含中心城区或公交站点的城镇后显示地图。",
    legendArea: "中心城区",
    legendDisks: "站点 {radius} 米范围内",
    legendStops: "公交站点",
    legendGaps: "覆盖空白（{radius} 米以外）",
    legendPlanned: "建议新增站点",
    mapSummary: "中心城区 {area} 平方公里，绘制 {stops} 个站点（其中 {used} 个覆盖到城区）；{share} 的面积在站点 {radius} 米范围内，标准为 {threshold}。",
    mapSummaryNoAudit: "已绘制中心城区和 {stops} 个站点；开始评估后计算覆盖率。",
    mapSummaryGaps: "共 {count} 处覆盖空白，合计 {area} 平方公里；最大一处 {largest} 平方公里，位于 {where} 附近。",
    mapSummaryPlan: "新增 {count} 个建议站点后，覆盖率可达 {share}。",
    mapDrawn: "地图绘制用时 {ms} 毫秒。",
    noThreshold: "无标准",

    planHeading: "建议新增站点",
    showPlan: "在地图上显示建议站点",
    planNone: "对含中心城区和站点的城镇进行评估后给出建议。",
    planSummary: "{count} 个站点：覆盖率 {before} → {final}；目标 {target}{reached}。",
    planReached: "（已达到）",
    planNotReached: "（未达到：{stopped}）",
    planLowerBound: "在这些候选点中至少需要 {n} 个站点。",
    planAbout: "这个方案有多好？",
    stopped: {
      "target reached": "已达到目标",
      "stop cap reached": "已达到站点数上限",
      "no candidate adds coverage": "没有候选点能再增加覆盖",
    },
    planItem: "站点 {n}：新增后覆盖率 {share}（+{gain} 公顷），位于 {lon}，{lat}",
    planItemShort: "{share}",
    planColStop: "站点",
    planColShare: "新增后覆盖率",
    planColGain: "新增覆盖（公顷）",
    planCaption: "按选择顺序排列的建议站点",
    gapsHeading: "最大的覆盖空白",
    gapCount: "{count} 处空白，{area} 平方公里未覆盖",
    gapsNone: "尚无覆盖空白图。",
    gapsNoGaps: "没有空白：中心城区已全部覆盖。",
    gapItem: "第 {rank} 处：{area} 平方公里（占城区 {share}），位于 {where} 附近",
    gapsMore: "……另有 {n} 处较小的空白。",
    where: "北纬 {lat}° 东经 {lon}°",

    resultsHeading: "评估结果",
    caption: "{name} 按 {ruleset} 的评估结果",
    captionEmpty: "评估后在此显示结果。",
    colRule: "规则",
    colStatus: "结论",
    colValue: "实际值",
    colThreshold: "标准及依据",
    colShortfall: "差距",
    colActions: "措施",
    colCitation: "出处",
    missing: "缺少：{fields}",
    counts: "达标 {compliant} · 未达标 {nonCompliant} · 数据不足 {insufficientData} · 仅供参考 {informational} · 不适用 {notApplicable}",
    band: "目标区间 {low}–{high}",
    none: "—",
    declaredYes: "是",
    declaredNo: "否",

    loading: "正在载入……",
    loadingRulesets: "正在载入规则集……",
    loadingSamples: "正在载入样例列表……",
    loadingSample: "正在载入 {name}……",
    loadedSample: "已载入 {name}。",
    readingFile: "正在读取 {file}……",
    readFile: "已读取 {file}：{count} 个城镇。",
    auditing: "正在评估 {name}……",
    audited: "评估完成：{counts}。",
    mappingGaps: "正在计算覆盖空白……",
    gapsDone: "覆盖空白图：{count} 处。",
    planning: "正在规划站点……",
    planDone: "规划：建议 {count} 个站点。",
    langChanged: "语言：中文。",

    errTitle: "出错了",
    errStart: "页面无法启动：{message}",
    errUnexpected: "页面出现意外错误：{message}",
    errApi: "{route} 返回 {status} {code}：{message}",
    errNetwork: "无法连接 {route}：{message}",
    errNotJSONResponse: "{route} 返回 {status}，内容不是 JSON。",
    errInput: "输入有问题：",
    errForm: "部分指标无效，请查看标出的字段。",
    dismiss: "关闭",
    fieldLabel: "字段",
    atLine: "第 {n} 行",
    err: {
      notInteger: "{value} 不是整数",
      notNumber: "{value} 不是数字",
      outOfRange: "{value} 超出范围",
      notBool: "{value} 不是“是/否”（true/false、yes/no、1/0）",
      wantBool: "{value} 不是 true 或 false",
      notEnum: "{value} 不是以下之一：{choices}",
      wantString: "应为字符串，而不是 {got}",
      wantObject: "应为 JSON 对象，而不是 {got}",
      wantArray: "应为数组，而不是 {got}",
      unknownField: "未知字段",
      vehicleGroup: "{value} 不是“车型:数量”",
      vehicleCount: "{value}：数量不是整数",
      vehicleLength: "{value}：车长不是数字",
      fleetBoth: "busFleet.standardUnits 与 busFleet.vehicles 只能给出一个",
      csvQuote: "带引号的单元格必须在逗号或行尾结束",
      csvBareQuote: "未加引号的单元格中出现引号",
      csvUnterminated: "带引号的单元格没有结束",
      csvEmpty: "文件为空；第一行应为列名",
      csvHeaderEmpty: "表头第 {n} 列没有名称",
      csvUnknownColumn: "未知列 {value}",
      csvUnknownColumnHint: "未知列 {value}（是否为 {hint}？）",
      csvDuplicateColumn: "与列 {value} 是同一字段",
      csvNoId: "表头没有 id 列",
      csvCells: "该行有 {got} 个单元格，表头有 {want} 列",
      csvNoRows: "文件只有表头，没有城镇",
      emptyFile: "文件为空",
      notJSON: "不是有效的 JSON：{reason}",
      geoType: "类型 {value} 不是以下之一：{want}",
      badCoordinate: "{value} 不是 [经度, 纬度] 坐标",
      badLonLat: "{value} 不是 {\"lon\", \"lat\"} 坐标",
      wantRings: "多边形至少需要一个环",
      shortRing: "环至少需要 4 个坐标，现有 {got} 个",
      areaTwice: "属性中也给出了中心城区（centralArea 或 centralAreaPolygons），只能给出一个",
      noPolygonFeature: "没有几何类型为 Polygon 或 MultiPolygon 的 Feature（即中心城区）",
      unknownType: "无法读取 {value}",
      fileTooLarge: "文件大小 {size} MB，超过本页可读取的 {limit} MB",
      required: "必填",
      percent: "{value} 不是 0 到 100 之间的百分比",
      positive: "{value} 应为大于 0 的整数",
      positiveNumber: "{value} 应为大于 0 的数字",
    },
  },
};

// Chinese titles of the jilin-2014 rules; rules of other rulesets show the
// API's English title in both languages.
const RULE_TITLES_ZH = {
  "T18-STOP-COVERAGE-300M": "中心城区 300 米公交站点覆盖率",
  "T18-FLEET-PER-10K": "万人公共交通车辆拥有量",
  "T18-BUS-SPEED": "公共汽车平均运营时速",
  "T18-DEPOT-AREA": "公交停车场面积",
  "T18-PARKING": "城市静态停车公共泊位",
  "T18-ROAD-HIERARCHY": "道路等级结构",
  "T18-ITS": "智能交通管理系统",
  "T19-ELDERLY-BEDS": "每千名老年人口养老床位数",
  "T19-COUNTY-GENERAL-HOSPITAL": "县（市）二级综合医院",
  "T19-COUNTY-TCM-HOSPITAL": "县（市）中医医院",
  "T19-MCH-HOSPITAL": "区域中心城市妇幼保健院",
  "T19-COMMUNITY-HEALTH-CENTRE": "3 万人以上小城镇社区卫生服务中心",
  "T19-COMMUNITY-HEALTH-STATION": "1–3 万人小城镇社区卫生服务站",
  "T19-TOWNSHIP-HEALTH-CENTRE": "小城镇公办卫生院",
  "T19-CULTURE": "区域中心城市图书馆、文化馆、博物馆",
  "T19-KINDERGARTEN": "小城镇标准幼儿园",
  "T19-PRESCHOOL-ENROLMENT": "学前三年毛入园率",
  "T19-COMPULSORY-BALANCE": "义务教育基本均衡",
  "T19-VOCATIONAL": "中等职业教育与普通高中招生比",
  "G-LAND-PER-CAPITA": "人均城市建设用地",
  "G-URBANISATION": "常住人口城镇化率",
};

// Units by metric, for the Chinese page; the English page shows the API's.
const METRIC_UNITS_ZH = {
  METRIC_FLEET_UNITS_PER_10K: "标台/万人",
  METRIC_AVERAGE_BUS_SPEED: "公里/小时",
  METRIC_DEPOT_AREA_PER_UNIT: "平方米/标台",
  METRIC_PARKING_PER_100_VEHICLES: "个/百辆车",
  METRIC_ELDERLY_BEDS_PER_1000: "张/千名老年人",
  METRIC_FACILITY_COUNT: "所",
  METRIC_LAND_PER_CAPITA: "平方米/人",
};

const STORAGE_KEY = "coverage.lang";
let lang = "en";
const listeners = [];

export function initialLanguage() {
  let stored = null;
  try {
    stored = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be disabled; the page still works in the browser's language.
  }
  if (stored === "en" || stored === "zh") return stored;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function language() {
  return lang;
}

export function setLanguage(next, remember = true) {
  lang = next === "zh" ? "zh" : "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  if (remember) {
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // Not remembered, but switched.
    }
  }
  translateStatic(document);
  for (const fn of listeners) fn(lang);
}

export function onLanguageChange(fn) {
  listeners.push(fn);
}

// lookup finds key in a nested table; keys may themselves hold dots (the
// field "facilities.libraries"), so the whole rest is tried before a split.
function lookup(v, key) {
  if (v === null || typeof v !== "object") return undefined;
  if (Object.hasOwn(v, key)) return v[key];
  const i = key.indexOf(".");
  if (i < 0) return undefined;
  return lookup(v[key.slice(0, i)], key.slice(i + 1));
}

// tFor is t in a given language, for the code that runs before the page
// has chosen one.
export function tFor(which, key, params = {}) {
  const saved = lang;
  lang = which === "zh" ? "zh" : "en";
  try {
    return t(key, params);
  } finally {
    lang = saved;
  }
}

// t returns the string for key in the current language, with {name}
// placeholders filled from params; a key missing in Chinese falls back to
// English, and a key missing everywhere shows itself, to be noticed.
export function t(key, params = {}) {
  let s = lookup(STRINGS[lang], key);
  if (typeof s !== "string") s = lookup(STRINGS.en, key);
  if (typeof s !== "string") return key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

// untranslated lists the keys one language has and the other lacks; the
// browser test requires it to be empty.
export function untranslated() {
  const keys = (table, prefix = "") =>
    Object.entries(table).flatMap(([k, v]) => (typeof v === "string" ? [prefix + k] : keys(v, `${prefix}${k}.`)));
  const en = new Set(keys(STRINGS.en));
  const zh = new Set(keys(STRINGS.zh));
  return [...[...en].filter((k) => !zh.has(k)).map((k) => `zh lacks ${k}`), ...[...zh].filter((k) => !en.has(k)).map((k) => `en lacks ${k}`)];
}

export function has(key) {
  return typeof lookup(STRINGS.en, key) === "string";
}

export function ruleTitle(id, fallback) {
  return lang === "zh" && RULE_TITLES_ZH[id] ? RULE_TITLES_ZH[id] : fallback || id;
}

export function metricUnit(metric, fallback) {
  return lang === "zh" && METRIC_UNITS_ZH[metric] ? METRIC_UNITS_ZH[metric] : fallback || "";
}

// translateStatic fills the elements marked in the HTML: data-i18n sets the
// text, data-i18n-attr="attr:key;attr:key" sets attributes.
export function translateStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

// Number formatting follows the page's language.
export function fmt(n, digits = 2) {
  if (n === null || n === undefined || n === "" || Number.isNaN(Number(n))) return t("none");
  return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: digits }).format(Number(n));
}

export function pct(share, digits = 2) {
  if (share === null || share === undefined) return t("none");
  return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-GB", {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(Number(share));
}
