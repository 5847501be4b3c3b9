import pytest

from audio.text import LanguageMismatch, check_language, chunk_text, detect_language, script_words, split_sentences


def test_it_splits_sentences_keeping_punctuation():
    text = 'Hello there. "Quoted!" Is it? Yes… 你好。再见！'
    assert split_sentences(text) == ["Hello there.", '"Quoted!"', "Is it?", "Yes…", "你好。", "再见！"]


def test_it_chunks_whole_sentences_under_the_limit():
    text = " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = chunk_text(text, max_chars=80)
    assert all(len(c) <= 80 for c in chunks)
    assert " ".join(chunks) == text
    assert all(c.endswith(".") for c in chunks)


def test_it_breaks_an_overlong_sentence_at_commas_then_words():
    sentence = "one two three, " * 10 + "end."
    chunks = chunk_text(sentence, max_chars=40)
    assert all(len(c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == sentence.split()


def test_it_keeps_script_words_exactly():
    words = script_words("Tap once, twice — and hold!")
    assert [w.text for w in words] == ["Tap", "once,", "twice", "—", "and", "hold!"]
    assert words[1].start_char == 4 and words[1].end_char == 9


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The lamp is warm and it fills the room with light.", "en"),
        ("La lampe est chaude et elle remplit la pièce de lumière pour vous.", "fr"),
        ("Die Lampe ist warm und sie füllt den Raum mit Licht für dich.", "de"),
        ("这是一个温暖的灯。", "zh"),
        ("Это тёплая лампа.", None),
    ],
)
def test_it_detects_obvious_languages(text, language):
    assert detect_language(text)[0] == language


def test_it_refuses_chinese_text_on_an_english_voice():
    with pytest.raises(LanguageMismatch, match="han"):
        check_language("这是一个温暖的灯。", language="en-us")


def test_it_refuses_french_text_on_an_english_voice_but_accepts_unsure_text():
    with pytest.raises(LanguageMismatch):
        check_language("La lampe est chaude et elle remplit la pièce de lumière pour vous.", language="en")
    check_language("Aurora. Lisbon. Today.", language="en")  # no stop-words: unsure, never refused
    check_language("Это тёплая лампа.", language="ru")
