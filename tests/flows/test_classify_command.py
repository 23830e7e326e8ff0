import json

from flows.commands.classify import classify_lines
from tests.doubles import ScriptedPredictor


def test_one_output_line_per_input_in_order_with_errors_in_place() -> None:
    lines = [
        b'{"id": "a", "text": "Ronin bridge hack drains ETH"}\n',
        b"not json\n",
        b'{"id": 7, "text": "SEC sues exchange", "source": "sec.gov",'
        b' "published_at": "2023-06-05"}\n',
        b'{"id": "empty", "text": "  "}\n',
        b'{"text": "no id"}\n',
        b"\n",
        b'{"id": "c", "text": "Binance lists PEPE"}\n',
    ]
    predictor = ScriptedPredictor()
    out = [json.loads(x) for x in classify_lines(lines, predictor, batch_size=2)]
    assert [o.get("id") for o in out] == ["a", None, 7, "empty", None, "c"]
    assert out[0]["event_type"] == "HACK" and out[0]["assets"] == ["ETH"]
    assert out[0]["sentiment"] == "negative" and out[0]["model_version"] == "scripted-1"
    assert out[2]["event_type"] == "REGULATION"
    assert out[5]["event_type"] == "LISTING"
    assert "invalid input line" in out[1]["error"]
    assert out[3]["error"] == "empty text"
    assert set(out[0]) == {
        "id",
        "event_type",
        "sentiment",
        "assets",
        "confidence",
        "sentiment_confidence",
        "entities",
        "model_version",
    }
