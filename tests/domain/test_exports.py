"""Export writers on small tasks whose output is worked out by hand."""

import csv
import io
import json
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from app.domain.exports import export_context, writer_for
from app.domain.exports.json_tasks import min_values
from app.domain.label_config import parse_label_config

CONFIG = parse_label_config(
    """<View><Text name="text" value="$text"/>
    <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
    <Labels name="ner" toName="text"><Label value="PER"/></Labels></View>"""
)
CONTEXT = export_context(CONFIG, ["text", "extra"])
TASKS = [
    {
        "id": 1,
        "data": {"text": "John works", "extra": 7},
        "annotations": [
            {
                "id": 11,
                "completed_by": 3,
                "was_cancelled": False,
                "lead_time": 2.0,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:01Z",
                "result": [
                    {
                        "from_name": "sentiment",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["Pos"]},
                    },
                    {
                        "from_name": "ner",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 4, "text": "John", "labels": ["PER"]},
                    },
                ],
            },
            {"id": 12, "completed_by": 4, "was_cancelled": True, "result": []},
        ],
    },
    {"id": 2, "data": {"text": "Nothing"}, "annotations": []},
]


def run(kind, tasks=TASKS, *, one_by_one=False):
    writer = writer_for(kind, CONTEXT)
    written = b"".join(writer.write(t) for t in tasks) if one_by_one else writer.write_many(tasks)
    return writer.start() + written + writer.finish()


def test_json_is_the_tasks_as_given():
    assert json.loads(run("JSON")) == TASKS


def test_json_min_has_one_item_per_submitted_annotation():
    assert json.loads(run("JSON_MIN")) == [
        {
            "text": "John works",
            "extra": 7,
            "id": 1,
            "sentiment": "Pos",
            "ner": [{"start": 0, "end": 4, "text": "John", "labels": ["PER"]}],
            "annotator": 3,
            "annotation_id": 11,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:01Z",
            "lead_time": 2.0,
        }
    ]


def test_a_result_of_one_item_gives_its_control_one_value():
    choice = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Pos"]}}
    span = {"from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 4}}
    relation = {"type": "relation", "from_id": "a", "to_id": "b"}
    assert min_values([choice]) == {"sentiment": "Pos"}
    assert min_values([span]) == {"ner": [{"start": 0, "end": 4}]}
    assert min_values([relation]) == {}
    assert min_values([relation, choice]) == {"sentiment": "Pos"}


def test_csv_text_exactly():
    assert run("CSV").decode() == (
        "annotation_id,annotator,created_at,extra,id,lead_time,ner,sentiment,text,updated_at\n"
        '11,3,2026-01-01T00:00:00Z,7,1,2.0,"[{""start"":0,""end"":4,""text"":""John"",""labels"":[""PER""]}]",'
        "Pos,John works,2026-01-01T00:00:01Z\n"
    )


def test_tsv_uses_tabs_and_reads_back():
    rows = list(csv.DictReader(io.StringIO(run("TSV").decode()), delimiter="\t"))
    assert rows[0]["sentiment"] == "Pos"
    assert json.loads(rows[0]["ner"])[0]["labels"] == ["PER"]


def test_streaming_50k_tasks_keeps_memory_flat():
    def tasks():
        for i in range(50_000):
            yield {"id": i, "data": {"text": f"task {i}"}, "annotations": [TASKS[0]["annotations"][0]]}

    for kind in ("JSON", "CSV"):
        writer = writer_for(kind, CONTEXT)
        tracemalloc.start()
        size = len(writer.start())
        for task in tasks():
            size += len(writer.write(task))
        size += len(writer.finish())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert size > 2_500_000
        assert peak < 2_000_000, (kind, peak)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.lists(
        st.fixed_dictionaries({"id": st.integers(0, 2**53), "data": st.dictionaries(st.text(), json_values)})
    )
)
def test_json_writer_round_trips_any_tasks(tasks):
    assert json.loads(run("JSON", tasks)) == tasks


@given(st.sampled_from(["CSV", "TSV"]), st.lists(st.tuples(st.text(), st.text(), st.text()), max_size=5))
def test_table_cells_read_back_as_written(kind, texts):
    tasks = [
        {
            "id": i,
            "data": {"text": text, "extra": extra},
            "annotations": [{"id": i, "completed_by": annotator, "result": [], "was_cancelled": False}],
        }
        for i, (text, extra, annotator) in enumerate(texts)
    ]
    delimiter = "," if kind == "CSV" else "\t"
    written = run(kind, tasks)
    rows = list(csv.DictReader(io.StringIO(written.decode(), newline=""), delimiter=delimiter))
    assert [(r["text"], r["extra"], r["annotator"]) for r in rows] == texts
    assert written == run(kind, tasks, one_by_one=True)  # a batch is its tasks' lines, each quoted alone
