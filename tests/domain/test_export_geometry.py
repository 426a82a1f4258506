"""COCO, YOLO, VOC and CONLL2003 writers on small tasks whose output is worked out by hand,
each read back by an independent reader (pycocotools, xml.etree, zipfile).
"""

import io
import json
import tracemalloc
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime

import pytest
from pycocotools import mask
from pycocotools.coco import COCO

from app.domain.errors import Invalid
from app.domain.exports import export_context, export_formats, writer_for
from app.domain.exports.coco import CocoWriter
from app.domain.exports.yolo import YoloWriter
from app.domain.label_config import parse_label_config

IMAGE = export_context(
    parse_label_config(
        """<View><Image name="image" value="$image"/>
        <RectangleLabels name="box" toName="image"><Label value="Car"/><Label value="Person"/></RectangleLabels>
        <PolygonLabels name="area" toName="image"><Label value="Road"/><Label value="Car"/></PolygonLabels>
        </View>"""
    )
)
TEXT = export_context(
    parse_label_config(
        """<View><Text name="text" value="$text"/>
        <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels></View>"""
    )
)


def rect(label, x, y, w, h, size=(200, 100), rotation=0):
    return {
        "from_name": "box",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": size[0],
        "original_height": size[1],
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation, "rectanglelabels": [label]},
    }


def polygon(label, points, size=(200, 100)):
    return {
        "from_name": "area",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": size[0],
        "original_height": size[1],
        "value": {"points": points, "closed": True, "polygonlabels": [label]},
    }


def annotation(*result, cancelled=False):
    return {"id": 1, "completed_by": 1, "was_cancelled": cancelled, "result": list(result)}


# 1: a 200x100 street with a person box and a road triangle; its skip must not count.
# 2: a 400x300 park with a car box and a box of a label the config lacks ("Bike").
# 3: skipped only, so left out.  4: no annotation at all, so an image without regions.
TASKS = [
    {
        "id": 1,
        "data": {"image": "https://cdn.example.com/photos/street.jpg"},
        "annotations": [
            annotation(rect("Person", 10, 20, 50, 30), polygon("Road", [[10, 10], [50, 10], [30, 60]])),
            annotation(rect("Car", 0, 0, 10, 10), cancelled=True),
        ],
    },
    {
        "id": 2,
        "data": {"image": "/data/upload/3/park.png"},
        "annotations": [
            annotation(rect("Car", 25, 50, 25, 10, (400, 300)), rect("Bike", 0, 0, 100, 100, (400, 300)))
        ],
    },
    {
        "id": 3,
        "data": {"image": "/data/upload/3/skipped.png"},
        "annotations": [annotation(cancelled=True)],
    },
    {"id": 4, "data": {"image": "/data/local-files/?d=shots/empty.jpg"}, "annotations": []},
]


def run(kind, context=IMAGE, tasks=TASKS):
    writer = writer_for(kind, context)
    return writer.start() + b"".join(writer.write(t) for t in tasks) + writer.finish()


def unzip(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist()}


def test_formats_follow_the_config():
    def enabled(config):
        context = export_context(parse_label_config(config))
        return {f["name"] for f in export_formats(context) if not f["disabled"]} - {
            "JSON",
            "JSON_MIN",
            "CSV",
            "TSV",
        }

    assert enabled(
        '<View><Image name="i" value="$i"/><RectangleLabels name="r" toName="i"><Label value="a"/>'
        "</RectangleLabels></View>"
    ) == {"COCO", "YOLO", "VOC"}
    assert enabled(
        '<View><Image name="i" value="$i"/><PolygonLabels name="p" toName="i"><Label value="a"/>'
        "</PolygonLabels></View>"
    ) == {"COCO", "YOLO"}
    assert enabled(
        '<View><Image name="i" value="$i"/><Rectangle name="r" toName="i"/>'
        '<Labels name="l" toName="i"><Label value="a"/></Labels></View>'
    ) == {"COCO", "YOLO", "VOC"}
    assert (
        enabled(
            '<View><Image name="i" value="$i"/><KeyPointLabels name="k" toName="i"><Label value="a"/>'
            "</KeyPointLabels></View>"
        )
        == set()
    )
    assert enabled(
        '<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="a"/></Labels></View>'
    ) == {"CONLL2003"}
    formats = export_formats(TEXT)
    assert [f["disabled"] for f in formats] == sorted(f["disabled"] for f in formats)
    assert {f["name"] for f in formats if f["disabled"]} == {"COCO", "YOLO", "VOC"}


def test_unsupported_format_is_refused_with_a_message():
    with pytest.raises(Invalid, match="COCO export does not fit"):
        writer_for("coco", TEXT)
    with pytest.raises(Invalid, match="CONLL2003 export does not fit"):
        writer_for("CONLL2003", IMAGE)


def test_coco_exactly():
    files = unzip(run("COCO"))
    assert list(files) == ["result.json"]
    result = json.loads(files["result.json"])
    assert result["images"] == [
        {"width": 200, "height": 100, "id": 0, "file_name": "https://cdn.example.com/photos/street.jpg"},
        {"width": 400, "height": 300, "id": 1, "file_name": "/data/upload/3/park.png"},
        {"width": None, "height": None, "id": 2, "file_name": "/data/local-files/?d=shots/empty.jpg"},
    ]
    assert result["categories"] == [
        {"id": 0, "name": "Car"},
        {"id": 1, "name": "Person"},
        {"id": 2, "name": "Road"},
        {"id": 3, "name": "Bike"},
    ]
    box = {"segmentation": [], "ignore": 0, "iscrowd": 0}
    assert result["annotations"] == [
        {"id": 0, "image_id": 0, "category_id": 1, "bbox": [20, 20, 100, 30], "area": 3000, **box},
        {
            "id": 1,
            "image_id": 0,
            "category_id": 2,
            "segmentation": [[20, 10, 100, 10, 60, 60]],
            "bbox": [20, 10, 80, 50],
            "area": 2000,
            "ignore": 0,
            "iscrowd": 0,
        },
        {"id": 2, "image_id": 1, "category_id": 0, "bbox": [100, 150, 100, 30], "area": 3000, **box},
        {"id": 3, "image_id": 1, "category_id": 3, "bbox": [0, 0, 400, 300], "area": 120000, **box},
    ]
    assert result["info"]["contributor"] == "Label Studio"


def test_coco_reads_back_with_pycocotools(tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(unzip(run("COCO"))["result.json"])
    coco = COCO(str(path))
    assert coco.getImgIds() == [0, 1, 2]
    assert coco.getCatIds(catNms=["Person"]) == [1]
    assert coco.getAnnIds(imgIds=[0]) == [0, 1]
    assert coco.getAnnIds(imgIds=[2]) == []
    person, road = coco.loadAnns(coco.getAnnIds(imgIds=[0]))
    assert (person["bbox"], person["area"]) == ([20, 20, 100, 30], 3000)
    assert road["area"] == 2000
    assert mask.area(coco.annToRLE(road)) == 2000  # the triangle rasterized
    assert coco.loadAnns(coco.getAnnIds(catIds=[0]))[0]["bbox"] == [100, 150, 100, 30]


def test_coco_rotated_box_becomes_the_upright_box_around_it():
    task = {
        "id": 1,
        "data": {"image": "a.jpg"},
        "annotations": [annotation(rect("Car", 10, 10, 20, 10, (100, 100), rotation=90))],
    }
    (ann,) = json.loads(unzip(run("COCO", tasks=[task]))["result.json"])["annotations"]
    # corners (10,10) (10,30) (0,30) (0,10): turned clockwise around the top-left corner
    assert ann["bbox"] == pytest.approx([0, 10, 10, 20])
    assert ann["area"] == pytest.approx(200)


def test_coco_streams_annotations_and_buffers_only_image_records():
    writer = CocoWriter(IMAGE)
    tracemalloc.start()
    writer.start()
    for i in range(1000):
        points = [[(i * 7 + k * 13) % 97 + k / 7, (i * 11 + k * 17) % 89 + i / 9] for k in range(40)]
        writer.write(
            {"id": i, "data": {"image": f"{i}.jpg"}, "annotations": [annotation(polygon("Road", points))]}
        )
    writer.finish()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert writer.archive.zip.filelist[0].file_size > 1_500_000  # result.json, uncompressed
    assert len(writer.images) < 60_000  # one short record per image
    assert peak < 400_000


def test_yolo_exactly_and_read_back():
    files = unzip(run("YOLO"))
    assert list(files) == [
        "labels/street.txt",
        "labels/park.txt",
        "labels/empty.txt",
        "classes.txt",
        "notes.json",
    ]
    assert files["classes.txt"] == b"Car\nPerson\nRoad\nBike\n"
    assert files["labels/street.txt"] == b"1 0.35 0.35 0.5 0.3\n2 0.1 0.1 0.5 0.1 0.3 0.6\n"
    assert files["labels/park.txt"] == b"0 0.375 0.55 0.25 0.1\n3 0.5 0.5 1.0 1.0\n"
    assert files["labels/empty.txt"] == b""
    notes = json.loads(files["notes.json"])
    assert notes["categories"][3] == {"id": 3, "name": "Bike"}
    classes = files["classes.txt"].decode().split()
    boxes = []
    for line in files["labels/park.txt"].decode().splitlines():
        index, cx, cy, w, h = line.split()
        width, height = float(w) * 400, float(h) * 300
        boxes.append(
            (classes[int(index)], float(cx) * 400 - width / 2, float(cy) * 300 - height / 2, width, height)
        )
    assert [name for name, *_ in boxes] == ["Car", "Bike"]
    assert [number for _, *numbers in boxes for number in numbers] == pytest.approx(
        [100, 150, 100, 30, 0, 0, 400, 300]
    )


def test_yolo_same_image_names_do_not_collide():
    tasks = [
        {"id": 7, "data": {"image": "a/cat.jpg"}, "annotations": [annotation(rect("Car", 0, 0, 50, 50))]},
        {"id": 8, "data": {"image": "b/cat.jpg"}, "annotations": [annotation(rect("Car", 50, 50, 50, 50))]},
    ]
    files = unzip(run("YOLO", tasks=tasks))
    assert files["labels/cat.txt"] == b"0 0.25 0.25 0.5 0.5\n"
    assert files["labels/cat-8.txt"] == b"0 0.75 0.75 0.5 0.5\n"


def test_yolo_entries_leave_as_tasks_arrive():
    writer = YoloWriter(IMAGE, datetime(2026, 1, 2, tzinfo=UTC))
    assert writer.start() == b""
    assert b"labels/street.txt" in writer.write(TASKS[0])
    assert writer.write(TASKS[2]) == b""


def test_voc_rectangles_in_pixels_read_back_with_etree():
    files = unzip(run("VOC"))
    assert list(files) == ["Annotations/street.xml", "Annotations/park.xml"]
    street = ET.fromstring(files["Annotations/street.xml"])
    assert street.findtext("filename") == "street.jpg"
    assert street.findtext("path") == "https://cdn.example.com/photos/street.jpg"
    assert [street.findtext(f"size/{k}") for k in ("width", "height", "depth")] == ["200", "100", "3"]
    assert [o.findtext("name") for o in street.iter("object")] == ["Person"]  # polygons are not VOC

    def boxes(root):
        keys = ("xmin", "ymin", "xmax", "ymax")
        return [
            (o.findtext("name"), *(int(o.findtext(f"bndbox/{k}")) for k in keys)) for o in root.iter("object")
        ]

    assert boxes(street) == [("Person", 20, 20, 120, 50)]
    assert boxes(ET.fromstring(files["Annotations/park.xml"])) == [
        ("Car", 100, 150, 200, 180),
        ("Bike", 0, 0, 400, 300),
    ]


def ner(start, end, label):
    return {
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "labels": [label]},
    }


def test_conll_exactly():
    text = "John  Smith works at Acme Corp ."
    tasks = [
        {
            "id": 1,
            "data": {"text": text},
            "annotations": [
                annotation(ner(21, 30, "ORG"), ner(0, 11, "PER")),
                annotation(ner(0, 4, "PER"), cancelled=True),
                annotation(ner(21, 25, "ORG"), ner(26, 30, "ORG")),
            ],
        },
        {"id": 2, "data": {"text": "Hi there"}, "annotations": []},
        {"id": 3, "data": {"text": "Skipped"}, "annotations": [annotation(cancelled=True)]},
    ]
    assert run("CONLL2003", TEXT, tasks).decode() == (
        "-DOCSTART- -X- O\n"
        "John -X- _ B-PER\nSmith -X- _ I-PER\nworks -X- _ O\nat -X- _ O\n"
        "Acme -X- _ B-ORG\nCorp -X- _ I-ORG\n. -X- _ O\n\n"
        "John -X- _ O\nSmith -X- _ O\nworks -X- _ O\nat -X- _ O\n"
        "Acme -X- _ B-ORG\nCorp -X- _ B-ORG\n. -X- _ O\n\n"
        "Hi -X- _ O\nthere -X- _ O\n\n"
    )


def test_conll_reads_back_as_sentences_of_token_tag_pairs():
    tasks = [
        {
            "id": 1,
            "data": {"text": "Ada met Bob"},
            "annotations": [annotation(ner(8, 11, "PER"), ner(0, 3, "PER"))],
        }
    ]
    lines = run("CONLL2003", TEXT, tasks).decode().split("\n")
    assert lines[0] == "-DOCSTART- -X- O"
    sentences, current = [], []
    for line in lines[1:]:
        if line:
            token, chunk, pos, tag = line.split(" ")
            assert (chunk, pos) == ("-X-", "_")
            current.append((token, tag))
        elif current:
            sentences.append(current)
            current = []
    assert sentences == [[("Ada", "B-PER"), ("met", "O"), ("Bob", "B-PER")]]


def test_a_malformed_image_url_and_an_absurd_image_size_still_export():
    tasks = [
        {
            "id": 3,
            "data": {"image": "http://[::1/x.jpg"},
            "annotations": [annotation(rect("Car", 0, 0, 50, 50))],
        },
        {
            "id": 4,
            "data": {"image": "b/huge.jpg"},
            "annotations": [annotation(rect("Car", 0, 0, 50, 50, size=(1e308, 1e308)))],
        },
    ]
    voc = unzip(run("VOC", tasks=tasks))
    assert list(voc) == ["Annotations/x.xml"]  # an image of unknown size has no pixel boxes to give
    assert unzip(run("YOLO", tasks=tasks))["labels/x.txt"] == b"0 0.25 0.25 0.5 0.5\n"
