#!/usr/bin/env python3
"""Regenerate the Jilin sample settlements in this folder.

    python3 samples/jilin/generate.py [REALDATA_DIR]

REALDATA_DIR holds the reference files described in its SOURCES.md (default:
../shared/realdata relative to the repository root). Only three of them are
read, all under permissive licences: the 2020 county census table (MIT), the
SuperMap Changchun bus lines (Apache-2.0) and, for a sanity check only, the
cn-atlas prefecture boundaries (ISC). The output is byte-for-byte the same on
every run: nothing here is random, and every illustrative figure is either
written in the tables below or computed from them by the build functions
further down.

Where a figure comes from:
  REAL          2020 census (residents, urbanised residents, 城区人口, 60+)
  ESTIMATED     children aged 3-5, from the census age groups 1-4 and 5-9
  ILLUSTRATIVE  everything in the *_KNOBS tables and TOWNS, and the town
                outlines and stops
"""

import csv
import hashlib
import io
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

CENSUS = "leiii_census_county_2020_v1.xlsx"
BUS = "supermap_changchunBus.json"
ATLAS = "cn-atlas_prefectures_topo.json"

# The versions SOURCES.md describes; another version would silently change
# the "real" figures.
SHA256 = {
    CENSUS: "04d37df90d4e358c13aac85a76051caab12afa84eca8a3b4f58cf2227ce69f43",
    BUS: "7a5648348883f78ba92a3cae5310cec3a4385a5ca9b91c6b276a7b1d6a62bdeb",
    ATLAS: "cee4cf96aa903f996e14ab1f11b05e62c0b796fa29d4e5d376d9bdc82026c6ad",
}

# ---------------------------------------------------------------------------
# Settlements the plan names, with their census codes (REAL names and codes).
# Column order of the knob tables is documented above each table.
# ---------------------------------------------------------------------------

# Prefecture-level cities; Yanji stands for Yanbian prefecture, whose city it
# is (the plan lists 延吉 among the regional central cities). The plan names
# 四平, 辽源, 通化, 白山, 松原, 白城 and 延吉 regional central cities (三（一）2,
# 六（一）); 长春 and 吉林, its two big cities, are flagged too, as the
# ruleset's notes read the plan.
#
# id | census code | English | regionalCentralCity
CITIES = [
    ("changchun", "220100", "Changchun", True),
    ("jilin-city", "220200", "Jilin", True),
    ("siping", "220300", "Siping", True),
    ("liaoyuan", "220400", "Liaoyuan", True),
    ("tonghua", "220500", "Tonghua", True),
    ("baishan", "220600", "Baishan", True),
    ("songyuan", "220700", "Songyuan", True),
    ("baicheng", "220800", "Baicheng", True),
    ("yanji", "222401", "Yanji", True),
]

# County-level cities (Columns 2, 4, 6 and 三（五）).
COUNTY_LEVEL_CITIES = [
    ("yushu", "220182", "Yushu"),
    ("dehui", "220183", "Dehui"),
    ("gongzhuling", "220184", "Gongzhuling"),
    ("jiaohe", "220281", "Jiaohe"),
    ("huadian", "220282", "Huadian"),
    ("shulan", "220283", "Shulan"),
    ("panshi", "220284", "Panshi"),
    ("shuangliao", "220382", "Shuangliao"),
    ("meihekou", "220581", "Meihekou"),
    ("jian", "220582", "Ji'an"),
    ("linjiang", "220681", "Linjiang"),
    ("fuyu", "220781", "Fuyu"),
    ("taonan", "220881", "Taonan"),
    ("daan", "220882", "Da'an"),
    ("tumen", "222402", "Tumen"),
    ("dunhua", "222403", "Dunhua"),
    ("hunchun", "222404", "Hunchun"),
    ("longjing", "222405", "Longjing"),
    ("helong", "222406", "Helong"),
]

COUNTIES = [
    ("nongan", "220122", "Nong'an"),
    ("yongji", "220221", "Yongji"),
    ("lishu", "220322", "Lishu"),
    ("yitong", "220323", "Yitong Manchu Autonomous County"),
    ("dongfeng", "220421", "Dongfeng"),
    ("dongliao", "220422", "Dongliao"),
    ("tonghua-county", "220521", "Tonghua County"),
    ("huinan", "220523", "Huinan"),
    ("liuhe", "220524", "Liuhe"),
    ("fusong", "220621", "Fusong"),
    ("jingyu", "220622", "Jingyu"),
    ("changbai", "220623", "Changbai Korean Autonomous County"),
    ("qianguo", "220721", "Qian Gorlos Mongol Autonomous County"),
    ("changling", "220722", "Changling"),
    ("qianan", "220723", "Qian'an"),
    ("zhenlai", "220821", "Zhenlai"),
    ("tongyu", "220822", "Tongyu"),
    ("wangqing", "222424", "Wangqing"),
    ("antu", "222426", "Antu"),
]

# 九台 (九台市 in the plan, a district of Changchun since 2014) and 双阳, two of
# the four nodes of Column 3.
DISTRICTS = [
    ("jiutai", "220113", "Jiutai"),
    ("shuangyang", "220112", "Shuangyang"),
]

# ---------------------------------------------------------------------------
# ILLUSTRATIVE figures. None leaves the field out of the settlement, so that
# the rules needing it report INSUFFICIENT_DATA. Rates are multiplied by the
# census denominators in build_*().
# ---------------------------------------------------------------------------

# Cities. beds: elderly-care beds per 1,000 residents aged 60+; enrol: preschool
# gross enrolment, % of children 3-5; voc: vocational ÷ general high-school
# intake; gen: general high-school intake per 1,000 residents; mch/lib/cult/mus:
# facility counts; veh: registered vehicles per 1,000 residents; park: public
# parking spaces per 100 vehicles; fleet: standard units per 10,000 urban
# residents, or a dict of vehicles by class; speed: km/h; depot: m² per
# standard unit; land: m² of urban construction land per urban resident;
# road/its: declared facts.
CITY_KNOBS = {
    #             beds  enrol voc   gen  mch lib cult mus  veh  park  fleet  speed depot land road   its
    "changchun": (41.5, 92, 0.78, 5.6, 2, 9, 9, 12, 245, 21.5,
                  {"LENGTH_10_13M": 4200, "LENGTH_7_10M": 700, "LENGTH_16_18M": 120, "LENGTH_5_7M": 150},
                  16.2, 128, 128, True, True),
    "jilin-city": (37.2, 88, 0.81, 5.4, 1, 8, 8, 6, 190, 26.8,
                   {"LENGTH_10_13M": 1050, "LENGTH_7_10M": 300, "LENGTH_5_7M": 50},
                   19.1, 155, 142, True, True),
    "siping": (33.8, 83, 0.74, 5.3, 1, 3, 3, 1, 150, 31.5, 9.2, 21.4, 142, 109, False, False),
    "liaoyuan": (36.4, 79, 0.69, 5.1, 1, 2, 2, 0, 160, 24.1, 11.5, 25.3, 168, 102, True, False),
    "tonghua": (29.5, 86, 0.86, 5.2, 1, 3, 3, 2, 165, 27.5, 10.4, 23.8, 151, 118, False, None),
    "baishan": (38.9, 90, 0.71, 5.0, 1, 2, 2, None, 170, 29.0, 8.7, 26.1, None, 96, None, False),
    "songyuan": (31.0, None, 0.92, 5.7, 1, 2, 2, 1, 140, 18.6, None, 22.9, None, 125, True, False),
    "baicheng": (35.2, 76, 0.83, 5.3, None, 2, 1, 1, 135, 25.4, 12.0, 27.0, 175, 112, False, False),
    "yanji": (44.0, 95, 0.66, 5.1, 1, 2, 1, 2, None, None, 11.2, 20.6, 138, 98, True, True),
}

# County-level cities: as for cities, plus l2/tcm (level-2 general and TCM
# hospitals) and bal (compulsory education declared in basic balance).
CLC_KNOBS = {
    #               beds  enrol voc   gen  l2 tcm mch  veh park fleet speed depot land road   its    bal
    "yushu": (33, 82, 0.70, 5.2, 2, 1, 1, 150, 22.0, 8.5, 26.5, 155, 108, True, False, True),
    "dehui": (35, 84, 0.75, 5.3, 1, 1, 1, 165, 26.5, 10.6, 24.1, 162, 121, True, False, True),
    "gongzhuling": (37, 86, 0.80, 5.4, 2, 1, 1, 190, 27.2,
                    {"LENGTH_10_13M": 160, "LENGTH_7_10M": 95, "LENGTH_5_7M": 10},
                    23.5, 149, 112, True, True, True),
    "jiaohe": (36.3, 87, 0.68, 5.0, 1, 1, 1, 155, 30.2, 10.2, 27.8, 171, 98, False, False, True),
    "huadian": (31, 81, 0.72, 5.1, 1, 1, 1, 160, 25.6, 9.4, 26.2, 158, 104, True, False, True),
    "shulan": (29, 79, 0.66, 5.0, 1, 1, 0, 140, 19.8, 7.9, 28.4, 140, 117, False, False, False),
    "panshi": (38, 85, 0.83, 5.2, 1, 1, 1, 170, 28.0, 10.9, 25.6, 166, 110, True, False, True),
    "shuangliao": (34, 82, 0.74, 5.3, 1, 0, 1, 160, 24.0, None, 26.8, None, 114, None, False, True),
    "meihekou": (40, 90, 0.90, 5.6, 2, 1, 1, 210, 29.5,
                 {"LENGTH_10_13M": 170, "LENGTH_7_10M": 100, "LENGTH_5_7M": 14},
                 24.6, 183, 101, True, True, True),
    "jian": (43, 91, 0.61, 4.8, 1, 1, 1, 150, 32.0, 12.1, 25.2, 190, 96, True, False, True),
    "linjiang": (39, 88, 0.58, 4.7, 1, 1, 1, 145, 27.0, 11.0, 27.5, 175, 106, True, False, True),
    "fuyu": (30, 80.5, 0.79, 5.4, 1, 1, 1, 150, 23.5, 9.8, 25.1, 152, 125, False, False, True),
    "taonan": (32, 83, 0.71, 5.2, 1, 1, 1, 155, 25.8, 10.3, 24.8, 147, 113, True, False, True),
    "daan": (35, 84, 0.76, 5.1, 1, 1, None, 150, 26.1, 10.1, 25.4, 156, 109, True, False, None),
    "tumen": (47, 92, 0.64, 4.6, 1, 1, 1, 165, 31.0, 12.6, 26.0, 178, 103, True, False, True),
    "dunhua": (38, 87, 0.82, 5.3, 2, 1, 1, 175, 28.6, 11.4, 25.9, 168, 107, True, True, True),
    "hunchun": (41, 89, 0.87, 5.2, 1, 1, 1, 185, 27.9,
                {"LENGTH_10_13M": 110, "LENGTH_7_10M": 80, "LENGTH_UP_TO_5M": 12},
                24.4, 172, 99, True, True, True),
    "longjing": (44, 90, 0.62, 4.7, 1, 1, 1, 160, 30.6, 10.5, 25.7, 165, 111, True, False, True),
    "helong": (46, 88, 0.60, 4.6, 1, 1, 1, 150, 29.0, 9.1, 26.3, 160, 118, False, False, True),
}

# Counties: beds, enrol, voc, gen, l2, tcm, veh, park and bal as above.
COUNTY_KNOBS = {
    #                  beds  enrol voc   gen  l2 tcm  veh  park  bal
    "nongan": (32, 84, 0.72, 5.1, 2, 1, 135, 23.0, True),
    "yongji": (38, 87, 0.65, 5.0, 1, 1, 150, 27.5, True),
    "lishu": (34, 83, 0.81, 5.4, 2, 1, 140, 25.8, True),
    "yitong": (29, 78, 0.70, 5.2, 1, 1, 130, 21.2, False),
    "dongfeng": (36.5, 85, 0.88, 5.3, 1, 1, 145, 28.3, True),
    "dongliao": (27, 76, 0.60, 4.8, 1, 0, 125, None, True),
    "tonghua-county": (37, 86, 0.76, 5.0, 1, 1, 150, 26.4, True),
    "huinan": (35, 82, 0.69, 5.1, 1, 1, 145, 24.2, True),
    "liuhe": (31, 80.5, 0.74, 5.2, 1, 1, 140, 29.1, None),
    "fusong": (40, 89, 0.92, 5.5, 1, 1, 165, 30.5, True),
    "jingyu": (33, 84, 0.58, 5.0, 1, None, 155, 26.9, True),
    "changbai": (45, 90, 0.55, 4.6, 1, 1, 140, 33.0, True),
    "qianguo": (30, 81, 0.83, 5.6, 2, 1, 150, 22.7, True),
    "changling": (28, 79, 0.77, 5.4, 1, 1, 130, 25.3, False),
    "qianan": (36.2, 86, 0.71, 5.1, 1, 1, 145, 27.0, True),
    "zhenlai": (34, 83, 0.66, 5.0, 1, 1, 135, 24.6, True),
    "tongyu": (31, 80.8, 0.79, 5.3, 1, 1, 130, 26.1, True),
    "wangqing": (42, 91, 0.63, 4.9, 1, 1, None, None, True),
    "antu": (39, 88, 0.68, 5.0, 0, 1, 150, 28.8, True),
}

# Districts: beds, enrol, voc, gen, bal.
DISTRICT_KNOBS = {
    "jiutai": (33, 82, 0.70, 5.1, True),
    "shuangyang": (37, 86, 0.66, 5.0, True),
}

# Towns: every key small town of 专栏7 in the plan's order (怀德, listed under
# two types, once), then the four county towns named in 三（五）. The name,
# type and county seat flag are the plan's; everything from pop on is
# ILLUSTRATIVE: residents, % aged 60+, % aged 3-5, elderly-care beds per 1,000
# aged 60+, preschool enrolment %, and counts of standard kindergartens (kg),
# community health centres (chc) and stations (chs) and public township health
# centres (thc). "-" leaves the field out.
TOWNS = """
slug            | 镇名           | pinyin               | type                 | seat | pop    | eld  | pre | beds | enrol | kg | chc | chs | thc
kouqian         | 口前镇         | Kouqian              | 县城镇               | yes  | 85000  | 24.0 | 1.9 | 34   | 88    | 3  | 1   | -   | 1
lishu           | 梨树镇         | Lishu                | 县城镇               | yes  | 98000  | 24.5 | 1.9 | 38   | 85    | 3  | 1   | -   | 1
mingyue         | 明月镇         | Mingyue              | 县城镇               | yes  | 62000  | 23.5 | 2.1 | 40   | 90    | 2  | 1   | -   | 1
jingyu          | 靖宇镇         | Jingyu               | 县城镇               | yes  | 58000  | 21.8 | 2.4 | 29   | 84    | 2  | 1   | -   | 1
liuhe           | 柳河镇         | Liuhe                | 县城镇               | yes  | 92000  | 23.0 | 2.2 | 37   | 82    | 3  | 0   | -   | 1
dongfeng        | 东丰镇         | Dongfeng             | 县城镇               | yes  | 80000  | 24.2 | 2.0 | 35   | 81    | 2  | 1   | -   | 1
baiquan         | 白泉镇         | Baiquan              | 县城镇               | yes  | 41000  | 26.5 | 1.7 | 22   | 74    | 1  | 1   | -   | 1
kuaidamao       | 快大茂镇       | Kuaidamao            | 县城镇               | yes  | 56000  | 25.0 | 2.0 | 36.5 | 87    | 2  | 1   | -   | 1
changbai        | 长白镇         | Changbai             | 县城镇               | yes  | 36000  | 25.5 | 1.9 | 42   | 92    | 1  | 1   | -   | 1
yitong          | 伊通镇         | Yitong               | 县城镇               | yes  | 88000  | 24.8 | 1.8 | 33   | 79    | 2  | 1   | -   | 1
changling       | 长岭镇         | Changling            | 县城镇               | yes  | 102000 | 20.5 | 2.1 | 30   | 83    | 3  | 1   | -   | 1
qianan          | 乾安镇         | Qian'an              | 县城镇               | yes  | 71000  | 22.0 | 1.9 | 38   | 86    | 2  | 1   | -   | 1
zhenlai         | 镇赉镇         | Zhenlai              | 县城镇               | yes  | 76000  | 23.0 | 1.9 | 36.8 | 85    | 2  | -   | -   | 1
lanjia          | 兰家镇         | Lanjia               | 城市卫星型           | no   | 32000  | 21.0 | 2.2 | 26   | 83    | 1  | 1   | -   | 1
hexin           | 合心镇         | Hexin                | 城市卫星型           | no   | 28000  | 22.0 | 2.1 | 30   | 85    | 1  | -   | 1   | 1
sheling         | 奢岭镇         | Sheling              | 城市卫星型           | no   | 45000  | 19.5 | 2.4 | 37   | 89    | 2  | 1   | -   | 1
kalun           | 卡伦镇         | Kalun                | 城市卫星型           | no   | 52000  | 19.0 | 2.5 | 40   | 91    | 2  | 1   | -   | 1
helong          | 合隆镇         | Helong               | 城市卫星型           | no   | 43000  | 22.5 | 2.0 | 33   | 84    | 1  | 1   | -   | 1
fanjiatun       | 范家屯镇       | Fanjiatun            | 城市卫星型           | no   | 96000  | 21.5 | 2.2 | 36.2 | 88    | 3  | 1   | -   | 1
mishazi         | 米沙子镇       | Mishazi              | 城市卫星型           | no   | 38000  | 22.0 | 2.1 | 28   | 82    | 1  | 0   | -   | 1
xinglongshan    | 兴隆山镇       | Xinglongshan         | 城市卫星型           | no   | 47000  | 18.5 | 2.6 | 38   | 92    | 2  | 1   | -   | 1
daling          | 大岭镇         | Daling               | 城市卫星型           | no   | 35000  | 22.8 | 2.1 | 31   | 80.5  | 1  | 1   | -   | 1
xiangshui       | 响水镇         | Xiangshui            | 城市卫星型           | no   | 21000  | 24.0 | 1.9 | 25   | 78    | 1  | -   | 1   | 1
gudianzi        | 孤店子镇       | Gudianzi             | 城市卫星型           | no   | 33000  | 24.5 | 1.8 | 37   | 86    | 1  | 1   | -   | 1
jinzhu          | 金珠镇         | Jinzhu               | 城市卫星型           | no   | 29000  | 23.5 | 2.0 | 36   | 84    | 1  | -   | 0   | 1
jinchang        | 金厂镇         | Jinchang             | 城市卫星型           | no   | 14000  | 26.0 | 1.7 | 20   | 75    | 0  | -   | 1   | 1
linhai          | 林海镇         | Linhai               | 城市卫星型           | no   | 16000  | 25.5 | 1.8 | 28   | 79    | 1  | -   | 1   | 1
chaoyangchuan   | 朝阳川镇       | Chaoyangchuan        | 城市卫星型           | no   | 42000  | 22.0 | 2.2 | 39   | 90    | 1  | 1   | -   | 1
huapichang      | 桦皮厂镇       | Huapichang           | 城市卫星型           | no   | 26000  | 23.0 | 2.0 | 33   | 83    | 1  | -   | 1   | 1
chaluhe         | 岔路河镇       | Chaluhe              | 工业主导型           | no   | 48000  | 22.5 | 2.1 | 36.1 | 87    | 2  | 1   | -   | 1
mingcheng       | 明城镇         | Mingcheng            | 工业主导型           | no   | 31000  | 25.0 | 1.9 | 27   | 81    | 1  | 1   | -   | 1
changshan       | 长山镇         | Changshan            | 工业主导型           | no   | 24000  | 23.5 | 2.0 | 30   | 80    | 1  | -   | 1   | 1
wukeshu-yushu   | 五棵树镇（榆树） | Wukeshu, Yushu       | 工业主导型           | no   | 45000  | 24.5 | 1.8 | 26   | 78    | 1  | 1   | -   | 1
shaoguo         | 烧锅镇         | Shaoguo              | 工业主导型           | no   | 20000  | 25.5 | 1.8 | 22   | 76    | 1  | -   | 0   | 1
huangnihe       | 黄泥河镇       | Huangnihe            | 工业主导型           | no   | 27000  | 24.0 | 1.9 | 37   | 84    | 1  | -   | 1   | 1
quanyang        | 泉阳镇         | Quanyang             | 工业主导型           | no   | 18000  | 23.0 | 2.0 | 41   | 88    | 1  | -   | 1   | 1
fumin           | 抚民镇         | Fumin                | 工业主导型           | no   | 15000  | 24.0 | 1.9 | 24   | 77    | 0  | -   | 1   | 1
shixian         | 石岘镇         | Shixian              | 工业主导型           | no   | 19000  | 27.5 | 1.6 | 30   | 82    | 1  | -   | 1   | 1
hongqiling      | 红旗岭镇       | Hongqiling           | 工业主导型           | no   | 22000  | 26.0 | 1.7 | 36   | 85    | 1  | -   | 1   | 1
tiangang        | 天岗镇         | Tiangang             | 工业主导型           | no   | 24000  | 24.5 | 1.9 | 28   | 81    | 1  | -   | -   | 1
liudaogou       | 六道沟镇       | Liudaogou            | 工业主导型           | no   | 9000   | 28.0 | 1.5 | 45   | 86    | 1  | -   | -   | 1
caiyuanzi       | 菜园子镇       | Caiyuanzi            | 工业主导型           | no   | 26000  | 23.5 | 2.0 | 33   | 83    | 1  | -   | 1   | 1
guojiadian      | 郭家店镇       | Guojiadian           | 工业主导型           | no   | 46000  | 22.5 | 2.0 | 38   | 86    | 2  | 1   | -   | 1
weijin          | 渭津镇         | Weijin               | 工业主导型           | no   | 17000  | 24.5 | 1.9 | 29   | 80    | 1  | -   | 1   | 1
hongmei         | 红梅镇         | Hongmei              | 工业主导型           | no   | 25000  | 25.0 | 1.9 | 37   | 85    | 1  | -   | 1   | 1
quannongshan    | 劝农山镇       | Quannongshan         | 生态旅游型           | no   | 12000  | 25.0 | 1.9 | 32   | 81    | 1  | -   | 1   | 1
beidahu         | 北大湖镇       | Beidahu              | 生态旅游型           | no   | 8000   | 24.0 | 2.0 | 40   | 88    | 1  | -   | -   | 1
chaganhu        | 查干湖镇       | Chaganhu             | 生态旅游型           | no   | 11000  | 23.5 | 2.1 | 27   | 79    | 1  | -   | 1   | 1
erdaobaihe      | 二道白河镇     | Erdaobaihe           | 生态旅游型           | no   | 52000  | 20.5 | 2.3 | 42   | 93    | 2  | 1   | -   | 1
songjianghe     | 松江河镇       | Songjianghe          | 生态旅游型           | no   | 46000  | 21.5 | 2.2 | 37   | 89    | 2  | 1   | -   | 1
jiangnan        | 江南镇         | Jiangnan             | 生态旅游型           | no   | 21000  | 24.5 | 1.9 | 30   | 82    | 1  | -   | 1   | 1
soudengzhan     | 搜登站镇       | Soudengzhan          | 生态旅游型           | no   | 27000  | 24.0 | 1.9 | 36.3 | 85    | 1  | -   | 1   | 1
yingan          | 英安镇         | Ying'an              | 生态旅游型           | no   | 10000  | 27.0 | 1.7 | 25   | 78    | 0  | -   | 0   | 1
jinchuan        | 金川镇         | Jinchuan             | 生态旅游型           | no   | 11000  | 26.0 | 1.8 | 34   | 83    | 1  | -   | 1   | 1
shiwudaogou     | 十五道沟镇     | Shiwudaogou          | 生态旅游型           | no   | 6000   | 28.5 | 1.5 | 48   | 84    | 1  | -   | -   | 1
baicaogou       | 百草沟镇       | Baicaogou            | 生态旅游型           | no   | 13000  | 29.5 | 1.5 | 31   | 80    | 1  | -   | 1   | 1
datun           | 大屯镇         | Datun                | 生态旅游型           | no   | 18000  | 23.0 | 2.0 | 37   | 86    | 1  | -   | 1   | 1
lingxia         | 岭下镇         | Lingxia              | 生态旅游型           | no   | 16000  | 25.5 | 1.8 | 26   | 79    | 1  | -   | 1   | 0
taiping         | 太平镇         | Taiping              | 生态旅游型           | no   | 19000  | 24.0 | 1.9 | 38   | 84    | 1  | -   | 1   | 1
bajilei         | 巴吉垒镇       | Bajilei              | 生态旅游型           | no   | 22000  | 23.5 | 2.0 | 29   | 81    | 1  | -   | 1   | 1
qingling        | 庆岭镇         | Qingling             | 生态旅游型           | no   | 9000   | 26.5 | 1.7 | 33   | 82    | 1  | -   | -   | 1
zuojia          | 左家镇         | Zuojia               | 生态旅游型           | no   | 17000  | 24.5 | 1.9 | 36.4 | 87    | 1  | -   | 1   | 1
xianghai        | 向海镇         | Xianghai             | 生态旅游型           | no   | 12000  | 25.5 | 1.8 | 24   | 76    | 0  | -   | 1   | 1
yehe            | 叶赫镇         | Yehe                 | 历史文化型           | no   | 23000  | 25.0 | 1.9 | 31   | 82    | 1  | -   | 1   | 1
dongshengyong   | 东盛涌镇       | Dongshengyong        | 历史文化型           | no   | 14000  | 30.5 | 1.4 | 39   | 85    | 1  | -   | 1   | 1
huaide          | 怀德镇         | Huaide               | 历史文化型、产业特色型 | no   | 41000  | 23.5 | 2.0 | 35   | 83    | 1  | 1   | -   | 1
wangfu          | 王府镇         | Wangfu               | 历史文化型           | no   | 26000  | 22.0 | 2.1 | 28   | 80    | 1  | -   | 1   | 1
wulajie         | 乌拉街镇       | Wulajie              | 历史文化型           | no   | 39000  | 26.0 | 1.8 | 37   | 86    | 2  | 1   | -   | 1
shancheng       | 山城镇         | Shancheng            | 商贸流通型           | no   | 58000  | 24.5 | 2.0 | 36.6 | 85    | 2  | 1   | -   | 1
wanliang        | 万良镇         | Wanliang             | 商贸流通型           | no   | 27000  | 24.0 | 1.9 | 30   | 81    | 1  | -   | 1   | 1
qinghe          | 清河镇         | Qinghe               | 商贸流通型           | no   | 25000  | 25.5 | 1.8 | 38   | 84    | 1  | -   | 1   | 1
yingchengzi     | 营城子镇       | Yingchengzi          | 商贸流通型           | no   | 21000  | 25.0 | 1.9 | 27   | 80    | 1  | -   | 1   | 1
gujiazi         | 孤家子镇       | Gujiazi              | 商贸流通型           | no   | 30000  | 23.0 | 2.0 | 33   | 83    | 1  | 1   | -   | 1
fulongquan      | 伏龙泉镇       | Fulongquan           | 商贸流通型           | no   | 23000  | 22.5 | 2.1 | 29   | 79    | 1  | -   | 1   | 1
longjia         | 龙嘉镇         | Longjia              | 商贸流通型           | no   | 34000  | 21.5 | 2.2 | 40   | 90    | 1  | 1   | -   | 1
nadanbo         | 那丹伯镇       | Nadanbo              | 商贸流通型           | no   | 17000  | 26.0 | 1.8 | -    | -     | 1  | -   | 1   | 1
gongpengzi      | 弓棚子镇（榆树） | Gongpengzi           | 产业特色型           | no   | 28000  | 24.0 | 1.9 | 26   | 79    | 1  | -   | 1   | 1
qinjiatun       | 秦家屯镇       | Qinjiatun            | 产业特色型           | no   | 20000  | 24.5 | 1.9 | 31   | 82    | 0  | -   | 1   | 1
fushun          | 福顺镇         | Fushun               | 产业特色型           | no   | 16000  | 25.0 | 1.8 | 35   | 84    | 1  | -   | 1   | 1
bonihe          | 波泥河镇       | Bonihe               | 产业特色型           | no   | 22000  | 24.5 | 1.9 | 37   | 86    | 1  | -   | 1   | 1
sanqingshan     | 三青山镇       | Sanqingshan          | 产业特色型           | no   | 12000  | 26.5 | 1.7 | 28   | 80    | 1  | -   | 1   | 1
huangsongdian   | 黄松甸镇       | Huangsongdian        | 产业特色型           | no   | 19000  | 25.5 | 1.8 | 36.9 | 87    | 1  | -   | 1   | 1
liangjiazi      | 两家子镇       | Liangjiazi           | 产业特色型           | no   | 24000  | 23.5 | 2.0 | 30   | 81    | 1  | -   | 0   | 1
luxiang         | 鹿乡镇         | Luxiang              | 产业特色型           | no   | 20000  | 24.0 | 1.9 | 39   | 88    | 1  | -   | 1   | 1
heishui         | 黑水镇         | Heishui              | 产业特色型           | no   | 11000  | 25.0 | 1.9 | 23   | 77    | -  | -   | 1   | 1
wukeshu-zhenlai | 五棵树镇（镇赉） | Wukeshu, Zhenlai     | 产业特色型           | no   | 18000  | 23.5 | 2.0 | 33   | 83    | 1  | -   | 1   | 1
taipingchuan    | 太平川镇       | Taipingchuan         | 交通枢纽型           | no   | 38000  | 24.0 | 1.9 | 34   | 82    | 1  | 1   | -   | 1
yantongshan     | 烟筒山镇       | Yantongshan          | 交通枢纽型           | no   | 42000  | 24.5 | 1.9 | 37   | 85    | 2  | 1   | -   | 1
taolaizhao      | 陶赖昭镇       | Taolaizhao           | 交通枢纽型           | no   | 33000  | 23.5 | 2.0 | 29   | 80.5  | 1  | 0   | -   | 1
anguang         | 安广镇         | Anguang              | 交通枢纽型           | no   | 31000  | 22.5 | 2.1 | 36.7 | 86    | 1  | 1   | -   | 1
sanyuanpu       | 三源浦镇       | Sanyuanpu            | 交通枢纽型           | no   | 22000  | 25.0 | 1.9 | 31   | 82    | 1  | -   | 1   | 1
jingxin         | 敬信镇         | Jingxin              | 边境合作型           | no   | 7000   | 31.0 | 1.4 | 44   | 82    | 1  | -   | -   | 1
chunhua         | 春化镇         | Chunhua              | 边境合作型           | no   | 9000   | 29.5 | 1.5 | 38   | 80    | 1  | -   | -   | 1
taiwang         | 太王镇         | Taiwang              | 边境合作型           | no   | 8000   | 28.5 | 1.6 | 35   | 78    | 0  | -   | -   | 1
malugou         | 马鹿沟镇       | Malugou              | 边境合作型           | no   | 6000   | 30.0 | 1.4 | 42   | 81    | -  | -   | -   | 1
chongshan       | 崇善镇         | Chongshan            | 边境合作型           | no   | 5000   | 31.5 | 1.3 | 50   | 85    | 1  | -   | -   | 1
nanping         | 南坪镇         | Nanping              | 边境合作型           | no   | 6000   | 30.5 | 1.4 | 36   | 79    | 1  | -   | -   | 1
sanhe           | 三合镇         | Sanhe                | 边境合作型           | no   | 8000   | 31.0 | 1.4 | 40   | 83    | 0  | -   | -   | 1
kaishantun      | 开山屯镇       | Kaishantun           | 边境合作型           | no   | 10000  | 30.0 | 1.5 | 33   | 80    | 1  | -   | 1   | 1
yueqing         | 月晴镇         | Yueqing              | 边境合作型           | no   | 7000   | 31.5 | 1.3 | 37   | 82    | 1  | -   | -   | 1
liangshui       | 凉水镇         | Liangshui            | 边境合作型           | no   | 5000   | 32.0 | 1.3 | 46   | 84    | 1  | -   | -   | -
nongan          | 农安镇         | Nong'an              | 三（五）县城镇       | yes  | 158000 | 23.5 | 1.9 | 31   | 84    | 4  | 2   | -   | 1
kaitong         | 开通镇         | Kaitong              | 三（五）县城镇       | yes  | 83000  | 21.5 | 2.1 | 39   | 88    | 2  | 1   | -   | 1
chaoyang        | 朝阳镇         | Chaoyang             | 三（五）县城镇       | yes  | 79000  | 25.0 | 2.0 | 35.5 | 85    | 2  | 1   | -   | 1
wangqing        | 汪清镇         | Wangqing             | 三（五）县城镇       | yes  | 64000  | 25.5 | 1.9 | 44   | 91    | 2  | 1   | -   | 1
"""

# ---------------------------------------------------------------------------
# Geometry.
# ---------------------------------------------------------------------------

# ILLUSTRATIVE central area of Changchun, WGS-84: a hand-drawn outline around
# the built-up area of the central districts (南关, 宽城, 朝阳, 二道, 绿园),
# counter-clockwise from the south-west. It is not a boundary of any
# official central urban area (中心城区) and was not traced from a map.
CHANGCHUN_CENTRAL_AREA = [
    (125.215, 43.830), (125.250, 43.822), (125.285, 43.818), (125.320, 43.822),
    (125.350, 43.826), (125.380, 43.830), (125.405, 43.838), (125.418, 43.850),
    (125.422, 43.868), (125.420, 43.885), (125.412, 43.900), (125.405, 43.915),
    (125.392, 43.925), (125.375, 43.930), (125.358, 43.932), (125.345, 43.940),
    (125.330, 43.946), (125.312, 43.948), (125.298, 43.944), (125.285, 43.934),
    (125.270, 43.928), (125.255, 43.920), (125.240, 43.912), (125.222, 43.906),
    (125.208, 43.898), (125.202, 43.882), (125.203, 43.865), (125.206, 43.848),
]

# ILLUSTRATIVE town centres: an invented outline (km east/north of an
# approximate town centre, counter-clockwise) and invented stops along a few
# streets, spaced so that part of each town lies beyond 300 m of a stop.
TOWN_GEOMETRY = {
    "town-erdaobaihe": {
        "centre": (128.113, 42.408),
        "outline_km": [(-1.3, -0.9), (-0.4, -1.1), (0.6, -1.0), (1.3, -0.6), (1.5, 0.1),
                       (1.1, 0.8), (0.3, 1.0), (-0.5, 0.9), (-1.2, 0.6), (-1.5, -0.1)],
        # Streets: (x0, y0, x1, y1, number of stops), km.
        "streets_km": [(-1.2, -0.5, 1.2, -0.5, 7), (-1.3, 0.2, 1.3, 0.2, 8), (0.0, -0.9, 0.0, 0.8, 4),
                       (-0.9, 0.7, 0.9, 0.7, 5), (0.9, -0.8, 0.9, 0.6, 4)],
    },
    "town-songjianghe": {
        "centre": (127.483, 42.185),
        "outline_km": [(-1.0, -1.2), (0.2, -1.3), (1.1, -0.8), (1.4, 0.2), (1.0, 1.0),
                       (0.0, 1.3), (-0.9, 1.0), (-1.4, 0.2)],
        "streets_km": [(-1.1, -0.9, 1.0, 0.9, 8), (-1.2, 0.4, 0.8, -1.0, 6), (-0.6, 1.0, 1.1, 0.6, 5),
                       (0.3, -1.1, 1.2, -0.2, 4), (-1.2, -0.2, -0.3, 0.9, 4), (0.0, 1.1, 0.0, 0.5, 2)],
    },
}

# ---------------------------------------------------------------------------
# Inputs.
# ---------------------------------------------------------------------------


def read_input(realdata, name):
    path = os.path.join(realdata, name)
    with open(path, "rb") as f:
        data = f.read()
    got = hashlib.sha256(data).hexdigest()
    if got != SHA256[name]:
        sys.exit(f"{path}: sha256 {got}, want {SHA256[name]} (the version SOURCES.md describes)")
    return data


XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_rows(data):
    """The first sheet's rows as {column index: text}; no third-party reader."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(XLSX_NS + "si"):
            shared.append("".join(t.text or "" for t in si.iter(XLSX_NS + "t")))
    rows = []
    sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    for r in sheet.iter(XLSX_NS + "row"):
        row = {}
        for c in r.iter(XLSX_NS + "c"):
            letters = re.match(r"[A-Z]+", c.get("r")).group()
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            v = c.find(XLSX_NS + "v")
            if v is not None:
                row[col - 1] = shared[int(v.text)] if c.get("t") == "s" else v.text
            else:
                inline = c.find(XLSX_NS + "is")
                if inline is not None:
                    row[col - 1] = "".join(t.text or "" for t in inline.iter(XLSX_NS + "t"))
        rows.append(row)
    return rows


def census_units(data):
    """Census figures by division code, for the Jilin rows of the table."""
    rows = xlsx_rows(data)
    header = {v: k for k, v in rows[0].items()}

    def col(name):
        if name not in header:
            sys.exit(f"{CENSUS}: no column {name}")
        return header[name]

    c_code, c_name, c_total = col("区划代码"), col("区县"), col("人口数_合计")
    c_urbanised, c_urban = col("城镇人口"), col("城区人口")
    elderly_cols = [col(f"{s}_{a}") for a in ("60到64岁", "65到69岁", "70到74岁", "75到79岁", "80到84岁", "85岁以上")
                    for s in ("男", "女")]
    c_1_4 = [col("男_1到4岁"), col("女_1到4岁")]
    c_5_9 = [col("男_5到9岁"), col("女_5到9岁")]

    def num(row, c):
        v = row.get(c)
        if v in (None, "", "NA"):
            return None
        return float(v)

    out = {}
    for row in rows[1:]:
        code = row.get(c_code, "")
        if not code.startswith("22"):
            continue
        out[code] = {
            "name": row[c_name],
            "resident": int(num(row, c_total)),
            "urbanised": int(num(row, c_urbanised)),
            "urban": None if num(row, c_urban) is None else int(num(row, c_urban)),
            "elderly": int(sum(num(row, c) for c in elderly_cols)),
            # Ages 3-5 are two of the four years of 1-4 and one of the five of
            # 5-9: an estimate that assumes ages spread evenly within a group.
            "preschool": half_up(0.5 * sum(num(row, c) for c in c_1_4) + 0.2 * sum(num(row, c) for c in c_5_9)),
        }
    return out


def changchun_stops(data):
    """Distinct vertices of the bus lines, in file order, with where each first appears."""
    lines = json.loads(data)
    seen = set()
    stops = []
    for i, line in enumerate(lines):
        for j, (lon, lat) in enumerate(line["coords"]):
            if (lon, lat) in seen:
                continue
            seen.add((lon, lat))
            stops.append((lon, lat, f"line {i} vertex {j}"))
    return len(lines), stops


def atlas_ring(data, code):
    """Outer ring of a cn-atlas prefecture (TopoJSON, quantized arcs)."""
    topo = json.loads(data)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    for g in topo["objects"]["prefectures"]["geometries"]:
        if g["properties"].get("区划码") == code:
            polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
            ring = []
            for i in polys[0][0]:
                a = arcs[i] if i >= 0 else arcs[~i][::-1]
                ring.extend(a if not ring else a[1:])
            return ring
    sys.exit(f"{ATLAS}: no prefecture {code}")


def point_in_ring(x, y, ring):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


# ---------------------------------------------------------------------------
# Building the settlements.
# ---------------------------------------------------------------------------


def half_up(x):
    return int(math.floor(x + 0.5))


VEHICLE_UNITS = {  # coverage/rulesets/jilin-2014.json vehicleClasses
    "LENGTH_UP_TO_5M": 0.5, "LENGTH_5_7M": 0.7, "LENGTH_7_10M": 1.0, "LENGTH_10_13M": 1.3,
    "LENGTH_13_16M": 1.7, "LENGTH_16_18M": 2.0, "LENGTH_OVER_18M": 2.5, "DOUBLE_DECKER": 1.9, "METRO_CAR": 2.5,
}


def fleet_fields(fleet, urban):
    """busFleet and its size in standard units, from units per 10,000 urban residents or a class list."""
    if fleet is None:
        return None, None
    if isinstance(fleet, dict):
        vehicles = [{"vehicleClass": k, "count": n} for k, n in fleet.items()]
        return {"vehicles": vehicles}, sum(VEHICLE_UNITS[k] * n for k, n in fleet.items())
    units = round(fleet * urban / 10000, 1)
    return {"standardUnits": units}, units


def name(zh, en):
    return f"{zh} ({en})"


def put(s, key, value):
    if value is not None:
        s[key] = value


def census_fields(s, c, with_urban):
    if with_urban:
        s["urbanPopulation"] = c["urban"]
    s["residentPopulation"] = c["resident"]
    s["elderlyPopulation"] = c["elderly"]
    s["preschoolAgePopulation"] = c["preschool"]
    s["urbanisedPopulation"] = c["urbanised"]


def education_fields(s, beds, enrol, voc, gen, resident, elderly, kids):
    put(s, "elderlyCareBeds", None if beds is None else half_up(beds * elderly / 1000))
    put(s, "preschoolEnrolment", None if enrol is None else half_up(enrol / 100 * kids))
    if gen is not None:
        g = half_up(gen * resident / 1000)
        put(s, "vocationalSchoolIntake", None if voc is None else half_up(voc * g))
        s["generalHighSchoolIntake"] = g


def transport_fields(s, c, veh, park, fleet, speed, depot, land, road, its):
    vehicles = None if veh is None else half_up(veh * c["resident"] / 1000)
    put(s, "registeredVehicles", vehicles)
    if park is not None and vehicles is not None:
        s["publicParkingSpaces"] = half_up(park * vehicles / 100)
    bus_fleet, units = fleet_fields(fleet, c["urban"])
    put(s, "busFleet", bus_fleet)
    put(s, "averageBusSpeedKmh", speed)
    if depot is not None and units is not None:
        s["busDepotAreaM2"] = half_up(depot * units)
    put(s, "urbanConstructionLandKm2", None if land is None else round(land * c["urban"] / 1e6, 1))
    put(s, "roadHierarchyMeetsStandard", road)
    put(s, "intelligentTrafficSystem", its)


def facilities(**counts):
    f = {k: v for k, v in counts.items() if v is not None}
    return f or None


def check_census_name(code, c, zh_suffixes):
    if not c["name"].endswith(zh_suffixes):
        sys.exit(f"census row {code} is {c['name']}, not a unit of the expected kind")


def build_cities(census):
    out = []
    for sid, code, en, rcc in CITIES:
        c = census[code]
        check_census_name(code, c, ("市",))
        (beds, enrol, voc, gen, mch, lib, cult, mus, veh, park, fleet, speed, depot, land, road,
         its) = CITY_KNOBS[sid]
        # Yanji is administratively a county-level city (the seat of Yanbian
        # prefecture, which is not a city itself).
        kind = "SETTLEMENT_KIND_COUNTY_LEVEL_CITY" if sid == "yanji" else "SETTLEMENT_KIND_CITY"
        s = {"id": sid, "name": name(c["name"], en), "kind": kind, "regionalCentralCity": rcc}
        census_fields(s, c, True)
        put(s, "facilities", facilities(maternalChildHealthHospitals=mch, libraries=lib, culturalCentres=cult,
                                        museums=mus))
        education_fields(s, beds, enrol, voc, gen, c["resident"], c["elderly"], c["preschool"])
        transport_fields(s, c, veh, park, fleet, speed, depot, land, road, its)
        out.append(s)
    return out


def build_county_level_cities(census):
    out = []
    for sid, code, en in COUNTY_LEVEL_CITIES:
        c = census[code]
        check_census_name(code, c, ("市",))
        (beds, enrol, voc, gen, l2, tcm, mch, veh, park, fleet, speed, depot, land, road, its,
         bal) = CLC_KNOBS[sid]
        s = {"id": sid, "name": name(c["name"], en), "kind": "SETTLEMENT_KIND_COUNTY_LEVEL_CITY",
             "regionalCentralCity": False}
        census_fields(s, c, True)
        put(s, "facilities", facilities(level2GeneralHospitals=l2, tcmHospitals=tcm,
                                        maternalChildHealthHospitals=mch))
        education_fields(s, beds, enrol, voc, gen, c["resident"], c["elderly"], c["preschool"])
        transport_fields(s, c, veh, park, fleet, speed, depot, land, road, its)
        put(s, "compulsoryEducationBalanced", bal)
        out.append(s)
    return out


def build_counties(census):
    out = []
    for sid, code, en in COUNTIES:
        c = census[code]
        check_census_name(code, c, ("县",))
        beds, enrol, voc, gen, l2, tcm, veh, park, bal = COUNTY_KNOBS[sid]
        s = {"id": sid, "name": name(c["name"], en), "kind": "SETTLEMENT_KIND_COUNTY"}
        census_fields(s, c, False)
        put(s, "facilities", facilities(level2GeneralHospitals=l2, tcmHospitals=tcm))
        education_fields(s, beds, enrol, voc, gen, c["resident"], c["elderly"], c["preschool"])
        transport_fields(s, c, veh, park, None, None, None, None, None, None)
        put(s, "compulsoryEducationBalanced", bal)
        out.append(s)
    return out


def build_districts(census):
    out = []
    for sid, code, en in DISTRICTS:
        c = census[code]
        check_census_name(code, c, ("区",))
        beds, enrol, voc, gen, bal = DISTRICT_KNOBS[sid]
        s = {"id": sid, "name": name(c["name"], en), "kind": "SETTLEMENT_KIND_DISTRICT"}
        census_fields(s, c, False)
        education_fields(s, beds, enrol, voc, gen, c["resident"], c["elderly"], c["preschool"])
        put(s, "compulsoryEducationBalanced", bal)
        out.append(s)
    return out


def parse_towns():
    lines = [ln for ln in TOWNS.strip().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split("|")]
    rows = []
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.split("|")]
        if len(cells) != len(header):
            sys.exit(f"TOWNS: {len(cells)} cells, want {len(header)}: {ln}")
        rows.append(dict(zip(header, cells)))
    return rows


def opt(v, cast):
    return None if v == "-" else cast(v)


def build_towns():
    out = []
    for t in parse_towns():
        pop = int(t["pop"])
        elderly = half_up(pop * float(t["eld"]) / 100)
        kids = half_up(pop * float(t["pre"]) / 100)
        s = {"id": "town-" + t["slug"], "name": name(t["镇名"], t["pinyin"]), "kind": "SETTLEMENT_KIND_TOWN",
             "countySeat": t["seat"] == "yes", "residentPopulation": pop, "elderlyPopulation": elderly,
             "preschoolAgePopulation": kids}
        put(s, "facilities", facilities(communityHealthCentres=opt(t["chc"], int),
                                        communityHealthStations=opt(t["chs"], int),
                                        townshipHealthCentres=opt(t["thc"], int),
                                        standardKindergartens=opt(t["kg"], int)))
        beds, enrol = opt(t["beds"], float), opt(t["enrol"], float)
        put(s, "elderlyCareBeds", None if beds is None else half_up(beds * elderly / 1000))
        put(s, "preschoolEnrolment", None if enrol is None else half_up(enrol / 100 * kids))
        out.append(s)
    return out


def km_to_lonlat(centre, dx, dy):
    lon0, lat0 = centre
    lat = lat0 + dy / 111.32
    lon = lon0 + dx / (111.32 * math.cos(math.radians(lat0)))
    return round(lon, 6), round(lat, 6)


def town_geometry(spec):
    ring = [km_to_lonlat(spec["centre"], x, y) for x, y in spec["outline_km"]]
    ring.append(ring[0])
    stops = []
    for x0, y0, x1, y1, n in spec["streets_km"]:
        for k in range(n):
            f = k / (n - 1)
            stops.append(km_to_lonlat(spec["centre"], x0 + f * (x1 - x0), y0 + f * (y1 - y0)))
    named = [(lon, lat, f"illustrative stop {i + 1:02d}") for i, (lon, lat) in enumerate(sorted(set(stops)))]
    return [ring], named


def ring_area_sign(ring):
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def segments_cross(p1, p2, p3, p4):
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (v > 0) - (v < 0)
    return (orient(p1, p2, p3) * orient(p1, p2, p4) < 0) and (orient(p3, p4, p1) * orient(p3, p4, p2) < 0)


def check_ring(sid, ring):
    if len(ring) < 4 or ring[0] != ring[-1]:
        sys.exit(f"{sid}: ring not closed")
    if ring_area_sign(ring) <= 0:
        sys.exit(f"{sid}: outer ring is not counter-clockwise")
    n = len(ring) - 1
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]):
                sys.exit(f"{sid}: ring edges {i} and {j} cross")


# ---------------------------------------------------------------------------
# Writing.
# ---------------------------------------------------------------------------

CSV_COLUMNS = [
    "id", "name", "kind", "regionalCentralCity", "countySeat",
    "urbanPopulation", "residentPopulation", "elderlyPopulation", "preschoolAgePopulation", "urbanisedPopulation",
    "elderlyCareBeds", "preschoolEnrolment", "vocationalSchoolIntake", "generalHighSchoolIntake",
    "registeredVehicles", "publicParkingSpaces", "averageBusSpeedKmh", "busDepotAreaM2", "urbanConstructionLandKm2",
    "roadHierarchyMeetsStandard", "intelligentTrafficSystem", "compulsoryEducationBalanced",
    "centralAreaCrs", "busStopsCrs",
    "facilities.level2GeneralHospitals", "facilities.tcmHospitals", "facilities.maternalChildHealthHospitals",
    "facilities.communityHealthCentres", "facilities.communityHealthStations", "facilities.townshipHealthCentres",
    "facilities.standardKindergartens", "facilities.libraries", "facilities.culturalCentres", "facilities.museums",
    "busFleet.standardUnits", "busFleet.vehicles",
]

# Field order of coverage.v1.Settlement, so that every line reads the same way.
FIELD_ORDER = [
    "id", "name", "kind", "regionalCentralCity", "countySeat",
    "urbanPopulation", "residentPopulation", "elderlyPopulation", "preschoolAgePopulation", "urbanisedPopulation",
    "facilities", "elderlyCareBeds", "preschoolEnrolment", "vocationalSchoolIntake", "generalHighSchoolIntake",
    "registeredVehicles", "publicParkingSpaces", "busFleet", "averageBusSpeedKmh", "busDepotAreaM2",
    "urbanConstructionLandKm2", "roadHierarchyMeetsStandard", "intelligentTrafficSystem",
    "compulsoryEducationBalanced", "centralAreaCrs", "busStopsCrs", "centralAreaPolygons", "busStopPositions",
]
FACILITY_ORDER = [
    "level2GeneralHospitals", "tcmHospitals", "maternalChildHealthHospitals", "communityHealthCentres",
    "communityHealthStations", "townshipHealthCentres", "standardKindergartens", "libraries", "culturalCentres",
    "museums",
]


def scalar(v):
    """The same text in the JSONL and the CSV, so that both parse to the same value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return str(v)


def to_json(v):
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + to_json(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(to_json(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return scalar(v)


def ordered(s):
    out = {k: s[k] for k in FIELD_ORDER if k in s}
    if "facilities" in out:
        out["facilities"] = {k: out["facilities"][k] for k in FACILITY_ORDER if k in out["facilities"]}
    unknown = set(s) - set(out)
    if unknown:
        sys.exit(f"{s['id']}: fields without a place in FIELD_ORDER: {sorted(unknown)}")
    return out


def csv_row(s):
    row = []
    for col in CSV_COLUMNS:
        if col == "busFleet.vehicles":
            v = s.get("busFleet", {}).get("vehicles")
            row.append(";".join(f"{g['vehicleClass']}:{g['count']}" for g in v) if v else "")
            continue
        v = s
        for part in col.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        row.append("" if v is None else scalar(v))
    return row


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    realdata = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "realdata")
    census = census_units(read_input(realdata, CENSUS))
    n_lines, cc_stops = changchun_stops(read_input(realdata, BUS))

    # A sanity check, not a datum test: a prefecture outline of a few hundred
    # vertices cannot resolve the few hundred metres between GCJ-02 and WGS-84.
    ring = atlas_ring(read_input(realdata, ATLAS), "220100")
    outside = sum(not point_in_ring(lon, lat, ring) for lon, lat, _ in cc_stops)
    if outside > len(cc_stops) // 100:
        sys.exit(f"{outside} of {len(cc_stops)} Changchun stops fall outside the cn-atlas Changchun outline")

    settlements = (build_cities(census) + build_county_level_cities(census) + build_counties(census)
                   + build_districts(census) + build_towns())
    by_id = {}
    for s in settlements:
        if s["id"] in by_id:
            sys.exit(f"duplicate id {s['id']}")
        by_id[s["id"]] = s
        for sub in ("elderlyPopulation", "preschoolAgePopulation", "urbanisedPopulation"):
            if s.get(sub, 0) > s.get("residentPopulation", math.inf):
                sys.exit(f"{s['id']}: {sub} exceeds residentPopulation")

    areas = {"changchun": [[(lon, lat) for lon, lat in CHANGCHUN_CENTRAL_AREA + CHANGCHUN_CENTRAL_AREA[:1]]]}
    stops = {"changchun": cc_stops}
    crs = {"changchun": ("COORDINATE_SYSTEM_WGS84", "COORDINATE_SYSTEM_GCJ02")}
    for sid, spec in TOWN_GEOMETRY.items():
        areas[sid], stops[sid] = town_geometry(spec)
        crs[sid] = ("COORDINATE_SYSTEM_WGS84", "COORDINATE_SYSTEM_WGS84")
    for sid in areas:
        for r in areas[sid]:
            check_ring(sid, r)
        s = by_id[sid]
        s["centralAreaCrs"], s["busStopsCrs"] = crs[sid]
        s["centralAreaPolygons"] = {"polygons": [{"rings": [{"positions": [{"lon": x, "lat": y} for x, y in r]}
                                                            for r in areas[sid]]}]}
        s["busStopPositions"] = {"positions": [{"lon": x, "lat": y} for x, y, _ in stops[sid]]}

    write(os.path.join(HERE, "settlements.jsonl"), "".join(to_json(ordered(s)) + "\n" for s in settlements))

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s in settlements:
        w.writerow(csv_row(s))
    write(os.path.join(HERE, "settlements.csv"), buf.getvalue())

    features = []
    for sid in areas:
        coords = [[[x, y] for x, y in r] for r in areas[sid]]
        features.append(to_json({"type": "Feature", "properties": {"settlementId": sid},
                                 "geometry": {"type": "Polygon", "coordinates": coords}}))
    write(os.path.join(HERE, "central-areas.geojson"),
          '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n")

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["settlementId", "lon", "lat", "name"])
    for sid in stops:
        for x, y, label in stops[sid]:
            w.writerow([sid, scalar(x), scalar(y), label])
    write(os.path.join(HERE, "bus-stops.csv"), buf.getvalue())

    kinds = {}
    for s in settlements:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    print(f"{len(settlements)} settlements: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    print(f"Changchun: {len(cc_stops)} distinct vertices of {n_lines} bus lines; "
          f"{outside} outside the cn-atlas Changchun outline")
    for sid in TOWN_GEOMETRY:
        print(f"{sid}: {len(stops[sid])} illustrative stops")


if __name__ == "__main__":
    main()
