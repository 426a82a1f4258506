"""COCO, YOLO, VOC and CONLL2003 downloads over the API, read back from the zip or text."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from tests.api.test_projects import create

pytestmark = pytest.mark.core

IMAGE_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/><Label value="Person"/></RectangleLabels>
  <PolygonLabels name="area" toName="image"><Label value="Road"/></PolygonLabels>
</View>
"""
NER_CONFIG = """
<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
</View>
"""
SIZE = {"original_width": 200, "original_height": 100}
PERSON = {
    "from_name": "box",
    "to_name": "image",
    "type": "rectanglelabels",
    **SIZE,
    "value": {"x": 10, "y": 20, "width": 50, "height": 30, "rotation": 0, "rectanglelabels": ["Person"]},
}
ROAD = {
    "from_name": "area",
    "to_name": "image",
    "type": "polygonlabels",
    **SIZE,
    "value": {"points": [[10, 10], [50, 10], [30, 60]], "closed": True, "polygonlabels": ["Road"]},
}


async def image_project(team):
    pid = (await create(team, label_config=IMAGE_CONFIG)).json()["id"]
    tasks = [
        {
            "data": {"image": "https://cdn.example.com/street.jpg"},
            "annotations": [{"result": [PERSON, ROAD]}],
        },
        {"data": {"image": "https://cdn.example.com/unlabeled.jpg"}},
    ]
    response = await team.client.post(f"/api/projects/{pid}/import", json=tasks, headers=team.headers())
    assert response.status_code == 201, response.text
    return pid


async def download(team, pid, export_type):
    response = await team.client.get(
        f"/api/projects/{pid}/export", params={"exportType": export_type}, headers=team.headers()
    )
    assert response.status_code == 200, response.text
    return response


def unzip(response):
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].endswith('.zip"')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return {name: archive.read(name) for name in archive.namelist()}


async def test_formats_of_an_image_project(team):
    pid = await image_project(team)
    formats = (await team.client.get(f"/api/projects/{pid}/export/formats", headers=team.headers())).json()
    disabled = {f["name"]: f["disabled"] for f in formats}
    assert {name: disabled[name] for name in ("COCO", "YOLO", "VOC", "CONLL2003")} == {
        "COCO": False,
        "YOLO": False,
        "VOC": False,
        "CONLL2003": True,
    }
    response = await team.client.get(
        f"/api/projects/{pid}/export?exportType=CONLL2003", headers=team.headers()
    )
    assert response.status_code == 400
    assert "CONLL2003" in response.json()["detail"]


async def test_coco_download(team):
    pid = await image_project(team)
    result = json.loads(unzip(await download(team, pid, "COCO"))["result.json"])
    assert result["images"] == [
        {"width": 200, "height": 100, "id": 0, "file_name": "https://cdn.example.com/street.jpg"}
    ]
    assert result["categories"] == [
        {"id": 0, "name": "Car"},
        {"id": 1, "name": "Person"},
        {"id": 2, "name": "Road"},
    ]
    person, road = result["annotations"]
    assert (person["category_id"], person["bbox"], person["area"]) == (1, [20, 20, 100, 30], 3000)
    assert (road["category_id"], road["segmentation"], road["area"]) == (2, [[20, 10, 100, 10, 60, 60]], 2000)


async def test_coco_with_all_tasks_lists_the_unlabeled_image_too(team):
    pid = await image_project(team)
    response = await team.client.get(
        f"/api/projects/{pid}/export?exportType=COCO&download_all_tasks=true", headers=team.headers()
    )
    images = json.loads(unzip(response)["result.json"])["images"]
    assert [image["file_name"] for image in images] == [
        "https://cdn.example.com/street.jpg",
        "https://cdn.example.com/unlabeled.jpg",
    ]


async def test_yolo_download(team):
    pid = await image_project(team)
    files = unzip(await download(team, pid, "yolo"))
    assert sorted(files) == ["classes.txt", "labels/street.txt", "notes.json"]
    assert files["classes.txt"].decode().splitlines() == ["Car", "Person", "Road"]
    assert files["labels/street.txt"].decode().splitlines() == [
        "1 0.35 0.35 0.5 0.3",
        "2 0.1 0.1 0.5 0.1 0.3 0.6",
    ]


async def test_voc_download(team):
    pid = await image_project(team)
    files = unzip(await download(team, pid, "VOC"))
    assert list(files) == ["Annotations/street.xml"]
    root = ET.fromstring(files["Annotations/street.xml"])
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("200", "100")
    (person,) = root.iter("object")
    corners = [person.findtext(f"bndbox/{key}") for key in ("xmin", "ymin", "xmax", "ymax")]
    assert (person.findtext("name"), corners) == ("Person", ["20", "20", "120", "50"])


async def test_conll_download(team):
    pid = (await create(team, label_config=NER_CONFIG)).json()["id"]
    result = [
        {
            "from_name": "ner",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 10, "text": "John Smith", "labels": ["PER"]},
        },
        {
            "from_name": "ner",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 20, "end": 24, "text": "Acme", "labels": ["ORG"]},
        },
    ]
    tasks = [{"data": {"text": "John Smith works at Acme"}, "annotations": [{"result": result}]}]
    assert (
        await team.client.post(f"/api/projects/{pid}/import", json=tasks, headers=team.headers())
    ).status_code == 201
    response = await download(team, pid, "CONLL2003")
    assert response.headers["content-disposition"].endswith('.conll"')
    assert response.text.split("\n") == [
        "-DOCSTART- -X- O",
        "John -X- _ B-PER",
        "Smith -X- _ I-PER",
        "works -X- _ O",
        "at -X- _ O",
        "Acme -X- _ B-ORG",
        "",
        "",
    ]
    coco = await team.client.get(f"/api/projects/{pid}/export?exportType=COCO", headers=team.headers())
    assert coco.status_code == 400
