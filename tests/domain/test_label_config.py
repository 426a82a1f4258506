"""Label config parsing, result validation, prediction forms and config-change checks (T30, T31, T32)."""

import time
from collections import Counter
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.errors import Invalid, TooLarge
from app.domain.label_config import (
    MAX_REGIONS,
    LabelConfig,
    breaking_changes,
    default_control_weights,
    normalize_prediction_result,
    parse_label_config,
    parsed_label_config,
    result_usage,
    validate_result,
    validate_task_data,
)
from app.domain.label_config.values import PERCENT_TOLERANCE

# The five configs of seeds/002 (a Label Studio tutorial), verbatim.
SENTIMENT = """
    <View>
      <Text name="text" value="$review_text"/>
      <Choices name="sentiment" toName="text" choice="single">
        <Choice value="Positive"/>
        <Choice value="Negative"/>
        <Choice value="Neutral"/>
      </Choices>
    </View>
"""
IMAGE_CLASSIFICATION = """
<View>
  <Image name="image" value="$image_url"/>
  <Choices name="category" toName="image" choice="single">
    <Choice value="Cat"/>
    <Choice value="Dog"/>
    <Choice value="Other"/>
  </Choices>
</View>
"""
DETECTION = """
<View>
  <Image name="image" value="$image_url"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car" background="red"/>
    <Label value="Person" background="blue"/>
    <Label value="Bicycle" background="green"/>
  </RectangleLabels>
</View>
"""
NER = """
<View>
  <Labels name="label" toName="text">
    <Label value="Person" background="#FF0000"/>
    <Label value="Organization" background="#00FF00"/>
    <Label value="Location" background="#0000FF"/>
    <Label value="Date" background="#FFA500"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>
"""
SUMMARY = """
<View>
  <Text name="document" value="$text"/>
  <TextArea name="summary" toName="document"
            placeholder="Write a summary..."
            maxSubmissions="1" rows="4"/>
</View>
"""

# One control of (nearly) every kind, to check each result shape against.
EVERYTHING = """
<View>
  <Image name="image" value="$image"/>
  <Text name="text" value="$text"/>
  <HyperText name="html" value="$html"/>
  <Paragraphs name="dialogue" value="$dialogue"/>
  <Audio name="audio" value="$audio"/>
  <Video name="video" value="$video"/>
  <TimeSeries name="ts" value="$csv"><Channel column="v"/></TimeSeries>
  <List name="items" value="$items"/>
  <Text name="left" value="$left"/>
  <Text name="right" value="$right"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
  <Choices name="topics" toName="text" choice="multiple">
    <View><Choice value="Sport"/><Choice value="Politics" alias="pol"/></View>
  </Choices>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <RectangleLabels name="box" toName="image"><Label value="Car"/><Label value="Person"/></RectangleLabels>
  <Rectangle name="rect" toName="image"/>
  <Labels name="animal" toName="image"><Label value="Cat"/><Label value="Dog"/></Labels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Nose"/></KeyPointLabels>
  <EllipseLabels name="ell" toName="image"><Label value="Eye"/></EllipseLabels>
  <BrushLabels name="brush" toName="image"><Label value="Sky"/></BrushLabels>
  <HyperTextLabels name="htl" toName="html"><Label value="Link"/></HyperTextLabels>
  <ParagraphLabels name="pl" toName="dialogue"><Label value="Greeting"/></ParagraphLabels>
  <Labels name="speech" toName="audio"><Label value="Speech"/></Labels>
  <TimeSeriesLabels name="tsl" toName="ts"><Label value="Up"/></TimeSeriesLabels>
  <Labels name="videolabels" toName="video"><Label value="Ball"/></Labels>
  <VideoRectangle name="vbox" toName="video"/>
  <TimelineLabels name="timeline" toName="video"><Label value="Goal"/></TimelineLabels>
  <TextArea name="summary" toName="text"/>
  <Rating name="stars" toName="text" maxRating="5"/>
  <Number name="amount" toName="text" min="0" max="10"/>
  <DateTime name="when" toName="text"/>
  <Taxonomy name="tax" toName="text">
    <Choice value="Animals"><Choice value="Mammals"/><Choice value="Birds" alias="B"/></Choice>
    <Choice value="Plants"/>
  </Taxonomy>
  <Pairwise name="pw" toName="left,right"/>
  <Ranker name="rank" toName="items"/>
  <Relations><Relation value="knows"/></Relations>
</View>
"""


CONFIG = parse_label_config(EVERYTHING)


def item(from_name: str, to_name: str, type_: object, value: object, **extra: object) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": to_name, "type": type_, "value": value, **extra}


def invalid(call, *args) -> Invalid:
    with pytest.raises(Invalid) as info:
        call(*args)
    return info.value


# --- parsing the seed configs ---------------------------------------------------------------


def test_sentiment_seed_parses():
    config = parse_label_config(SENTIMENT)
    assert config.data_keys == {"review_text"}
    control = config.controls["sentiment"]
    assert (control.tag, control.result_type, control.to_names) == ("Choices", "choices", ("text",))
    assert control.labels == ("Positive", "Negative", "Neutral")
    assert control.choice == "single"
    assert config.objects["text"].data_key == "review_text"


def test_image_classification_seed_parses():
    config = parse_label_config(IMAGE_CLASSIFICATION)
    assert config.data_keys == {"image_url"}
    assert config.objects["image"].tag == "Image"
    assert config.controls["category"].labels == ("Cat", "Dog", "Other")


def test_detection_seed_parses_with_label_attributes():
    config = parse_label_config(DETECTION)
    control = config.controls["label"]
    assert control.result_type == "rectanglelabels"
    assert control.labels == ("Car", "Person", "Bicycle")
    assert control.label_attrs["Car"]["background"] == "red"
    assert control.choice == "single"


def test_ner_seed_parses_when_the_control_comes_before_its_object():
    config = parse_label_config(NER)
    assert config.data_keys == {"text"}
    assert config.controls["label"].labels == ("Person", "Organization", "Location", "Date")
    assert config.controls["label"].result_type == "labels"


def test_summary_seed_parses():
    config = parse_label_config(SUMMARY)
    assert config.data_keys == {"text"}
    control = config.controls["summary"]
    assert (control.tag, control.to_names, control.labels, control.choice) == (
        "TextArea",
        ("document",),
        (),
        "",
    )
    assert control.attr("rows") == "4"


def test_default_config_is_valid_and_empty():
    config = parse_label_config("<View></View>")
    assert (dict(config.objects), dict(config.controls), config.data_keys) == ({}, {}, frozenset())


def test_everything_parses():
    assert len(CONFIG.controls) == 24
    assert CONFIG.relation_labels == {"knows"}
    assert CONFIG.controls["topics"].labels == ("Sport", "Politics")
    assert CONFIG.controls["topics"].aliases == {"pol": "Politics"}
    assert CONFIG.controls["tax"].labels == ("Animals", "Mammals", "Birds", "Plants")
    assert CONFIG.controls["tax"].taxonomy == {
        ("Animals",),
        ("Animals", "Mammals"),
        ("Animals", "Birds"),
        ("Plants",),
    }
    assert CONFIG.controls["pw"].to_names == ("left", "right")


def test_tag_and_attribute_names_ignore_case():
    config = parse_label_config(
        '<view><text name="t" value="$x"/><CHOICES name="c" toname="t"><choice value="A"/></CHOICES></view>'
    )
    assert config.objects["t"].tag == "Text"
    assert config.controls["c"].tag == "Choices"
    assert config.controls["c"].to_names == ("t",)
    assert config.controls["c"].labels == ("A",)


def test_data_keys_take_the_top_level_key_and_literals_read_nothing():
    config = parse_label_config(
        '<View><Text name="a" value="$meta.title"/><Image name="b" value="$pics[0]"/>'
        '<Header value="$heading"/><Text name="c" value="Static words"/></View>'
    )
    assert config.data_keys == {"meta", "pics"}
    assert config.objects["c"].data_key is None


def test_xml_declaration_after_blank_lines_is_accepted():
    config = parse_label_config(
        '\n\n<?xml version="1.0" encoding="utf-8"?>\n<View><Text name="t" value="$t"/></View>'
    )
    assert config.data_keys == {"t"}


def test_choice_modes():
    def mode(attr: str) -> str:
        xml = f'<View><Text name="t" value="$t"/><Choices name="c" toName="t" {attr}><Choice value="A"/></Choices></View>'
        return parse_label_config(xml).controls["c"].choice

    assert [mode(""), mode('choice="single-radio"'), mode('choice="multiple"')] == [
        "single",
        "single",
        "multiple",
    ]


def test_filter_may_point_at_a_control_and_layout_may_sit_inside_controls():
    xml = """<View><Filter name="f" toName="ner"/><Collapse><Panel value="p"><Text name="t" value="$t"/></Panel></Collapse>
      <Labels name="ner" toName="t"><View><Label value="A"/></View></Labels><Style>.x { color: red }</Style></View>"""
    assert parse_label_config(xml).controls["ner"].labels == ("A",)


# --- refusals ---------------------------------------------------------------------------------

TEXT = '<Text name="text" value="$text"/>'


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<View><Text></View>", "not well-formed XML: mismatched tag at line 1, column 15"),
        ("<View>\n  <Text name='a' value='$a'>\n</View>", "mismatched tag at line 3, column 3"),
        ("   ", "the label config is empty"),
        ('<Text name="t" value="$t"/>', "the root element must be <View>, not <Text>"),
        (
            f'<View>{TEXT}<Text name="text" value="$b"/></View>',
            "name 'text' is already used by View/Text[@name='text']",
        ),
        (
            f'<View>{TEXT}<Choices toName="text"><Choice value="A"/></Choices></View>',
            "<Choices> needs a name attribute",
        ),
        (
            f'<View>{TEXT}<Choices name="c"><Choice value="A"/></Choices></View>',
            "<Choices> needs a toName attribute",
        ),
        (
            f'<View>{TEXT}<Choices name="c" toName="txt"/></View>',
            "toName 'txt' of control 'c' names no object tag (objects: text)",
        ),
        (f'<View>{TEXT}<Choices name="c" toName="text,"/></View>', "<Choices> needs a toName attribute"),
        (
            '<View><Text name="t"/></View>',
            '<Text> needs a value attribute naming the task data it shows, e.g. value="$text"',
        ),
        ('<View><Image value="$img"/></View>', "<Image> needs a name attribute"),
        ('<View><Text name="t" value="$"/></View>', "value '$' names no task data key"),
        (
            f'<View>{TEXT}<Choises name="c" toName="text"/></View>',
            "unknown tag <Choises> (did you mean <Choices>?)",
        ),
        ("<View><Blink/></View>", "View/Blink (line 1): unknown tag <Blink>"),
        (f'<View>{TEXT}<Label value="A"/></View>', "<Label> must be inside <Labels>"),
        (
            f'<View>{TEXT}<Choices name="c" toName="text"><Label value="A"/></Choices></View>',
            "<Label> must be inside",
        ),
        (
            f'<View>{TEXT}<Labels name="l" toName="text"><Choices name="c" toName="text"/></Labels></View>',
            "<Choices> cannot be inside <Labels>",
        ),
        (
            f'<View>{TEXT}<Choices name="c" toName="text" choice="some"/></View>',
            "choice must be single, single-radio or multiple, not 'some'",
        ),
        (
            f'<View>{TEXT}<Rating name="r" toName="text" maxRating="five"/></View>',
            "attribute maxRating must be a number, not 'five'",
        ),
        (
            f'<View>{TEXT}<Number name="n" toName="text" min="nan"/></View>',
            "attribute min must be a number, not 'nan'",
        ),
        (
            f'<View>{TEXT}<Labels name="l" toName="text"><Label value="A"/><Label value="A"/></Labels></View>',
            "label 'A' appears twice in control 'l'",
        ),
        (
            f'<View>{TEXT}<Labels name="l" toName="text"><Label background="red"/></Labels></View>',
            "<Label> in control 'l' needs a value attribute",
        ),
        (
            '<View><Filter name="f" toName="nothing"/></View>',
            "toName 'nothing' of <Filter> names no control or object tag",
        ),
    ],
)
def test_config_refusals_name_what_is_wrong(xml, message):
    error = invalid(parse_label_config, xml)
    assert message in error.message
    assert error.field == "label_config"


def test_refusals_name_the_element_path_and_line():
    xml = f'<View>\n  {TEXT}\n  <View>\n    <Choices name="c" toName="nope"/>\n  </View>\n</View>'
    message = invalid(parse_label_config, xml).message
    assert message.startswith("View/View/Choices[@name='c'] (line 4): toName 'nope'")


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<View><script>alert(1)</script></View>", "<script> elements are not allowed"),
        ("<View><SCRIPT/></View>", "<script> elements are not allowed"),
        ('<View onclick="alert(1)"/>', "attribute 'onclick' is not allowed"),
        ('<View><Header value="x" onMouseOver="alert(1)"/></View>', "attribute 'onMouseOver' is not allowed"),
        ('<View><Header value="x" hx-get="/api/x"/></View>', "attribute 'hx-get' is not allowed"),
        (
            '<View><Image name="i" value="javascript:alert(1)"/></View>',
            "attribute 'value' holds a script URL",
        ),
        ('<View><Header value="java&#10;script:alert(1)"/></View>', "attribute 'value' holds a script URL"),
        (
            '<View><Header value="x" style="background: url(JavaScript:alert(1))"/></View>',
            "attribute 'style' holds",
        ),
        (
            "<View><Style>.x { background: url(javascript:alert(1)) }</Style></View>",
            "text holds a script URL",
        ),
        ("<View><Style>&lt;/style&gt;&lt;img src=x&gt;</Style></View>", "<Style> may hold CSS only"),
    ],
)
def test_script_in_a_config_is_refused(xml, message):
    assert message in invalid(parse_label_config, xml).message


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Header value="&lol9;"/></View>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Header value="&xxe;"/></View>"""
EXTERNAL_DTD = '<!DOCTYPE View SYSTEM "http://127.0.0.1:9/evil.dtd"><View/>'
PARAMETER_ENTITY = '<!DOCTYPE View [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><View/>'


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY])
def test_doctype_and_entities_are_refused_quickly(xml):
    started = time.perf_counter()
    error = invalid(parse_label_config, xml)
    assert time.perf_counter() - started < 1
    assert error.message == "DOCTYPE/entities are not allowed in the label config"


def test_undeclared_entity_is_malformed():
    assert "undefined entity" in invalid(parse_label_config, '<View><Header value="&xxe;"/></View>').message


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<View>" + "<View>" * 1000 + "</View>" * 1000 + "</View>", "nests elements more than 100 deep"),
        ("<View>" + '<Header value="x"/>' * 50_000 + "</View>", "has more than 10,000 elements"),
    ],
)
def test_huge_or_deep_configs_are_refused_quickly(xml, message):
    started = time.perf_counter()
    assert message in invalid(parse_label_config, xml).message
    assert time.perf_counter() - started < 1


def test_a_config_over_one_megabyte_is_too_large():
    xml = "<View>" + "<!--" + "x" * 1_000_000 + "--></View>"
    with pytest.raises(TooLarge, match="longer than 1,000,000 characters"):
        parse_label_config(xml)


def test_a_config_that_is_not_a_string_is_refused():
    assert "must be a string" in invalid(parse_label_config, b"<View/>").message


# --- task data --------------------------------------------------------------------------------


def test_task_data_with_every_key_passes():
    validate_task_data(parse_label_config(SENTIMENT), {"review_text": "Great", "extra": 1})


def test_task_data_missing_a_key_names_it():
    config = parse_label_config(DETECTION)
    error = invalid(validate_task_data, config, {"image": "x.png"})
    assert error.field == "data"
    assert (
        error.message
        == "task data lacks 'image_url' (read by <Image name=\"image\">); data keys present: image"
    )


def test_task_data_must_be_an_object():
    assert invalid(validate_task_data, parse_label_config(SENTIMENT), ["x"]).field == "data"


# --- results ----------------------------------------------------------------------------------

R = {"x": 1, "y": 2, "width": 3, "height": 4}
XPATH = {"start": "/p[1]/text()[1]", "end": "/p[1]/text()[1]", "startOffset": 0, "endOffset": 5}


def region(from_name: str, type_: object, value: object, **extra: object) -> dict[str, Any]:
    """A result item for a control of EVERYTHING, pointed at that control's object(s)."""
    return item(from_name, ",".join(CONFIG.controls[from_name].to_names), type_, value, **extra)


# fmt: off
VALID: list[tuple[str, str, object]] = [
    ("sentiment", "choices", {"choices": ["Positive"]}),
    ("topics", "choices", {"choices": ["Sport", "pol"]}),
    ("ner", "labels", {"start": 0, "end": 4, "text": "John", "labels": ["PER"]}),
    ("box", "rectanglelabels", {"x": 10, "y": 20.5, "width": 30, "height": 79.5, "rotation": 0, "rectanglelabels": ["Car"]}),
    ("box", "rectanglelabels", {"x": 0, "y": 0, "width": 100.0000001, "height": 100, "rectanglelabels": ["Car"]}),
    ("rect", "rectangle", R),
    ("animal", "rectanglelabels", {**R, "rectanglelabels": ["Dog"]}),
    ("poly", "polygonlabels", {"points": [[10, 10], [50, 10], [30, 60]], "closed": True, "polygonlabels": ["Road"]}),
    ("kp", "keypointlabels", {"x": 12.5, "y": 40.1, "width": 0.5, "keypointlabels": ["Nose"]}),
    ("ell", "ellipselabels", {"x": 50, "y": 50, "radiusX": 10, "radiusY": 5, "rotation": 45, "ellipselabels": ["Eye"]}),
    ("brush", "brushlabels", {"format": "rle", "rle": [0, 1, 2], "brushlabels": ["Sky"]}),
    ("htl", "hypertextlabels", {**XPATH, "hypertextlabels": ["Link"]}),
    ("pl", "paragraphlabels", {"start": "0", "end": "1", "startOffset": 3, "endOffset": 1, "paragraphlabels": ["Greeting"]}),
    ("speech", "labels", {"start": 1.2, "end": 3.4, "channel": 0, "labels": ["Speech"]}),
    ("tsl", "timeserieslabels", {"start": "2024-01-01", "end": "2024-01-02", "timeserieslabels": ["Up"]}),
    ("vbox", "videorectangle", {"duration": 3, "sequence": [{"frame": 1, **R, "enabled": True}], "labels": ["Ball"]}),
    ("timeline", "timelinelabels", {"ranges": [{"start": 1, "end": 5}], "timelinelabels": ["Goal"]}),
    ("summary", "textarea", {"text": ["A summary", "second line"]}),
    ("summary", "textarea", {"text": "a plain string"}),
    ("stars", "rating", {"rating": 5}),
    ("amount", "number", {"number": 3.5}),
    ("when", "datetime", {"datetime": "2024-01-02T10:00"}),
    ("tax", "taxonomy", {"taxonomy": [["Animals", "Mammals"], ["Animals", "B"], ["Plants"]]}),
    ("pw", "pairwise", {"selected": "left"}),
    ("rank", "ranker", {"ranker": {"rank": ["item-1", "item-2"]}}),
]
# fmt: on
VALID_ITEMS = [region(*case) for case in VALID]


@pytest.mark.parametrize(("from_name", "type_", "value"), VALID, ids=[f"{c[0]}-{c[1]}" for c in VALID])
def test_each_result_type_validates(from_name, type_, value):
    validate_result(CONFIG, [region(from_name, type_, value)])


def test_split_labels_item_needs_no_geometry_of_its_own():
    validate_result(
        CONFIG,
        [region("rect", "rectangle", R, id="r1"), region("animal", "labels", {"labels": ["Cat"]}, id="r1")],
    )


def test_relations_and_per_region_items_validate():
    validate_result(
        CONFIG,
        [
            region("ner", "labels", {"start": 0, "end": 4, "labels": ["PER"]}, id="a", origin="manual"),
            region(
                "ner", "labels", {"start": 5, "end": 9, "labels": ["ORG"]}, id="b", meta={"text": ["note"]}
            ),
            region("sentiment", "choices", {"start": 0, "end": 4, "choices": ["Neutral"]}, id="a"),
            {"from_id": "a", "to_id": "b", "type": "relation", "direction": "right", "labels": ["knows"]},
            {"from_id": "b", "to_id": "a", "type": "relation", "direction": "bi"},
        ],
    )


def test_empty_result_is_valid_here():
    validate_result(CONFIG, [])


def test_unknown_keys_are_kept():
    kept = region("sentiment", "choices", {"choices": ["Positive"], "future": 1}, id="x", extra={"y": 2})
    result = normalize_prediction_result(CONFIG, [kept])
    assert result[0]["extra"] == {"y": 2}
    assert result[0]["value"]["future"] == 1


CHOICE = {"choices": ["Positive"]}
# fmt: off
INVALID: list[tuple[str, object, object, str]] = [
    ("sentiment", "choices", {"choices": ["Maybe"]}, "result[0].value.choices: 'Maybe' is not a choice of control 'sentiment' (Positive, Negative, Neutral)"),
    ("sentiment", "choices", {"choices": ["Positive", "Negative"]}, "allows one label per item (choice=\"single\"), got 2"),
    ("sentiment", "choices", {"choices": []}, "result[0].value.choices: must name at least one label"),
    ("sentiment", "choices", {"choices": "Positive"}, "result[0].value.choices: must be a list of strings"),
    ("sentiment", "choices", {"labels": ["Positive"]}, "result[0].value: a 'choices' value needs the key 'choices'"),
    ("sentiment", "labels", {"labels": ["Positive"]}, "result[0].type: 'labels' does not fit control 'sentiment' (<Choices>), expected 'choices'"),
    ("sentiment", ["choices"], CHOICE, "result[0].type: ['choices'] does not fit"),
    ("sentiment", "choices", ["Positive"], "result[0].value: must be an object"),
    ("ner", "labels", {"start": 0, "end": 4, "labels": ["LOC"]}, "'LOC' is not a label of control 'ner' (PER, ORG)"),
    ("ner", "labels", {"start": 5, "end": 4, "labels": ["PER"]}, "result[0].value.end: 4 is before start 5"),
    ("ner", "labels", {"start": -1, "end": 4, "labels": ["PER"]}, "result[0].value.start: -1 must be >= 0"),
    ("ner", "labels", {"labels": ["PER"]}, "a 'labels' value needs the key 'start'"),
    ("ner", "labels", {"start": [0], "end": 4, "labels": ["PER"]}, "value.start: must be a number or a string"),
    ("box", "rectanglelabels", {**R, "x": 101, "rectanglelabels": ["Car"]}, "result[0].value.x: 101 is outside 0..100"),
    ("box", "rectanglelabels", {**R, "y": -0.5, "rectanglelabels": ["Car"]}, "result[0].value.y: -0.5 is outside 0..100"),
    ("box", "rectanglelabels", {**R, "width": "9", "rectanglelabels": ["Car"]}, "result[0].value.width: must be a number"),
    ("box", "rectanglelabels", {**R, "width": float("nan"), "rectanglelabels": ["Car"]}, "value.width: must be a number"),
    ("box", "rectanglelabels", {"x": 1, "y": 1, "width": 1, "rectanglelabels": ["Car"]}, "needs the key 'height'"),
    ("box", "rectanglelabels", {**R, "rotation": "x", "rectanglelabels": ["Car"]}, "value.rotation: must be a number"),
    ("box", "rectanglelabels", {**R, "rectanglelabels": ["Car", "Person"]}, "allows one label per item"),
    ("rect", "rectanglelabels", {**R, "rectanglelabels": ["Car"]}, "expected 'rectangle'"),
    ("animal", "polygonlabels", {"points": [[1, 1]], "polygonlabels": ["Cat"]}, "expected 'labels' or 'rectanglelabels'"),
    ("poly", "polygonlabels", {"points": [[10, 10], [50, 120]], "polygonlabels": ["Road"]}, "result[0].value.points[1][1]: 120 is outside 0..100"),
    ("poly", "polygonlabels", {"points": [[10, 10, 3]], "polygonlabels": ["Road"]}, "value.points[0]: must be an [x, y] pair"),
    ("poly", "polygonlabels", {"points": "10,10", "polygonlabels": ["Road"]}, "value.points: must be a list of [x, y] points"),
    ("kp", "keypointlabels", {"x": 1, "keypointlabels": ["Nose"]}, "needs the key 'y'"),
    ("ell", "ellipselabels", {**R, "radiusX": 200, "radiusY": 1, "ellipselabels": ["Eye"]}, "value.radiusX: 200 is outside"),
    ("brush", "brushlabels", {"format": "rle", "rle": [0, "1"], "brushlabels": ["Sky"]}, "value.rle: must be a list of whole numbers"),
    ("htl", "hypertextlabels", {**XPATH, "startOffset": -1, "hypertextlabels": ["Link"]}, "value.startOffset: must be a whole number >= 0"),
    ("htl", "hypertextlabels", {"start": "/p", "end": "/p", "hypertextlabels": ["Link"]}, "needs the key 'startOffset'"),
    ("vbox", "videorectangle", {"sequence": [{"frame": 1}], "labels": ["Goal!"]}, "'Goal!' is not a label of control 'vbox'"),
    ("vbox", "videorectangle", {"sequence": {"frame": 1}}, "value.sequence: must be a list of objects"),
    ("timeline", "timelinelabels", {"ranges": [{"start": 5, "end": 1}], "timelinelabels": ["Goal"]}, "value.ranges[0].end: 1 is before start 5"),
    ("summary", "textarea", {"text": [1]}, "result[0].value.text: must be a list of strings"),
    ("stars", "rating", {"rating": 6}, "value.rating: 6 is above maxRating 5 of control 'stars'"),
    ("stars", "rating", {"rating": 2.5}, "value.rating: must be a whole number >= 0"),
    ("stars", "rating", {"rating": True}, "value.rating: must be a whole number >= 0"),
    ("amount", "number", {"number": 11}, "value.number: 11 is above max 10 of control 'amount'"),
    ("amount", "number", {"number": -1}, "value.number: -1 is below min 0"),
    ("when", "datetime", {"datetime": 20240102}, "value.datetime: must be a string"),
    ("tax", "taxonomy", {"taxonomy": [["Animals", "Fish"]]}, "result[0].value.taxonomy[0]: Animals / Fish is not a path of taxonomy 'tax'"),
    ("tax", "taxonomy", {"taxonomy": [["Mammals"]]}, "Mammals is not a path of taxonomy 'tax'"),
    ("tax", "taxonomy", {"taxonomy": ["Animals"]}, "value.taxonomy[0]: must be a list of strings"),
    ("pw", "pairwise", {"selected": 1}, "value.selected: must be a string"),
    ("rank", "ranker", {"ranker": ["a"]}, "value.ranker: must be an object mapping each bucket"),
]
INVALID_ITEMS = [(region(*case[:3]), case[3]) for case in INVALID] + [
    (item("nope", "text", "choices", CHOICE), "result[0].from_name: 'nope' is not a control of this config"),
    ({"to_name": "text", "type": "choices", "value": {}}, "result[0].from_name: must name the control"),
    (item("sentiment", "image", "choices", CHOICE), "to_name: 'image' is not an object of control 'sentiment' (text)"),
    ({"from_name": "sentiment", "type": "choices", "value": {}}, "result[0].to_name: must name the object tag"),
    (item("pw", "left,middle", "pairwise", {"selected": "left"}), "'middle' is not an object of control 'pw' (left, right)"),
    (item("sentiment", "text", None, CHOICE), "result[0].type: None does not fit"),
    ({"from_name": "sentiment", "to_name": "text", "value": {}}, "result[0]: 'type' is missing; control 'sentiment' expects"),
]
# fmt: on


@pytest.mark.parametrize(("bad", "message"), INVALID_ITEMS, ids=[m for _, m in INVALID_ITEMS])
def test_results_not_matching_the_config_are_refused(bad, message):
    error = invalid(validate_result, CONFIG, [region("sentiment", "choices", {"choices": ["Neutral"]}), bad])
    assert message.replace("result[0]", "result[1]") in error.message
    assert error.field == "result"


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        ({"to_id": "a"}, "result[1]: a relation needs 'from_id'"),
        ({"from_id": "a", "to_id": "zz"}, "result[1].to_id: 'zz' is not the id of a region in this result"),
        ({"from_id": ["a"], "to_id": "a"}, "result[1].from_id: '['a']' is not the id"),
        (
            {"from_id": "a", "to_id": "a", "direction": "up"},
            "result[1].direction: must be one of right, left, bi",
        ),
        (
            {"from_id": "a", "to_id": "a", "labels": ["hates"]},
            "'hates' is not a relation label of this config (knows)",
        ),
        ({"from_id": "a", "to_id": "a", "labels": "knows"}, "result[1].labels: must be a list of strings"),
    ],
)
def test_bad_relations_are_refused(relation, message):
    span = region("ner", "labels", {"start": 0, "end": 1, "labels": ["PER"]}, id="a")
    assert message in invalid(validate_result, CONFIG, [span, {"type": "relation", **relation}]).message


def test_result_shape_and_region_limit():
    assert (
        invalid(validate_result, CONFIG, {"choices": []}).message == "result must be a list of region objects"
    )
    assert invalid(validate_result, CONFIG, ["x"]).message == "result[0]: must be an object"
    choice = region("sentiment", "choices", CHOICE)
    validate_result(CONFIG, [choice] * MAX_REGIONS)
    error = invalid(validate_result, CONFIG, [choice] * (MAX_REGIONS + 1))
    assert error.message == "result has 10,001 regions; at most 10,000 are allowed"


def test_dynamic_choices_accept_labels_from_task_data():
    xml = '<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>'
    validate_result(parse_label_config(xml), [item("c", "t", "choices", {"choices": ["anything"]})])


def test_without_a_relations_tag_relations_may_not_carry_labels():
    config = parse_label_config(NER)
    spans = [item("label", "text", "labels", {"start": 0, "end": 1, "labels": ["Date"]}, id=7)]
    validate_result(config, [*spans, {"type": "relation", "from_id": 7, "to_id": 7}])
    relation = {"type": "relation", "from_id": 7, "to_id": 7, "labels": ["x"]}
    message = invalid(validate_result, config, [*spans, relation]).message
    assert "'x' is not a relation label of this config (none)" in message


# --- predictions --------------------------------------------------------------------------------


def test_prediction_label_becomes_a_choices_item():
    assert normalize_prediction_result(parse_label_config(SENTIMENT), "Positive") == [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]


def test_prediction_value_dict_becomes_an_item_of_the_control_it_names():
    config = parse_label_config(DETECTION)
    value = {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Car"]}
    assert normalize_prediction_result(config, value) == [
        {"from_name": "label", "to_name": "image", "type": "rectanglelabels", "value": value}
    ]


def test_prediction_value_dict_falls_back_to_the_answer_key():
    result = normalize_prediction_result(parse_label_config(SUMMARY), {"text": ["short"]})
    assert result == [
        {"from_name": "summary", "to_name": "document", "type": "textarea", "value": {"text": ["short"]}}
    ]


def test_prediction_full_item_and_list_pass_through():
    config = parse_label_config(SENTIMENT)
    full = item("sentiment", "text", "choices", {"choices": ["Negative"]}, score=0.9)
    assert normalize_prediction_result(config, full) == [full]
    assert normalize_prediction_result(config, [full, full]) == [full, full]


def test_prediction_number_goes_to_a_rating_when_there_are_no_choices():
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Rating name="r" toName="t" maxRating="10"/></View>'
    )
    assert normalize_prediction_result(config, 7)[0]["value"] == {"rating": 7}
    assert normalize_prediction_result(config, "7")[0]["value"] == {"rating": 7}
    assert (
        "'seven' is not a valid rating for control 'r'"
        in invalid(normalize_prediction_result, config, "seven").message
    )


@pytest.mark.parametrize(
    ("config", "result", "message"),
    [
        (SENTIMENT, "Maybe", "'Maybe' is not a choice of control 'sentiment'"),
        (SENTIMENT, True, "must be a list of regions, a value object or a label"),
        (SENTIMENT, None, "must be a list of regions, a value object or a label"),
        (
            SENTIMENT,
            {"labels": ["Positive"]},
            "prediction value has no key naming a control type of this config (choices)",
        ),
        (DETECTION, "Car", "the config has no control that takes one"),
        (SENTIMENT, [{"from_name": "x"}], "result[0].from_name: 'x' is not a control"),
    ],
)
def test_bad_predictions_are_refused(config, result, message):
    error = invalid(normalize_prediction_result, parse_label_config(config), result)
    assert message in error.message
    assert error.field == "result"


# --- derived project fields ------------------------------------------------------------------------


def test_parsed_label_config_has_label_studio_shape():
    assert parsed_label_config(parse_label_config(DETECTION)) == {
        "label": {
            "type": "RectangleLabels",
            "to_name": ["image"],
            "inputs": [{"type": "Image", "valueType": None, "value": "image_url"}],
            "labels": ["Car", "Person", "Bicycle"],
            "labels_attrs": {
                "Car": {"value": "Car", "background": "red"},
                "Person": {"value": "Person", "background": "blue"},
                "Bicycle": {"value": "Bicycle", "background": "green"},
            },
        }
    }


def test_parsed_label_config_lists_every_input_with_its_value_type():
    config = parse_label_config(
        '<View><Text name="a" value="$a" valueType="url"/><Text name="b" value="$b"/><Pairwise name="p" toName="a,b"/></View>'
    )
    assert parsed_label_config(config)["p"]["inputs"] == [
        {"type": "Text", "valueType": "url", "value": "a"},
        {"type": "Text", "valueType": None, "value": "b"},
    ]


def test_default_control_weights_are_all_one():
    config = parse_label_config(SENTIMENT.replace("</View>", '<TextArea name="note" toName="text"/></View>'))
    assert default_control_weights(config) == {
        "sentiment": {
            "overall": 1.0,
            "type": "Choices",
            "labels": {"Positive": 1.0, "Negative": 1.0, "Neutral": 1.0},
        },
        "note": {"overall": 1.0, "type": "TextArea", "labels": {}},
    }


# --- config changes versus stored annotations (T31) --------------------------------------------------


def box(label: str) -> dict[str, Any]:
    return item(
        "label",
        "image",
        "rectanglelabels",
        {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": [label]},
    )


def test_usage_counts_annotations_not_regions():
    usage = result_usage([[box("Car"), box("Car"), box("Person")], [box("Car")], []])
    assert usage == Counter(
        {
            ("label", "rectanglelabels", ""): 2,
            ("label", "rectanglelabels", "Car"): 2,
            ("label", "rectanglelabels", "Person"): 1,
        }
    )


def test_usage_reads_stored_junk_without_failing():
    junk: list[list[Any]] = [
        [
            "x",
            {"type": 3},
            {"type": "choices", "from_name": None},
            {"type": "choices", "from_name": "c", "value": []},
        ]
    ]
    assert result_usage(junk) == Counter({("c", "choices", ""): 1})
    taxonomy = [[item("tax", "text", "taxonomy", {"taxonomy": [["Animals", "Birds"], "bad"]})]]
    assert result_usage(taxonomy)[("tax", "taxonomy", "Animals / Birds")] == 1


def test_removing_a_used_label_is_a_breaking_change_until_the_annotations_change():
    annotations = [[box("Car")] for _ in range(4)] + [[box("Person")]]
    without_car = parse_label_config(DETECTION.replace('<Label value="Car" background="red"/>', ""))
    assert breaking_changes(without_car, result_usage(annotations)) == [
        "label 'Car' of control 'label' is used by 4 annotations"
    ]
    edited = [[box("Bicycle")] for _ in range(4)] + [[box("Person")]]
    assert breaking_changes(without_car, result_usage(edited)) == []


def test_removed_or_retyped_controls_and_relation_labels_are_breaking():
    annotations = [
        [box("Car"), {"type": "relation", "from_id": 1, "to_id": 2, "labels": ["knows"]}],
        [item("summary", "text", "textarea", {"text": ["x"]})],
    ]
    new = parse_label_config(
        '<View><Image name="image" value="$i"/><Text name="text" value="$t"/>'
        '<PolygonLabels name="label" toName="image"><Label value="Car"/></PolygonLabels></View>'
    )
    assert breaking_changes(new, result_usage(annotations)) == [
        "relation label 'knows' is used by 1 annotation",
        "control 'label' now makes 'polygonlabels' results; its 'rectanglelabels' results are used by 1 annotation",
        "control 'summary' (textarea) is used by 1 annotation but is not in the new config",
    ]
    assert breaking_changes(
        CONFIG, result_usage([[item("tax", "text", "taxonomy", {"taxonomy": [["Animals", "Fish"]]})]])
    ) == ["label 'Animals / Fish' of control 'tax' is used by 1 annotation"]


def test_unchanged_config_breaks_nothing():
    assert breaking_changes(CONFIG, result_usage([VALID_ITEMS])) == []


# --- properties ----------------------------------------------------------------------------------

label_text = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=12)
label_sets = st.lists(label_text, min_size=1, max_size=8, unique=True)


def choices_config(labels: list[str], choice: str = "multiple") -> LabelConfig:
    children = "".join(f"<Choice value={quoteattr(label)}/>" for label in labels)
    return parse_label_config(
        f'<View><Text name="t" value="$t"/><Choices name="c" toName="t" choice="{choice}">{children}</Choices></View>'
    )


@given(labels=label_sets, data=st.data())
def test_any_subset_of_configured_choices_validates(labels, data):
    config = choices_config(labels)
    assert config.controls["c"].labels == tuple(labels)
    picked = data.draw(st.lists(st.sampled_from(labels), min_size=1, unique=True))
    validate_result(config, [item("c", "t", "choices", {"choices": picked})])


@given(labels=label_sets, stranger=label_text)
def test_a_label_not_in_the_config_never_validates(labels, stranger):
    assume(stranger not in labels)
    config = choices_config(labels)
    result = [item("c", "t", "choices", {"choices": [*labels[:1], stranger]})]
    assert f"'{stranger}' is not a choice of control 'c'" in invalid(validate_result, config, result).message


@given(x=st.floats(-50, 150), y=st.floats(-50, 150), width=st.floats(0, 100), height=st.floats(0, 100))
def test_rectangles_validate_exactly_when_inside_the_image(x, y, width, height):
    config = parse_label_config(DETECTION)
    result = [
        box("Car") | {"value": {"x": x, "y": y, "width": width, "height": height, "rectanglelabels": ["Car"]}}
    ]
    inside = all(-PERCENT_TOLERANCE <= n <= 100 + PERCENT_TOLERANCE for n in (x, y))
    if inside:
        validate_result(config, result)
    else:
        assert "outside 0..100" in invalid(validate_result, config, result).message


XML_PIECES = [
    "<View>",
    "</View>",
    "<Text ",
    'name="t" ',
    'value="$t"',
    "/>",
    ">",
    "&",
    "<!DOCTYPE x>",
    "<Choices toName='t'>",
]


@given(st.text(max_size=200) | st.builds("".join, st.lists(st.sampled_from(XML_PIECES), max_size=20)))
def test_parsing_anything_either_succeeds_or_raises_invalid(xml):
    refusal = None
    try:
        parse_label_config(xml)
    except Invalid as error:
        refusal = error
    assert refusal is None or (refusal.field == "label_config" and refusal.message)


@given(labels=label_sets, data=st.data())
def test_a_config_never_breaks_its_own_results_and_dropping_a_used_label_always_does(labels, data):
    picked = data.draw(st.lists(st.sampled_from(labels), min_size=1, unique=True))
    usage = result_usage([[item("c", "t", "choices", {"choices": [label]})] for label in picked])
    assert breaking_changes(choices_config(labels), usage) == []
    dropped = data.draw(st.sampled_from(picked))
    lines = breaking_changes(choices_config([label for label in labels if label != dropped]), usage)
    assert lines == [f"label '{dropped}' of control 'c' is used by 1 annotation"]


def test_messages_quote_long_user_text_briefly():
    huge = "x" * 100_000
    message = invalid(validate_result, CONFIG, [region("sentiment", "choices", {"choices": [huge]})]).message
    assert len(message) < 300
    assert "'xxxxxxxx" in message
    assert "...'" in message
    config = f'<View><Text name="{huge}" value="$t"/><Choices name="c" toName="t"/></View>'
    assert len(invalid(parse_label_config, config).message) < 300


def test_image_value_list_reads_a_data_key():
    config = parse_label_config('<View><Image name="pages" valueList="$images"/></View>')
    assert config.data_keys == {"images"}


def test_parsed_configs_are_read_only():
    with pytest.raises(TypeError):
        CONFIG.controls["sentiment"].attrs["toName"] = "image"  # type: ignore[index]
    with pytest.raises(TypeError):
        CONFIG.controls["other"] = CONFIG.controls["sentiment"]  # type: ignore[index]
