"""The figure of docs/dicom.md: generated studies as a viewer shows them, read back from the files, with
the AI result their structured reports carry.

    pip install -e ".[docs]"
    python docs/figures/dicom_studies.py         # writes docs/figures/dicom_studies.png
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pydicom  # noqa: E402

from simulator import load_scenario, run_scenario  # noqa: E402
from synthetic_dicom.generate import StudyWriter, records_from_run  # noqa: E402
from synthetic_dicom.trace import trace_folder  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    scenario = load_scenario("moscow_reference_center", ["horizon_days=2", "warmup_days=0"])
    records = list(records_from_run(run_scenario(scenario, 1, workers=1).studies, scenario))

    def first(modality: str, diseased: bool, scored: bool = True):
        return next(r for r in records if r.modality == modality and r.body_part in ("CHEST", "BREAST")
                    and r.diseased == diseased and (r.ai_score is not None) == scored)

    chosen = [("chest X-ray, healthy", first("DX", False)), ("chest X-ray, diseased", first("DX", True)),
              ("chest CT, diseased", first("CT", True)), ("mammography, diseased", first("MG", True))]
    with tempfile.TemporaryDirectory() as tmp:
        writer = StudyWriter(size=128)
        files = {r.study_id: [p for p in writer.write(r, Path(tmp)) if not p.name.startswith("SR")]
                 for _, r in chosen}
        traced = {row["study_id"]: row for row in trace_folder(Path(tmp)).studies.to_pylist()}
        rows = [(label, record, [pydicom.dcmread(p) for p in sorted(files[record.study_id])])
                for label, record in chosen]
        columns = 8
        figure, axes = plt.subplots(len(rows), columns, figsize=(columns * 1.3, len(rows) * 1.75))
        for axis_row, (label, record, images) in zip(axes, rows):
            row = traced[record.study_id]
            for k, axis in enumerate(axis_row):
                axis.axis("off")
                if k < len(images):
                    ds = images[k]
                    axis.imshow(ds.pixel_array, cmap="gray", vmin=0, vmax=2600)
                    side = ds.ImageLaterality if ds.Modality == "MG" else ""
                    axis.set_title(f"{side} {ds.get('ViewPosition', '')}".strip() or f"slice {ds.InstanceNumber}",
                                   fontsize=7, pad=2)
            axis_row[0].text(0, 1.22, f"{label}: AI score {row['ai_score']:.2f}, "
                             f"{'flagged' if row['ai_positive'] else 'not flagged'} ({row['modality']}, "
                             f"{row['site']}, {row['referral']})", transform=axis_row[0].transAxes, fontsize=8,
                             fontweight="bold")
        figure.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.02, wspace=0.08, hspace=0.55)
        figure.savefig(HERE / "dicom_studies.png", dpi=110)
    print(f"wrote {HERE / 'dicom_studies.png'}")


if __name__ == "__main__":
    main()
