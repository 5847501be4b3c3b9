"""Forms of the audio pages; choices (voices, assets) are given by the view."""

from __future__ import annotations

from django import forms

from audio.providers.espeak import DEFAULT_PITCH, DEFAULT_RATE
from audio.services import MAX_SEED


class VoiceoverForm(forms.Form):
    script = forms.CharField(widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Write what the voice says…"}), max_length=5000)
    voice = forms.ChoiceField(choices=[])
    rate = forms.IntegerField(min_value=80, max_value=450, initial=DEFAULT_RATE, help_text="Words per minute")
    pitch = forms.IntegerField(min_value=0, max_value=100, initial=DEFAULT_PITCH)

    def __init__(self, *args, voices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voice"].choices = [(v.id, f"{v.name} ({v.language})") for v in voices]
        self.fields["voice"].initial = "en-us"


class MusicForm(forms.Form):
    mood = forms.IntegerField(min_value=0, max_value=100, initial=60,
                              widget=forms.NumberInput(attrs={"type": "range", "step": 1}),
                              help_text="Calm (0) to energetic (100)")
    duration = forms.FloatField(min_value=1, max_value=300, initial=15, help_text="Seconds")
    seed = forms.IntegerField(min_value=0, max_value=MAX_SEED, required=False, help_text="Same seed, same music")
    tempo = forms.FloatField(min_value=30, max_value=240, required=False, help_text="BPM (optional)")
    key = forms.CharField(max_length=20, required=False, help_text="e.g. A minor (optional)")


class TranscribeForm(forms.Form):
    asset = forms.ChoiceField(choices=[], label="Media")
    script = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="The words spoken, if you know them: captions will carry them exactly.")

    def __init__(self, *args, assets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].choices = [(a.pk, f"{a.display_name} ({a.kind})") for a in assets]
