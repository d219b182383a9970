"""Synthetic DICOM on one core: studies written per second (template writer against building and saving
the same datasets with pydicom and highdicom, in the same run), files traced per second (header reader
against pydicom's `dcmread(stop_before_pixels=True)`), studies sent per second over loopback to the
radsim archive running in another process, over one association (as a modality sends) and over four,
and, where DCMTK is installed, sending and receiving against DCMTK's storescu and storescp in the same
run (both sides with TCP_NODELAY), and send_folder and storescu against a storescp as it comes (Nagle on).

The studies are the reference centre's first day (64 x 64 images), written to a temporary folder.

    python benchmarks/bench_dicom.py [--studies 600] [--send 200] [--dcmtk-files 600]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

from simulator import load_scenario, run_scenario
from synthetic_dicom.generate import StudyWriter, encode_reference, file_name, records_from_run, study_datasets
from synthetic_dicom.network import send_folder
from synthetic_dicom.trace import folder_files, trace_folder


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def generate(records: list, folder: Path, reference: int) -> dict:
    """Studies per second of chest X-rays (DX, body part CHEST: fluorography and chest X-ray), CT and MG;
    for chest X-rays also through pydicom + highdicom."""
    out = {}
    writer = StudyWriter()
    kinds = {"chest_xray": lambda r: r.modality == "DX" and r.body_part == "CHEST",
             "CT": lambda r: r.modality == "CT", "MG": lambda r: r.modality == "MG"}
    for kind, wanted in kinds.items():
        chosen = [r for r in records if wanted(r)]
        for record in chosen[:3]:  # templates compiled before timing: a long run compiles each shape once
            writer.files(record)
        started = time.perf_counter()
        for record in chosen:
            writer.write(record, folder / kind)
        seconds = time.perf_counter() - started
        out[kind] = {"studies": len(chosen), "studies_per_s": per_second(len(chosen), seconds),
                         "scored": sum(r.ai_score is not None for r in chosen)}
    chest = [r for r in records if kinds["chest_xray"](r)][:reference]
    started, encoding = time.perf_counter(), 0.0
    for record in chest:
        target = folder.parent / "reference" / record.study_id
        target.mkdir(parents=True, exist_ok=True)
        begun = time.perf_counter()
        encoded = [(file_name(ds), encode_reference(ds)) for ds in study_datasets(record)]
        encoding += time.perf_counter() - begun
        for name, data in encoded:
            (target / name).write_bytes(data)
    seconds = time.perf_counter() - started
    out["chest_xray_pydicom_highdicom"] = {"studies": len(chest), "studies_per_s": per_second(len(chest), seconds),
                                           "encoded_per_s": per_second(len(chest), encoding)}
    out["chest_xray_speed_up"] = round(out["chest_xray"]["studies_per_s"] /
                                       out["chest_xray_pydicom_highdicom"]["studies_per_s"], 1)
    # The same without the file system (which, on a slow disk, is most of the template writer's time).
    chosen = [r for r in records if kinds["chest_xray"](r)]
    started = time.perf_counter()
    for record in chosen:
        writer.files(record)
    out["chest_xray"]["encoded_per_s"] = per_second(len(chosen), time.perf_counter() - started)
    out["chest_xray_encoding_speed_up"] = round(out["chest_xray"]["encoded_per_s"] /
                                                out["chest_xray_pydicom_highdicom"]["encoded_per_s"], 1)
    return out


def trace(folder: Path, rounds: int = 3) -> dict:
    """Files per second traced, and read by pydicom (a sample), alternating in `rounds`; medians."""
    files = folder_files(folder)
    sample = files[:: max(1, len(files) // 500)]
    ours, theirs = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        result = trace_folder(folder, files)
        ours.append(len(files) / (time.perf_counter() - started))
        started = time.perf_counter()
        for path in sample:
            pydicom.dcmread(path, stop_before_pixels=True)
        theirs.append(len(sample) / (time.perf_counter() - started))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    return {"files": len(files), "studies": result.studies.num_rows, "files_per_s": round(ours_median, 1),
            "rounds": [round(x) for x in ours], "pydicom_files_per_s": round(theirs_median, 1),
            "speed_up": round(ours_median / theirs_median, 1)}


def send(folder: Path, studies: int, archive: Path, associations: int) -> dict:
    chosen = sorted(p for p in folder.iterdir() if p.is_dir())[:studies]
    files = [f for study in chosen for f in folder_files(study)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "simulator", "dicom", "archive", "--port", str(port),
                               "--dir", str(archive)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # wait for the archive to listen
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        started = time.perf_counter()
        result = send_folder(files, "127.0.0.1", port, associations=associations)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"associations": associations, "studies": len(chosen), "files": len(files), "sent": result.sent,
            "failed": len(result.failed),
            "studies_per_s": per_second(len(chosen), seconds), "files_per_s": per_second(result.sent, seconds)}


def _listening(command: list[str], port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"{command[0]} did not listen on {port}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def against_dcmtk(folder: Path, count: int, tmp: Path) -> dict:
    """Image files (DX, CT, MG; storescu proposes no context for radsim's SR) sent storescu -> storescp,
    radsim send -> storescp (the whole command, and send_folder alone) and storescu -> radsim archive."""
    images = sorted(p for p in folder.rglob("*.dcm") if not p.name.startswith("SR"))[:count]
    batch = tmp / "dcmtk-batch"
    for path in images:
        target = batch / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    files = folder_files(batch)
    env = {**os.environ, "TCP_NODELAY": "1"}
    radsim = [sys.executable, "-m", "simulator", "dicom"]
    seconds = {}
    for name, receiver, sender in (
            ("storescu_to_storescp", ["storescp", "+xa", "-od"], ["storescu", "-aec", "ANY-SCP"]),
            ("radsim_send_to_storescp", ["storescp", "+xa", "-od"], [*radsim, "send", str(batch), "--called", "ANY-SCP"]),
            ("storescu_to_radsim_archive", [*radsim, "archive", "--dir"], ["storescu", "-aec", "RADSIM_ARCHIVE"])):
        out, port = tmp / name, _free_port()
        out.mkdir()
        command = [*receiver, str(out), str(port)] if receiver[0] == "storescp" else [*receiver, str(out), "--port", str(port)]
        server = _listening(command, port, env)
        try:
            if sender[0] == "storescu":
                seconds[name] = _timed([*sender, "127.0.0.1", str(port), *map(str, files)], env)
            else:
                seconds[name] = _timed([*sender, "--to", f"127.0.0.1:{port}"], env)
                started = time.perf_counter()  # and the sending alone, in this process
                result = send_folder(files, "127.0.0.1", port, called="ANY-SCP")
                seconds["radsim_send_folder_to_storescp"] = time.perf_counter() - started
                assert result.sent == len(files), (result.tally(), result.refused, result.aborts)
        finally:
            server.terminate()
            server.wait(timeout=10)
    # Against storescp as it comes (Nagle's algorithm on): what a user's PACS test meets.
    plain = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
    for name in ("storescu_to_default_storescp", "radsim_send_folder_to_default_storescp"):
        out, port = tmp / name, _free_port()
        out.mkdir()
        server = _listening(["storescp", "+xa", "-od", str(out), str(port)], port, plain)
        try:
            if name.startswith("storescu"):
                seconds[name] = _timed(["storescu", "-aec", "ANY-SCP", "127.0.0.1", str(port), *map(str, files)], plain)
            else:
                started = time.perf_counter()
                result = send_folder(files, "127.0.0.1", port, called="ANY-SCP")
                seconds[name] = time.perf_counter() - started
                assert result.sent == len(files), (result.tally(), result.refused, result.aborts)
        finally:
            server.terminate()
            server.wait(timeout=10)
    rates = {name: per_second(len(files), t) for name, t in seconds.items()}
    return {"files": len(files), "files_per_s": rates,
            "send_folder_vs_storescu_default_storescp": round(seconds["storescu_to_default_storescp"] /
                                                              seconds["radsim_send_folder_to_default_storescp"], 2),
            "send_vs_storescu": round(seconds["storescu_to_storescp"] / seconds["radsim_send_to_storescp"], 2),
            "send_folder_vs_storescu": round(seconds["storescu_to_storescp"] /
                                             seconds["radsim_send_folder_to_storescp"], 2),
            "archive_vs_storescp": round(seconds["storescu_to_storescp"] / seconds["storescu_to_radsim_archive"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=600, help="chest X-ray studies at least (a day has ~600)")
    parser.add_argument("--reference", type=int, default=60, help="chest X-rays through pydicom + highdicom")
    parser.add_argument("--send", type=int, default=200, help="studies sent over loopback")
    parser.add_argument("--dcmtk-files", type=int, default=600, help="image files sent against DCMTK")
    args = parser.parse_args()
    days = max(1.0, args.studies / 600)
    scenario = load_scenario("moscow_reference_center", [f"horizon_days={days}", "warmup_days=0"])
    records = list(records_from_run(run_scenario(scenario, 1, workers=1).studies, scenario))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "studies"
        report = {"cpu_count": os.cpu_count(), "generate": generate(records, folder, args.reference)}
        os.sync()
        report["trace_chest_xray"] = trace(folder / "chest_xray")
        report["trace_all_modalities"] = trace(folder)
        report["send_chest_xray"] = [send(folder / "chest_xray", args.send, Path(tmp) / f"archive{n}", n)
                                     for n in (1, 4)]
        if shutil.which("storescu") and shutil.which("storescp"):
            report["against_dcmtk"] = against_dcmtk(folder, args.dcmtk_files, Path(tmp))
        else:
            report["against_dcmtk"] = "DCMTK (storescu, storescp) not installed"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
