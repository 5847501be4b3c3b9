"""Short labels cut after a whole word, or mid-word for scripts written without spaces."""

import pytest

from mediastudio.lib.text import shorten


@pytest.mark.parametrize("text,width,expected", [
    ("Meet the new Aurora bottle. It keeps your coffee hot for twelve hours", 40, "Meet the new Aurora bottle. It keeps…"),
    ("Short  and\nsweet", 40, "Short and sweet"),
    ("保温ボトルは十二時間コーヒーを温かく保ちます。今すぐ注文してください", 12, "保温ボトルは十二時間コ…"),
    ("Supercalifragilisticexpialidocious launch", 10, "Supercali…"),
    ("Order now, today only", 10, "Order now…"),
    ("", 10, ""),
])
def test_it_shortens_a_label_at_a_word_boundary_when_one_fits(text, width, expected):
    assert shorten(text, width) == expected
    assert len(shorten(text, width)) <= width
