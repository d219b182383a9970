"""`radsim dicom generate | trace | send | echo | archive` (docs/dicom.md)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import BAD_INPUT, FAILED, INTERNAL, AllowCode, Progress, bad_input, err, fail, out, plain, prepared, styled

if TYPE_CHECKING:
    import ssl

app = typer.Typer(no_args_is_help=True, help="Synthetic DICOM studies from a run or a scenario; DICOM folders to "
                                             "study traces (to replay with run --trace); sending to an archive, and "
                                             "the archive. See docs/dicom.md.")
STUDIES = "dicom-studies"  # the kind of output folder `generate` writes


@app.callback()
def _needs_dicom() -> None:
    """Every dicom command needs the DICOM extra."""
    from simulator.extras import require

    with bad_input():
        require("dicom", "radsim dicom")


def _records_from_scenario(source: str, studies: int, seed: int | None) -> list:
    """The first `studies` image studies of a scenario's run, run just long enough to have them."""
    from simulator.experiment import run_scenario
    from synthetic_dicom.generate import records_from_run

    scenario = prepared(source)
    daily = sum(sum(map(sum, t.arrivals.hourly_rates())) / 7.0
                for t in scenario.study_types.values() if t.kind == "primary")
    if daily <= 0:
        fail(f"{source}: study_types: no primary study type has arrivals, so there are no studies to write", BAD_INPUT)
    days = min(3660.0, studies / daily * 1.2 + 1.0)
    from simulator.prepare import with_overrides

    with bad_input():
        resolved = with_overrides(scenario, [f"horizon_days={days!r}", "warmup_days=0"], expectations=False)
    run = run_scenario(resolved, 1, seed, workers=1)
    records = list(records_from_run(run.studies, resolved, studies))
    if len(records) < studies:
        err.print(f"{source}: only {len(records)} studies in {days:g} days; writing those")
    return records


@app.command("generate")
def generate(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A run folder (`radsim run --out`), its studies.parquet, or, with "
                                          "--studies, a scenario (YAML file or bundled name).")],
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder for the studies (one sub-folder per "
                                          "StudyInstanceUID); replaces only an earlier generated folder.")],
    studies: Annotated[Optional[int], typer.Option(metavar="N", min=1, max=1_000_000, help="From a scenario: this many studies, "
                                                   "the first of its run.")] = None,
    limit: Annotated[Optional[int], typer.Option(metavar="N", min=1, help="From a run: at most this many studies, in arrival "
                                                 "order.")] = None,
    seed: Annotated[Optional[int], typer.Option(metavar="S", min=0, help="From a scenario: root seed (default: the scenario's).")] = None,
    size: Annotated[int, typer.Option(metavar="PIXELS", min=16, max=1024, help="Image rows and columns.")] = 64,
    allow_code: AllowCode = None,
) -> None:
    """One DICOM Part-10 study per image study (StudyInstanceUID = study_id), with the AI result as a
    structured report where the AI scored it."""
    import pyarrow.parquet as pq

    from simulator.files import claim_directory, write_directory
    from synthetic_dicom.generate import StudyWriter, records_from_run

    with bad_input():
        claim_directory(out_dir, STUDIES)
    path = Path(source)
    if studies is not None:
        records = _records_from_scenario(source, studies, seed)
    else:
        table = path / "studies.parquet" if path.is_dir() else path
        scenario_file = table.parent / "scenario.yaml"
        if table.suffix != ".parquet" or not table.is_file() or not scenario_file.is_file():
            fail(f"{source}: not a run (needs studies.parquet with scenario.yaml beside it; see `radsim run`), "
                 "and no --studies N to generate from a scenario", BAD_INPUT)
        resolved = prepared(str(scenario_file))
        try:
            records = list(records_from_run(pq.read_table(table), resolved, limit))
        except (KeyError, ValueError, OSError) as exc:
            fail(f"{table}: not a studies table of radsim: {exc}", BAD_INPUT)
    writer, files = StudyWriter(size), 0

    def fill(folder: Path) -> None:
        nonlocal files
        with Progress("writing studies", total=len(records)) as progress:
            for done, record in enumerate(records, start=1):
                files += len(writer.write(record, folder))
                progress(done)

    started = time.perf_counter()
    with bad_input():
        write_directory(out_dir, STUDIES, fill)
    seconds = time.perf_counter() - started
    out.print(f"wrote {len(records)} studies ({files} files) under {out_dir}/ in {seconds:.1f} s", highlight=False)


def _is_trace(path: Path) -> bool:
    import pyarrow.parquet as pq

    return {"study_id", "arrived", "modality"} <= set(pq.read_schema(path).names)


def _is_quarantine(path: Path) -> bool:
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    return isinstance(data, list) and all(isinstance(d, dict) and "reason" in d for d in data)


def _concept(option: str, text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    scheme, _, value = text.partition(":")
    if not scheme.strip() or not value.strip():
        fail(f"{option} {text!r}: give SCHEME:CODE, the coding scheme designator and the code value "
             "(e.g. 99RADSIM:AI-PROB)", BAD_INPUT)
    return scheme.strip(), value.strip()


@app.command("trace")
def trace(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="A folder of DICOM files (searched recursively).")],
    out_file: Annotated[Path, typer.Option("--out", metavar="TRACE", help="The trace to write (Parquet; replaces only an earlier "
                                           "trace); the files left out are listed beside it in .quarantine.json.")],
    site_map: Annotated[Optional[Path], typer.Option(metavar="FILE", help="Station names, AE titles and institutions -> "
                                                     "scenario sites (YAML; docs/dicom.md).")] = None,
    ai_score: Annotated[Optional[str], typer.Option(metavar="SCHEME:CODE", help="The concept of the AI's probability in its "
                                                    "measurement reports (default radsim's, 99RADSIM:AI-PROB).")] = None,
    ai_flag: Annotated[Optional[str], typer.Option(metavar="SCHEME:CODE", help="The concept of the AI's flag (Yes/No) "
                                                   "(default 99RADSIM:AI-FLAG with radsim's score, else none).")] = None,
    hash_paths: Annotated[bool, typer.Option("--hash-paths", help="List left-out files by a hash of their path (real "
                                             "folder names may carry patient names).")] = False,
) -> None:
    """Read headers only; one row per imaging study (arrival, modality, body part, site, referral, AI score and flag); the rest listed with reasons."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulator.files import claim_file, write_file
    from synthetic_dicom.objects import RADSIM_AI, AiConcepts
    from synthetic_dicom.trace import folder_files, trace_folder

    if not folder.is_dir():
        fail(f"{folder}: no such folder", BAD_INPUT)
    concepts = RADSIM_AI
    if ai_score is not None or ai_flag is not None:
        concepts = AiConcepts(_concept("--ai-score", ai_score) or RADSIM_AI.probability,
                              _concept("--ai-flag", ai_flag) if ai_flag or ai_score is None else None)
    site_of = None
    if site_map is not None:
        from simulator.site_map import load_site_map

        with bad_input():
            site_of = load_site_map(site_map).site
    quarantine = out_file.with_suffix(".quarantine.json")
    with bad_input():
        claim_file(out_file, _is_trace)
        claim_file(quarantine, _is_quarantine)
    paths = folder_files(folder)
    with Progress("reading headers", total=len(paths)) as progress:
        result = trace_folder(folder, paths, progress=progress, ai=concepts, site_of=site_of, hash_paths=hash_paths)
    sink = pa.BufferOutputStream()
    pq.write_table(result.studies, sink)
    with bad_input():
        write_file(out_file, sink.getvalue().to_pybytes(), _is_trace)
        write_file(quarantine, json.dumps(result.quarantine, indent=1).encode(), _is_quarantine)
    out.print(f"wrote {out_file}: {result.studies.num_rows} studies from {len(paths) - len(result.quarantine)} of "
              f"{len(paths)} files", highlight=False)
    if result.quarantine:
        out.print(f"left out: {result.not_used()} (see {quarantine})", highlight=False)
    if result.studies.num_rows:  # enough to check the trace before replaying it
        out.print(result.summary(), highlight=False)


@app.command("send")
def send(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="A folder of DICOM files (searched recursively).")],
    to: Annotated[str, typer.Option("--to", metavar="HOST:PORT", help="The archive.")],
    called: Annotated[str, typer.Option(metavar="AE", help="The archive's AE title.")] = "RADSIM_ARCHIVE",
    ae_title: Annotated[str, typer.Option(metavar="AE", help="This sender's AE title.")] = "RADSIM_MODALITY",
    associations: Annotated[int, typer.Option(metavar="N", min=1, max=16, help="Parallel associations (a modality uses one; "
                                              "each study goes over one).")] = 1,
    retry_for: Annotated[float, typer.Option(metavar="SECONDS", min=0, max=3600, help="How long to keep asking a peer "
                                             "that went away mid-send (a restart) for a new association.")] = 60.0,
    tally: Annotated[Optional[Path], typer.Option(metavar="FILE", help="Keep the files the peer stored in FILE (JSON), "
                                                  "written when the send ends, also when it is stopped.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="With --tally: send only what FILE does not list as "
                                         "stored by this peer.")] = False,
    pace: Annotated[Optional[float], typer.Option(metavar="SPEED", min=0.0001, max=1e6, help="Replay the studies "
                                                  "in the order and at the times they were acquired, SPEED times "
                                                  "real time (1: the city's own rhythm; 60: an hour a minute).")] = None,
    tls: Tls = False,
    tls_ca: TlsCa = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """Send every file by C-STORE, as a modality would; connect again after an abort; exit 1 with a tally if any file was not stored."""
    from collections import Counter

    from synthetic_dicom.folders import folder_files
    from synthetic_dicom.network import PaceError, SendResult, echo, send_folder

    host, port = _peer(to, "--to", called, ae_title)
    context = _tls_client(tls, tls_cert, tls_key, tls_ca)
    if not folder.is_dir():
        fail(f"{folder}: no such folder", BAD_INPUT)
    if resume and tally is None:
        fail("--resume: give the --tally FILE of the send to resume", BAD_INPUT)
    peer = f"{called}@{host}:{port}"
    if tally is not None:  # checked before anything is sent: a tally that cannot be written is known now
        from simulator.files import claim_file

        with bad_input():
            claim_file(tally, _is_tally)
    before = _stored_before(tally, peer, folder) if resume else set()
    paths = [p for p in folder_files(folder) if str(p.relative_to(folder)) not in before]
    if resume:
        out.print(f"resuming: {len(before):,} file(s) stored before, {len(paths):,} to send", highlight=False)
    why = echo(host, port, called, ae_title, tls=context)
    if why is not None:  # said first, so that a failed send is not the first sign of a link that is down
        err.print(f"C-ECHO to {called} at {to}: {plain(why)}; sending all the same", highlight=False)
    started = time.perf_counter()
    result = SendResult()
    try:
        with Progress("sending", total=len(paths)) as progress:
            try:
                send_folder(paths, host, int(port), ae_title=ae_title, called=called, associations=associations,
                            progress=progress, retry_for=retry_for, result=result, pace=pace, tls=context)
            except ConnectionError as exc:
                fail(str(exc), INTERNAL)
            except PaceError as exc:
                fail(str(exc), BAD_INPUT)
    finally:  # also when stopped: what the peer stored is kept for --resume
        if tally is not None:
            _write_tally(tally, peer, folder, before | {str(Path(p).relative_to(folder)) for p in result.stored})
            from simulator.stopping import keep

            keep(f"the {len(result.stored):,} file(s) the peer stored are listed in {tally}: send again with --resume")
    seconds = time.perf_counter() - started
    out.print(f"{len(paths)} file(s) to {to} in {seconds:.1f} s: {result.tally()} "
              f"({result.sent / max(seconds, 1e-9):.0f} files/s)", highlight=False)
    if result.paced:
        out.print(_pace_line(result.paced, pace), highlight=False)
    for why, n in Counter(result.aborts).most_common(5):
        err.print(f"association {plain(why)}" + (f" (x{n})" if n > 1 else ""), highlight=False)
    for label, failures in (("refused", result.refused), ("unreadable", result.unreadable),
                            ("not attempted", result.not_attempted)):
        for path, reason in failures[:10]:
            err.print(styled(f"[bold red]{label}:[/] {plain(path)}: {plain(reason)}"))
        if len(failures) > 10:
            err.print(f"... and {len(failures) - 10} more {label}", highlight=False)
    raise typer.Exit(INTERNAL if result.failed else 0)


def _pace_line(paced: list[tuple[float, float]], pace: float | None) -> str:
    """Whether a paced send kept to its times: how late studies began after they were due."""
    late = sorted(max(began - due, 0.0) for due, began in paced)
    p95 = late[min(len(late) - 1, int(0.95 * len(late)))]
    span = max(due for due, _ in paced)
    verdict = "kept pace" if late[-1] < 1.0 else "fell behind at times (the peer, or this machine, is slower than the pace)"
    return (f"paced at {pace:g}x real time: {len(paced):,} studies over {span:.1f} s; {verdict}: begun late by "
            f"at most {late[-1]:.2f} s (95% within {p95:.2f} s)")


TALLY = "radsim dicom send tally"  # the file's own word that radsim wrote it


def _stored_before(tally: Path, peer: str, folder: Path) -> set[str]:
    """The files of `folder` a tally lists as stored by `peer` (relative paths); exit 2 naming the file when it
    is not a tally of this send."""
    import json

    if not tally.is_file():
        fail(f"{tally}: no such tally to resume (a first send writes it with --tally)", BAD_INPUT)
    try:
        data = json.loads(tally.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{tally}: not a tally of radsim dicom send: {exc}", BAD_INPUT)
    if not isinstance(data, dict) or data.get("kind") != TALLY or not isinstance(data.get("stored"), list):
        fail(f"{tally}: not a tally of radsim dicom send", BAD_INPUT)
    if data.get("peer") != peer or data.get("folder") != str(folder.resolve()):
        fail(f"{tally}: the tally of a send of {data.get('folder')} to {data.get('peer')}, not of {folder} to {peer}",
             BAD_INPUT)
    return {str(p) for p in data["stored"]}


def _write_tally(tally: Path, peer: str, folder: Path, stored: set[str]) -> None:
    import json

    from simulator.files import write_file

    document = {"kind": TALLY, "peer": peer, "folder": str(folder.resolve()), "stored": sorted(stored)}
    with bad_input():
        write_file(tally, json.dumps(document, indent=1).encode(), _is_tally)


def _is_tally(path: Path) -> bool:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8")).get("kind") == TALLY
    except (OSError, ValueError, AttributeError):
        return False


TlsCert = Annotated[Optional[Path], typer.Option("--tls-cert", metavar="PEM", help="This side's certificate (PEM) "
                                                 "for DICOM over TLS.")]
TlsKey = Annotated[Optional[Path], typer.Option("--tls-key", metavar="PEM", help="The private key of --tls-cert "
                                                "(PEM, unencrypted).")]
TlsCa = Annotated[Optional[Path], typer.Option("--tls-ca", metavar="PEM", help="The CA (PEM) the other side's "
                                               "certificate must be signed by.")]
Tls = Annotated[bool, typer.Option("--tls", help="Connect over TLS, the peer's certificate checked against "
                                   "--tls-ca (else this system's trusted CAs) and its host name.")]


def _tls_client(tls: bool, cert: Path | None, key: Path | None, ca: Path | None) -> "ssl.SSLContext | None":
    """A sender's TLS context when any TLS option is given; exit 2 naming a file that cannot be used."""
    if not (tls or cert or key or ca):
        return None
    from synthetic_dicom.tls import TlsFiles

    with bad_input():
        return TlsFiles(cert, key, ca).client_context()


@app.command("echo")
def echo_command(
    to: Annotated[str, typer.Argument(metavar="HOST:PORT", help="The peer: an archive, a PACS, an AI node.")],
    called: Annotated[str, typer.Option(metavar="AE", help="The peer's AE title.")] = "RADSIM_ARCHIVE",
    ae_title: Annotated[str, typer.Option(metavar="AE", help="This end's AE title.")] = "RADSIM_MODALITY",
    tls: Tls = False,
    tls_ca: TlsCa = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
) -> None:
    """C-ECHO (DICOM's ping): exit 0 when the peer answers Success, 3 with the reason when it does not."""
    from synthetic_dicom.network import echo

    host, port = _peer(to, "HOST:PORT", called, ae_title)
    context = _tls_client(tls, tls_cert, tls_key, tls_ca)
    started = time.perf_counter()
    why = echo(host, port, called, ae_title, tls=context)
    if why is not None:
        fail(f"C-ECHO to {called} at {to}: {why}", FAILED)
    out.print(f"C-ECHO to {called} at {to}: Success in {(time.perf_counter() - started) * 1000:.0f} ms",
              highlight=False)


def _peer(to: str, option: str, called: str, ae_title: str) -> tuple[str, int]:
    """HOST and PORT of `to`, with both AE titles checked; exit 2 naming the option otherwise."""
    host, _, port = to.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        fail(f"{option} {to!r}: give HOST:PORT", BAD_INPUT)
    _check_ae("--called", called)
    _check_ae("--ae-title", ae_title)
    return host, int(port)


def _check_ae(option: str, title: str) -> None:
    if not 0 < len(title.strip()) <= 16 or not title.isascii() or "\\" in title:
        fail(f"{option} {title!r}: an AE title is 1 to 16 ASCII characters", BAD_INPUT)


@app.command("archive")
def archive(
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port to listen on.")] = 11112,
    dir_: Annotated[Path, typer.Option("--dir", metavar="DIR", help="Where received studies are filed.")] = Path("out/archive"),
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    ae_title: Annotated[str, typer.Option(metavar="AE", help="The archive's AE title.")] = "RADSIM_ARCHIVE",
    require_called_ae: Annotated[bool, typer.Option("--require-called-ae", help="Refuse associations addressed to "
                                                    "another AE title.")] = False,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: Annotated[Optional[Path], typer.Option("--tls-ca", metavar="PEM", help="Admit only peers showing a "
                                                   "certificate this CA (PEM) signed (mutual TLS).")] = None,
) -> None:
    """A receiving archive (C-STORE SCP) filing each object as received under DIR/<StudyInstanceUID>/ (Ctrl-C stops it)."""
    import threading

    from simulator.stopping import stop_on_sigterm
    from synthetic_dicom.network import Archive

    _check_ae("--ae-title", ae_title)
    context = None
    if tls_cert or tls_key or tls_ca:
        from synthetic_dicom.tls import TlsFiles

        with bad_input():
            context = TlsFiles(tls_cert, tls_key, tls_ca).server_context()
    server = Archive(dir_, port, host, ae_title=ae_title, require_called_ae=require_called_ae,
                     log=lambda message: err.print(plain(message), highlight=False), tls=context)
    try:
        server.start()
    except OSError as exc:  # the port is taken, or not ours to listen on
        fail(f"cannot listen on {host}:{port}: {exc}", INTERNAL)
    over = "" if context is None else " over TLS" + (" (peers' certificates required)" if tls_ca else "")
    out.print(f"archive {ae_title} listening on {host}:{port}{over}, filing into {dir_}/ (Ctrl-C to stop)",
              highlight=False)
    stop_on_sigterm()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    counts = server.counts
    out.print(f"archive stopped: {counts['filed']} object(s) filed under {dir_}/"
              + (f", {counts['again']} sent again (filed once)" if counts["again"] else "")
              + (f", {counts['renamed']} under a hash of a UID that was not one" if counts["renamed"] else "")
              + (f", {counts['refused']} refused" if counts["refused"] else ""), highlight=False)
