"""Settings: units shown, sound on/off and volume, large text, the pain question. Saved in the config folder
(sensorapp/settings.py) when OK is pressed; Cancel or Esc changes nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from sensorapp.session.guided import Cue
from sensorapp.settings import UNIT_CHOICES, Settings

from . import theme
from .sound import CuePlayer

UNIT_WORDS = {"N": "newtons (N)", "kgf": "kilograms-force (kgf)", "lbf": "pounds-force (lbf)"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, player: CuePlayer | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.player = player
        self.units = QComboBox()
        for unit in UNIT_CHOICES:
            self.units.addItem(UNIT_WORDS[unit], unit)
        self.units.setCurrentIndex(max(0, self.units.findData(settings.units)))
        theme.accessible(self.units, "Force shown in", "Forces are always stored in newtons; this only changes what is shown")
        self.sound_on = QCheckBox("Sound cues (a tick each second of the hold, a tone at the target)")
        self.sound_on.setChecked(settings.sound_on)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setSingleStep(5)
        self.volume.setPageStep(10)
        self.volume.setValue(settings.volume_pct)
        self.volume.setMinimumWidth(220)
        self.volume_label = QLabel(f"{settings.volume_pct} %")
        self.volume_label.setMinimumWidth(self.volume_label.fontMetrics().horizontalAdvance("100 %") + 8)
        self.volume.valueChanged.connect(lambda v: self.volume_label.setText(f"{v} %"))
        theme.accessible(self.volume, "Volume", "0 to 100 percent; the arrow keys change it by 5")
        self.test_sound = QPushButton("Play the target tone")
        self.test_sound.clicked.connect(self._play_test)
        self.large_text = QCheckBox("Large text and high contrast")
        self.large_text.setChecked(settings.large_text)
        self.pain_prompts = QCheckBox("Ask about hip pain (0-10) before and after each session")
        self.pain_prompts.setChecked(settings.pain_prompts)
        form = QFormLayout()
        form.addRow("Force shown in", self.units)
        form.addRow("Sound", self.sound_on)
        volume_row = QHBoxLayout()
        volume_row.addWidget(self.volume, 1)
        volume_row.addWidget(self.volume_label)
        volume_row.addWidget(self.test_sound)
        form.addRow("Volume", volume_row)
        form.addRow("Text", self.large_text)
        form.addRow("Pain", self.pain_prompts)
        note = theme.named(QLabel("Forces are stored in newtons whatever is shown. Settings are kept in:\n" + str(settings.path or "memory only")), "muted")
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self.setTabOrder(self.units, self.sound_on)
        self.setTabOrder(self.sound_on, self.volume)
        self.setTabOrder(self.volume, self.test_sound)
        self.setTabOrder(self.test_sound, self.large_text)
        self.setTabOrder(self.large_text, self.pain_prompts)
        self.units.setFocus()
        theme.name_controls(self)

    def _play_test(self) -> None:
        if self.player is not None:
            old = (self.player.sound_on, self.player.volume_pct)
            self.player.set_preferences(True, self.volume.value())
            self.player.play(Cue.TARGET, force=True)
            self.player.set_preferences(*old)

    def apply_to(self, settings: Settings) -> bool:
        """Copy the dialog's choices into ``settings``; True if anything changed."""
        before = (settings.units, settings.sound_on, settings.volume_pct, settings.large_text, settings.pain_prompts)
        settings.units = str(self.units.currentData())
        settings.sound_on = self.sound_on.isChecked()
        settings.volume_pct = int(self.volume.value())
        settings.large_text = self.large_text.isChecked()
        settings.pain_prompts = self.pain_prompts.isChecked()
        return before != (settings.units, settings.sound_on, settings.volume_pct, settings.large_text, settings.pain_prompts)
